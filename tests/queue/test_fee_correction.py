"""A handler sees and corrects the amount a reporter was asked to pay: on the case page (form) and through
the API; every change is audited with before/after and is on the timeline; triage never overwrites it."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.reports.models import Report, ReportEvent
from service.triage.service import apply_triage, suggest_fee
from tests.support.review import bearer, csrf_of, sign_in


def _report(engine, case_id: int) -> Report:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.get_one(Report, case_id)


def _audit(engine) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "case.fee_correct")
                           .order_by(col(AuditEvent.id))).all())


def test_triage_suggests_the_amount_on_a_financial_report_only(world, engine) -> None:  # type: ignore[no-untyped-def]
    case = world.cases["a"]  # financial_hardship
    with Session(engine) as s:
        report = s.get_one(Report, case.id)
        found = suggest_fee(s, report, "they asked me for 20,000 riel at the gate")
        assert found is not None
        report.category = "stigma_discrimination"
        assert suggest_fee(s, report, "$5") is None, "another category: no amount"
        report.category = "financial_hardship"
        s.commit()
    report = _report(engine, case.id)
    assert (report.fee_cents, report.fee_currency, report.fee_source) == (2_000_000, "KHR", "extracted")
    assert report.fee_reasons == [{"kind": "amount", "rule": "amount/KHR", "value": "20000", "currency": "KHR",
                                   "words": ["20,000", "riel"], "languages": ["en"]}]


def test_handler_corrects_through_the_form_and_the_api(app, world, engine) -> None:  # type: ignore[no-untyped-def]
    case = world.cases["a"]
    with Session(engine) as s:
        suggest_fee(s, s.get_one(Report, case.id), "they asked me for 20,000 riel at the gate")
        s.commit()
    sign_in(app, "handler@a.test")
    page = app.get(f"/cases/{case.id}").text
    assert "20,000 riel" in page and "read from the report" in page and 'id="fee-form"' in page
    form = {"csrf_token": csrf_of(page), "amount": "15,000", "currency": "KHR"}
    assert app.post(f"/cases/{case.id}/fee", data=form, follow_redirects=False).status_code == 303
    report = _report(engine, case.id)
    assert (report.fee_cents, report.fee_currency, report.fee_source) == (1_500_000, "KHR", "handler")
    [entry] = _audit(engine)
    assert entry.actor == "handler@a.test" and entry.object_id == str(case.id)
    assert entry.detail == {"before": {"cents": 2_000_000, "currency": "KHR", "source": "extracted"},
                            "after": {"cents": 1_500_000, "currency": "KHR", "source": "handler"}}
    page = app.get(f"/cases/{case.id}").text
    assert "15,000 riel" in page and "set by a case handler" in page
    assert "20,000 riel → 15,000 riel" in page, "the timeline says from what to what"

    # Refused: no CSRF token, a bad amount, an unknown currency (the case page again, nothing changed).
    assert app.post(f"/cases/{case.id}/fee", data={"amount": "5", "currency": "USD"},
                    follow_redirects=False).status_code in (400, 403)
    bad = app.post(f"/cases/{case.id}/fee", data={"csrf_token": csrf_of(page), "amount": "five-ish",
                                                  "currency": "USD"}, follow_redirects=False)
    assert bad.status_code == 409 and "write the amount as a number" in bad.text
    headers = bearer(app, "handler@a.test")
    assert app.post(f"/api/v1/cases/{case.id}/fee", json={"amount": "5", "currency": "EUR"},
                    headers=headers).status_code == 422
    assert app.post(f"/api/v1/cases/{case.id}/fee", json={"amount": "-5", "currency": "USD"},
                    headers=headers).status_code == 422
    assert len(_audit(engine)) == 1

    # The API: the amount is in the case, and set or removed.
    assert app.get(f"/api/v1/cases/{case.id}", headers=headers).json()["fee_amount"] == "15000"
    assert app.post(f"/api/v1/cases/{case.id}/fee", json={"amount": "2.50", "currency": "USD"},
                    headers=headers).status_code == 200
    detail = app.get(f"/api/v1/cases/{case.id}", headers=headers).json()
    assert (detail["fee_amount"], detail["fee_currency"], detail["fee_source"]) == ("2.5", "USD", "handler")
    assert app.post(f"/api/v1/cases/{case.id}/fee", json={"amount": "", "currency": "USD"},
                    headers=headers).status_code == 200
    assert _report(engine, case.id).fee_cents is None
    assert len(_audit(engine)) == 3
    with Session(engine) as s:
        kinds = [e.kind for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == case.id)).all()]
    assert kinds.count("fee") == 4

    # Triage again (a reporter added words): the handler's amount stays.
    assert app.post(f"/api/v1/cases/{case.id}/fee", json={"amount": "7", "currency": "USD"},
                    headers=headers).status_code == 200
    with Session(engine) as s:
        report = s.get_one(Report, case.id)
        apply_triage(s, report, "they asked me for 20,000 riel at the gate")
        s.commit()
    assert (_report(engine, case.id).fee_cents, _report(engine, case.id).fee_currency) == (700, "USD")


def test_a_handler_outside_the_organisation_cannot_correct(app, world, engine) -> None:  # type: ignore[no-untyped-def]
    case = world.cases["a"]
    headers = bearer(app, "handler@b.test")
    response = app.post(f"/api/v1/cases/{case.id}/fee", json={"amount": "5", "currency": "USD"}, headers=headers)
    assert response.status_code == 404
    assert _report(engine, case.id).fee_cents is None and _audit(engine) == []
