"""A handler sets the documentation codes (perpetrator type, violation type) on the case page and through
the case API: audited with before and after, on the timeline, shown in the page's language; bad values
refused without a change; triage's later suggestions never overwrite them."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.reports.models import Report, ReportEvent
from service.triage.service import apply_triage, suggest_codes
from tests.support.review import bearer, csrf_of, sign_in


def _report(engine, case_id: int) -> Report:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.get_one(Report, case_id)


def _audit(engine) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "case.codes_set")
                           .order_by(col(AuditEvent.id))).all())


def _codes(report: Report) -> tuple:
    return (report.perpetrator_type, report.perpetrator_source, report.violation_type, report.violation_source)


def test_handler_sets_the_codes_on_the_case_page(app, world, engine) -> None:  # type: ignore[no-untyped-def]
    case = world.cases["a"]
    with Session(engine) as s:
        report = s.get_one(Report, case.id)
        report.category = "human_rights_violation"
        suggest_codes(s, report, "the police arrested me and took my condoms")
        s.commit()
    sign_in(app, "handler@a.test")
    page = app.get(f"/cases/{case.id}").text
    assert 'id="codes-form"' in page and "suggested by automatic sorting" in page
    assert "Suggested from the words ‘police’: police" in page and "‘arrest…’" in page
    form = {"csrf_token": csrf_of(page), "perpetrator_type": "police", "violation_type": "confiscation"}
    assert app.post(f"/cases/{case.id}/codes", data=form, follow_redirects=False).status_code == 303
    assert _codes(_report(engine, case.id)) == ("police", "handler", "confiscation", "handler")
    [entry] = _audit(engine)
    assert entry.actor == "handler@a.test" and entry.object_id == str(case.id)
    assert entry.detail == {
        "before": {"perpetrator_type": "police", "perpetrator_source": "triage",
                   "violation_type": "arbitrary_detention", "violation_source": "triage"},
        "after": {"perpetrator_type": "police", "perpetrator_source": "handler",
                  "violation_type": "confiscation", "violation_source": "handler"},
    }
    page = app.get(f"/cases/{case.id}").text
    assert 'id="code-reasons"' not in page, "the handler's codes are no suggestions: no words shown for them"
    assert "arbitrary arrest or detention → confiscation (condoms, needles, documents) (set by a case handler)" in page
    km = app.get(f"/cases/{case.id}?lang=km").text
    assert "កូដកត់ត្រាការរំលោភសិទ្ធិ" in km and "ការរឹបអូស" in km
    section = re.sub(r"<[^>]*>", " ", km.split('id="codes"')[1].split("</section>")[0])
    assert re.findall(r"[A-Za-z]{3,}", section) == [], "no English left in the Khmer card"
    pt = app.get(f"/cases/{case.id}?lang=pt").text
    assert "Códigos de documentação" in pt and "confisco (preservativos, seringas, documentos)" in pt

    # The same form again: no change, no audit entry.
    assert app.post(f"/cases/{case.id}/codes", data=form, follow_redirects=False).status_code == 303
    assert len(_audit(engine)) == 1
    # Refused: no CSRF token; an unknown code (the case page again, nothing changed).
    assert app.post(f"/cases/{case.id}/codes", data={"perpetrator_type": "army"},
                    follow_redirects=False).status_code in (400, 403)
    bad = app.post(f"/cases/{case.id}/codes", data={**form, "perpetrator_type": "army"}, follow_redirects=False)
    assert bad.status_code == 409 and "unknown perpetrator type" in bad.text
    assert len(_audit(engine)) == 1 and _codes(_report(engine, case.id))[0] == "police"


def test_handler_sets_and_clears_the_codes_through_the_api(app, world, engine) -> None:  # type: ignore[no-untyped-def]
    case = world.cases["a"]
    headers = bearer(app, "handler@a.test")
    detail = app.get(f"/api/v1/cases/{case.id}", headers=headers).json()
    assert (detail["perpetrator_type"], detail["violation_type"]) == (None, None)
    assert app.post(f"/api/v1/cases/{case.id}/codes", json={"violation_type": "extortion"},
                    headers=headers).status_code == 200
    detail = app.get(f"/api/v1/cases/{case.id}", headers=headers).json()
    assert (detail["perpetrator_type"], detail["perpetrator_source"]) == (None, None), "left out: unchanged"
    assert (detail["violation_type"], detail["violation_source"]) == ("extortion", "handler")
    # Bad values: 422, nothing changed.
    for body in ({"violation_type": "murder"}, {"perpetrator_type": 5}, {"colour": "red"}):
        assert app.post(f"/api/v1/cases/{case.id}/codes", json=body, headers=headers).status_code == 422
    assert len(_audit(engine)) == 1
    # "" is none: the handler removes the code; triage does not bring it back.
    assert app.post(f"/api/v1/cases/{case.id}/codes", json={"violation_type": "", "perpetrator_type": "police"},
                    headers=headers).status_code == 200
    assert _codes(_report(engine, case.id)) == ("police", "handler", None, "handler")
    with Session(engine) as s:
        report = s.get_one(Report, case.id)
        report.category = "human_rights_violation"
        apply_triage(s, report, "my boss beat me and threatened me")
        s.commit()
    assert _codes(_report(engine, case.id)) == ("police", "handler", None, "handler")
    assert len(_audit(engine)) == 2
    with Session(engine) as s:
        events = s.exec(select(ReportEvent).where(ReportEvent.report_id == case.id, ReportEvent.kind == "codes")
                        .order_by(col(ReportEvent.id))).all()
    assert [e.actor for e in events] == ["handler@a.test", "handler@a.test"]
    assert events[-1].detail["to"] == {"perpetrator_type": "police", "perpetrator_source": "handler",
                                       "violation_type": None, "violation_source": "handler"}


def test_a_handler_outside_the_organisation_cannot_set_codes(app, world, engine) -> None:  # type: ignore[no-untyped-def]
    case = world.cases["a"]
    headers = bearer(app, "handler@b.test")
    response = app.post(f"/api/v1/cases/{case.id}/codes", json={"perpetrator_type": "police"}, headers=headers)
    assert response.status_code == 404
    assert _codes(_report(engine, case.id)) == (None, None, None, None) and _audit(engine) == []


def test_correcting_the_category_to_a_rights_violation_suggests_codes(app, world, engine) -> None:  # type: ignore[no-untyped-def]
    case = world.cases["a"]  # "Org A case: nurse asked for money", financial hardship: no codes
    headers = bearer(app, "handler@a.test")
    assert _codes(_report(engine, case.id)) == (None, None, None, None)
    assert app.post(f"/api/v1/cases/{case.id}/triage", json={"category": "human_rights_violation", "urgency": "normal"},
                    headers=headers).status_code == 200
    assert _codes(_report(engine, case.id)) == ("health_worker", "triage", "extortion", "triage")
    assert _audit(engine) == [], "a suggestion is no handler's code"
