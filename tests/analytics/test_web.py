"""The supervisor analytics routes behind the web sign-in: access matrix, suppression, formats, quotes,
and the escalation body metrics on the dashboard."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from service.analytics import escalations as esc_metrics, queries as q
from service.analytics.models import ApprovedQuote
from service.audit.models import AuditEvent
from service.escalation import service as escalation
from service.kit.clock import now
from service.orgs.models import Organisation
from service.orgs.service import create_user
from service.reports.models import Report
from tests.escalation.conftest import seeded  # noqa: F401  (fixture: demo orgs, bodies and rules)
from tests.escalation.factories import make_case
from tests.support.factories import make_report, place
from tests.support.review import PASSWORD, csrf_of, sign_in

SECRET_A = "Org A analytics story about the pharmacy"
SECRET_B = "Org B analytics story about the clinic"
WHO = {"signed_out": None, "handler": "handler@a.test", "supervisor": "supervisor@a.test", "admin": "admin@a.test",
       "platform": "root@platform.test", "other_org_supervisor": "supervisor@b.test"}


@pytest.fixture
def data(engine, places, world):  # type: ignore[no-untyped-def]
    """Org A: 15 reports in KH-12 and 4 in KH-7 (a small count); org B: 12 in KH-7."""
    at = now() - timedelta(minutes=5)
    with Session(engine) as s:
        for i in range(15):
            make_report(s, org_id=world.orgs["a"], place_id=place(s, "KH-12").id, category="stigma_discrimination",
                        at=at, narrative=f"{SECRET_A} {i}")
        for _ in range(4):
            make_report(s, org_id=world.orgs["a"], place_id=place(s, "KH-7").id, category="financial_hardship",
                        at=at, narrative=SECRET_A)
        for _ in range(12):
            make_report(s, org_id=world.orgs["b"], place_id=place(s, "KH-7").id, category="service_quality",
                        at=at, narrative=SECRET_B)
        s.commit()
    return world


def _as(app, who: str) -> None:  # type: ignore[no-untyped-def]
    app.cookies.clear()
    if WHO[who] is not None:
        assert sign_in(app, WHO[who]).status_code == 303


# Expected status per route and user: pages redirect a signed-out visitor to the sign-in page (/),
# downloads answer 401; a role without access gets 403.
MATRIX = {
    "/dashboard": {"signed_out": 303, "handler": 403, "supervisor": 200, "admin": 200, "platform": 200,
                   "other_org_supervisor": 200},
    "/scorecards/KH-12": {"signed_out": 303, "handler": 200, "supervisor": 200, "admin": 200, "platform": 200,
                          "other_org_supervisor": 200},
    "/exports/aggregates.csv": {"signed_out": 401, "handler": 200, "supervisor": 200, "admin": 200,
                                "platform": 200, "other_org_supervisor": 200},
    "/exports/aggregates.xlsx": {"signed_out": 401, "handler": 200, "supervisor": 200, "admin": 200,
                                 "platform": 200, "other_org_supervisor": 200},
    "/exports/cases.csv": {"signed_out": 401, "handler": 403, "supervisor": 200, "admin": 200, "platform": 200,
                           "other_org_supervisor": 200},
    "/exports/cases.xlsx": {"signed_out": 401, "handler": 403, "supervisor": 200, "admin": 200, "platform": 200,
                            "other_org_supervisor": 200},
    # The PDF's success case is printed by Chromium in test_quarterly_pdf (slow); here only refusals.
    "/reports/quarterly/2026Q3.pdf": {"signed_out": 401, "handler": 403},
}
CASES = [(path, who, status) for path, row in MATRIX.items() for who, status in row.items()]


@pytest.mark.parametrize("path,who,status", CASES, ids=[f"{p}-{w}" for p, w, _ in CASES])
def test_access_matrix(app, data, path: str, who: str, status: int) -> None:  # type: ignore[no-untyped-def]
    _as(app, who)
    response = app.get(path, follow_redirects=False)
    assert response.status_code == status, response.text[:300]
    if status == 303:
        assert response.headers["location"] == "/"
    if status == 200 and path.endswith(".csv"):
        text = response.content.decode("utf-8-sig")
        if "cases" in path:
            # Scoped to the organisation; a platform admin sees everyone.
            assert (SECRET_A in text) == (who in ("supervisor", "admin", "platform"))
            assert (SECRET_B in text) == (who in ("other_org_supervisor", "platform"))


def _drilldown(html: str) -> str:
    found = re.search(r'<table id="drilldown">(.*?)</table>', html, re.S)
    assert found
    return found.group(1)


def test_dashboard_is_scoped_to_the_organisation(app, data) -> None:  # type: ignore[no-untyped-def]
    _as(app, "supervisor")
    page = app.get("/dashboard")
    assert page.headers["cache-control"] == "no-store" and "script-src" not in page.headers["content-security-policy"]
    table = _drilldown(page.text)
    assert 'href="/scorecards/KH-12?lang=en"' in table and 'href="/reports/quarterly/' in page.text
    assert 'href="/exports/cases.csv"' in page.text
    # Org A: 15 + 4 reports; its 4 in KH-7 are shown raw (the dashboard never leaves the platform).
    assert "<td>15</td>" in table and "<td>4</td>" in table and "<td>12</td>" not in table
    _as(app, "other_org_supervisor")
    table = _drilldown(app.get("/dashboard").text)
    assert "<td>12</td>" in table and "<td>15</td>" not in table
    _as(app, "platform")
    table = _drilldown(app.get("/dashboard").text)
    assert "<td>15</td>" in table and "<td>16</td>" in table  # KH-7: 4 of A + 12 of B
    # Khmer, drill-down and bad parameters
    _as(app, "supervisor")
    assert 'lang="km"' in app.get("/dashboard?lang=km").text
    with Session(app.app.state.engine) as s:
        kh12 = place(s, "KH-12").id
    assert app.get(f"/dashboard?place={kh12}").status_code == 200
    assert app.get("/dashboard?place=999999").status_code == 404
    assert app.get("/dashboard?period=year").status_code == 400
    assert app.get("/dashboard?since=yesterday").status_code == 400


def test_scorecard_scoped_suppressed_and_printable(app, data) -> None:  # type: ignore[no-untyped-def]
    _as(app, "supervisor")
    card = app.get("/scorecards/KH-7")
    assert card.status_code == 200
    assert "@page" in card.text and "A4" in card.text
    # Org A has 4 reports in KH-7: never printed as 4 on a scorecard.
    assert "<10" in card.text or "&lt;10" in card.text
    assert not re.search(r"<td>\s*4\s*</td>", card.text)
    _as(app, "other_org_supervisor")
    card = app.get("/scorecards/KH-7")
    assert re.search(r"<td>\s*12\s*</td>", card.text)  # org B's own 12
    assert app.get("/scorecards/NO-SUCH-PLACE").status_code == 404
    assert app.get("/scorecards/KH-7?until=2001-01-01").status_code == 400


def _digits(cells: list[object]) -> list[int]:
    out = []
    for c in cells:
        if isinstance(c, int) or (isinstance(c, str) and c.isdigit()):
            out.append(int(c))
    return out


def test_aggregate_csv_is_suppressed_and_audited(app, data, engine) -> None:  # type: ignore[no-untyped-def]
    _as(app, "handler")
    response = app.get("/exports/aggregates.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    cells = [c for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))) for c in row]
    numbers = _digits(cells)
    assert 15 in numbers and 21 in numbers  # org A's 19 + the world's 2 cases: published …
    assert [n for n in numbers if 1 <= n <= 9] == []  # … and no count from 1 to 9 is visible
    assert "<10" in cells
    with Session(engine) as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "export.aggregate")).all()
    assert [(a.actor, a.detail["format"]) for a in audit] == [("handler@a.test", "csv")]


def test_aggregate_xlsx_opens_and_is_suppressed(app, data) -> None:  # type: ignore[no-untyped-def]
    _as(app, "supervisor")
    response = app.get("/exports/aggregates.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames
    cells = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    numbers = _digits(cells)
    assert 21 in numbers and [n for n in numbers if 1 <= n <= 9] == []


def test_case_exports_are_audited_and_open(app, data, engine) -> None:  # type: ignore[no-untyped-def]
    _as(app, "supervisor")
    book = load_workbook(io.BytesIO(app.get("/exports/cases.xlsx").content))
    rows = list(book["cases"].iter_rows(values_only=True))
    assert rows[0][0] == "case" and len(rows) == 1 + 19 + 2  # A's 19 + the world's two org A cases
    with Session(engine) as s:  # the case numbers the organisation's handlers know
        assert {r[0] for r in rows[1:]} == set(s.exec(select(Report.id).where(Report.org_id == data.orgs["a"])).all())
    assert app.get("/exports/cases.pdf").status_code == 404
    with Session(engine) as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "export.cases")).all()
    assert [a.detail["rows"] for a in audit] == [21]


@pytest.mark.slow
def test_quarterly_pdf(app, data, engine) -> None:  # type: ignore[no-untyped-def]
    _as(app, "supervisor")
    at = now()
    quarter = (at.month - 1) // 3 + 1
    response = app.get(f"/reports/quarterly/{at.year}Q{quarter}.pdf?lang=km")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
    with Session(engine) as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "export.quarterly_report")).all()
    assert [(a.actor, a.detail["period"]) for a in audit] == [("supervisor@a.test", f"{at.year}Q{quarter}")]
    assert app.get("/reports/quarterly/2026Q5.pdf").status_code == 404


def _quote_form(app) -> str:  # type: ignore[no-untyped-def]
    page = app.get("/dashboard")
    assert 'action="/quotes"' in page.text
    return csrf_of(page.text)


def _quotes(engine) -> list[ApprovedQuote]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(ApprovedQuote)).all())


def test_quote_approval_needs_the_csrf_token(app, data, engine) -> None:  # type: ignore[no-untyped-def]
    case = data.cases["a"]  # "Org A case: nurse asked for money"
    _as(app, "supervisor")
    token = _quote_form(app)
    form = {"report_id": str(case.id), "excerpt": "nurse asked for money"}
    assert app.post("/quotes", data=form, follow_redirects=False).status_code == 403
    assert app.post("/quotes", data={**form, "csrf_token": "0" * 64}, follow_redirects=False).status_code == 403
    assert _quotes(engine) == []
    ok = app.post("/quotes", data={**form, "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].startswith("/dashboard?quote=approved")
    assert [x.excerpt_masked for x in _quotes(engine)] == ["nurse asked for money"]
    assert "nurse asked for money" in app.get("/dashboard").text
    # Not an exact excerpt of the masked narrative → 400; a GET changes nothing.
    bad = app.post("/quotes", data={**form, "excerpt": "nurse asked for a bribe", "csrf_token": token},
                   follow_redirects=False)
    assert bad.status_code == 400
    assert app.get("/quotes").status_code in (404, 405)
    assert len(_quotes(engine)) == 1


@pytest.mark.parametrize("who,status", [("signed_out", 401), ("handler", 403), ("other_org_supervisor", 404)])
def test_quote_approval_refused(app, data, engine, who: str, status: int) -> None:  # type: ignore[no-untyped-def]
    case = data.cases["a"]
    _as(app, who)
    token = csrf_of(app.get("/").text) if who != "signed_out" else ""
    response = app.post("/quotes", data={"report_id": str(case.id), "excerpt": "nurse asked for money",
                                         "csrf_token": token}, follow_redirects=False)
    assert response.status_code == status
    assert _quotes(engine) == []


def test_escalation_metrics_appear_on_the_dashboard(app, engine, seeded) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with Session(engine, expire_on_commit=False) as s:
        report = make_case(s)
        org = s.get(Organisation, report.org_id)
        assert org is not None
        create_user(s, email="sup@demo.test", org_slug=org.slug, role="supervisor", password=PASSWORD)
        s.commit()
    app.cookies.clear()
    assert sign_in(app, "sup@demo.test").status_code == 303
    assert 'id="body-escalations_by_body"' not in app.get("/dashboard").text
    with Session(engine, expire_on_commit=False) as s:
        from service.reports.models import Report

        found = escalation.escalate(s, s.get(Report, report.id), actor="handler")  # type: ignore[arg-type]
        from service.bodies.models import GrievanceBody

        body = s.get(GrievanceBody, found.body_id)
        s.commit()
    page = app.get("/dashboard").text
    table = re.search(r'<table id="body-escalations_by_body">(.*?)</table>', page, re.S)
    assert table, "no escalations-by-body table"
    assert body.name_en in table.group(1) and "&lt;10" in table.group(1)  # one escalation: suppressed
    assert re.search(r"<td>\s*1\s*</td>", table.group(1)) is None
    km = app.get("/dashboard?lang=km").text
    assert "ការបញ្ជូនបន្តតាមស្ថាប័ន និងថ្នាក់" in km and body.name_km in km


def test_body_metric_providers(session: Session, seeded, engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Twelve escalations to one body: count, on-time share and median only once there are enough."""
    assert set(esc_metrics.PROVIDERS) <= set(q.BODY_METRICS)  # registered at import, once
    esc_metrics.register()
    assert len([p for p in q.BODY_METRICS if p in esc_metrics.PROVIDERS]) == 1
    found = []
    for _ in range(12):
        report = make_case(session)
        found.append(escalation.escalate(session, report, actor="handler"))
    for e in found[:11]:
        escalation.record_response(session, e, action="acknowledge")
    session.commit()
    metrics = {m["key"]: m for m in q.body_metrics(session, filters=q.Filters())}
    (row, total) = metrics["escalations_by_body"]["rows"]
    assert row[1] == "12" and total[1] == "12"
    (on_time,) = metrics["answered_on_time"]["rows"]  # 11 answered at once; the 12th still running
    assert on_time[1]["params"] == {"share": 100, "on_time": 11, "total": 11}
    (median_row,) = metrics["median_hours"]["rows"]
    assert median_row[1]["params"]["answers"] == 11 and median_row[1]["params"]["hours"] < 1
