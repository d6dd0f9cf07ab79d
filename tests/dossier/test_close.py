"""Closing a dossier: a reason, on each linked case's timeline; a closed dossier takes no new case and is not
escalated again; an escalation still waiting stays answerable, its deadline counts, its reminder stops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, inspect
from sqlmodel import Session, col, select

from service.analytics import escalations as em, queries as q
from service.escalation import dossiers
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.flows import deadlines
from service.flows import dossier as dossier_flow
from service.kit.errors import InvalidInput
from service.reports.models import ReportEvent
from tests.escalation.factories import make_case, outbox


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def _dossier(s: Session, n: int = 3):  # type: ignore[no-untyped-def]
    cases = [make_case(s, address=f"+8551288800{i}") for i in range(n)]
    made = dossiers.build(s, org_id=cases[0].org_id, title="ARV stock-outs", actor="sup",  # type: ignore[arg-type]
                          report_ids=[r.id for r in cases])  # type: ignore[misc]
    return made, cases


def _events(s: Session, kind: str) -> list[ReportEvent]:
    return list(s.exec(select(ReportEvent).where(ReportEvent.kind == kind).order_by(col(ReportEvent.id))).all())


def test_a_closed_dossier_says_why_on_each_case_and_takes_no_new_case_nor_escalation(s: Session) -> None:
    made, cases = _dossier(s)
    later = make_case(s)
    with pytest.raises(InvalidInput):
        dossiers.close(s, made, reason="  \x00 ", actor="sup@khana")
    with pytest.raises(InvalidInput):
        dossiers.close(s, made, reason="x" * 301, actor="sup@khana")
    assert made.status == "draft" and _events(s, "dossier_closed") == []
    dossiers.close(s, made, reason="Stock   delivered; ask 012 345 678", actor="sup@khana")
    assert made.status == "closed" and made.closed_by == "sup@khana" and made.closed_at is not None
    assert made.closed_reason is not None and "012 345 678" not in made.closed_reason  # masked
    assert made.closed_reason.startswith("Stock delivered; ask")
    got = _events(s, "dossier_closed")
    assert sorted(e.report_id for e in got) == sorted(r.id for r in cases)  # type: ignore[misc]
    assert all(e.detail["reason"] == made.closed_reason and "waiting" not in e.detail for e in got)
    with pytest.raises(dossiers.DossierClosed) as refused:
        dossiers.add_cases(s, made, report_ids=[later.id], actor="sup")  # type: ignore[list-item]
    assert refused.value.http_status == 409 and "closed" in str(refused.value)
    with pytest.raises(dossiers.DossierClosed) as refused:
        dossier_flow.escalate(s, made, body_slug="nchads", actor="sup")
    assert refused.value.http_status == 409 and "closed" in str(refused.value)
    with pytest.raises(dossiers.DossierClosed):
        dossiers.close(s, made, reason="again", actor="sup")
    assert dossiers.case_ids(s, made) == sorted(r.id for r in cases)  # type: ignore[misc]
    assert len(_events(s, "dossier_closed")) == len(cases)


def test_closing_while_the_body_holds_it_stops_the_reminder_but_the_body_still_answers_and_is_counted(
    s: Session, controlled_clock  # type: ignore[no-untyped-def]
) -> None:
    made, cases = _dossier(s, 2)
    sent = dossier_flow.escalate(s, made, body_slug="nchads", actor="sup")
    dossiers.close(s, made, reason="Handled by the district", actor="sup")
    assert sent.status == "open"  # not withdrawn: the body still owes its answer
    assert all(e.detail["waiting"] == sent.id for e in _events(s, "dossier_closed"))
    mails = len(outbox(s, kind="email"))
    controlled_clock.advance(sent.remind_at - sent.created_at + timedelta(minutes=1))  # type: ignore[operator]
    assert deadlines.check_deadlines(s)["reminded"] == 0 and len(outbox(s, kind="email")) == mails
    controlled_clock.advance(sent.due_at - sent.remind_at + timedelta(hours=2))  # type: ignore[operator]
    # Its deadline passed while it waited: late in the body's figures (counted live until the worker runs).
    assert em.deadline_tally(s, q.Filters())[sent.body_id] == [0, 1]
    esc.record_response(s, sent, action="action_taken", text="Stock sent")
    assert sent.status == "responded" and made.status == "closed"  # the answer does not reopen it
    assert sorted(e.report_id for e in _events(s, "dossier_response")) == sorted(r.id for r in cases)  # type: ignore[misc]
    assert em.deadline_tally(s, q.Filters())[sent.body_id] == [0, 1]


def test_the_migration_adds_and_removes_the_closing_columns(database_url: str, engine) -> None:  # type: ignore[no-untyped-def]
    """0025 up and down on the session's database (SQLite and PostgreSQL): a closed dossier stays closed
    through the downgrade; only when, by whom and why are lost."""
    from alembic import command
    from sqlalchemy import text

    from service.migrate import alembic_config, upgrade

    def read(sql: str) -> list:
        scratch = create_engine(database_url)
        try:
            with scratch.connect() as conn:
                return list(conn.execute(text(sql)).all()) if sql else [
                    {c["name"] for c in inspect(conn).get_columns("dossier")}]
        finally:
            scratch.dispose()

    closing = {"closed_at", "closed_by", "closed_reason"}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organisation (slug, name, created_at) VALUES ('m', 'M', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO dossier (org_id, title, source, source_ref, status, created_by, created_at, closed_by,"
            " closed_reason) SELECT id, 'T', 'cases', '', 'closed', 'sup', CURRENT_TIMESTAMP, 'sup', 'done'"
            " FROM organisation WHERE slug = 'm'"))
    assert closing <= read("")[0]
    command.downgrade(alembic_config(database_url), "0024")
    try:
        assert not closing & read("")[0]
        assert read("SELECT status FROM dossier") == [("closed",)]
    finally:
        upgrade(database_url)
    assert closing <= read("")[0]
    assert read("SELECT status, closed_by, closed_reason FROM dossier") == [("closed", None, None)]


def test_a_supervisor_closes_a_dossier_by_the_api_and_from_its_page(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    import re

    from service.audit.models import AuditEvent
    from service.bodies.service import upsert_body
    from tests.support.factories import make_report
    from tests.support.review import bearer, sign_in

    a, a2 = world.cases["a"].id, world.cases["a2"].id
    with Session(engine, expire_on_commit=False) as session:
        upsert_body(session, slug="moh-national", name_en="Ministry of Health", level="national",
                    email="moh@example.org")
        later = make_report(session, org_id=world.orgs["a"], category="financial_hardship")
        session.commit()
    sup = bearer(app, "supervisor@a.test")
    made = app.post("/api/v1/dossiers", headers=sup, json={"title": "Fees <b>at</b> Chrey", "case_ids": [a, a2]})
    dossier_id = made.json()["id"]
    url = f"/api/v1/dossiers/{dossier_id}/close"
    assert app.post(url, json={"reason": "done"}).status_code == 401
    assert app.post(url, headers=bearer(app, "handler@a.test"), json={"reason": "done"}).status_code == 403
    assert app.post(url, headers=bearer(app, "supervisor@b.test"), json={"reason": "done"}).status_code == 404
    assert app.post(url, headers=bearer(app, "root@platform.test"), json={"reason": "done"}).status_code == 403
    for bad in ({}, {"reason": ""}, {"reason": "x" * 301}, {"reason": "ok", "when": "now"}):
        assert app.post(url, headers=sup, json=bad).status_code == 422, bad
    closed = app.post(url, headers=bearer(app, "admin@a.test"), json={"reason": "Fees <i>stopped</i>"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_reason"] == "Fees <i>stopped</i>"
    again = app.post(url, headers=sup, json={"reason": "again"})
    assert again.status_code == 409 and "already closed" in again.text
    sent = app.post(f"/api/v1/dossiers/{dossier_id}/escalate", headers=sup, json={"body": "moh-national"})
    assert sent.status_code == 409 and "closed" in sent.text
    more = app.post(f"/api/v1/dossiers/{dossier_id}/cases", headers=sup, json={"case_ids": [later.id]})
    assert more.status_code == 409 and "no new cases" in more.text
    with Session(engine) as session:
        (audit,) = session.exec(select(AuditEvent).where(AuditEvent.action == "dossier.close")).all()
        assert audit.actor == "admin@a.test" and audit.object_id == str(dossier_id)
        assert audit.detail == {"waiting_escalation": None}

    # The page: closed, why (escaped), and no form to send or close it any more.
    sign_in(app, "supervisor@a.test")
    page = app.get(f"/supervise/dossiers/{dossier_id}").text
    assert 'id="dossier-closed"' in page and "Fees &lt;i&gt;stopped&lt;/i&gt;" in page and "<i>stopped" not in page
    assert 'id="dossier-close"' not in page and "/escalate" not in page
    case_page = app.get(f"/cases/{a}").text
    assert "ev-dossier_closed" in case_page and "Fees &lt;i&gt;stopped&lt;/i&gt;" in case_page

    # From the page: a second dossier, waiting for the body's answer, closed with the page's form (CSRF), in
    # Portuguese; the page says the body can still answer.
    other = app.post("/api/v1/dossiers", headers=sup, json={"title": "Queue at Chrey", "case_ids": [a, a2]}).json()
    page = app.get(f"/supervise/dossiers/{other['id']}?lang=pt").text
    assert 'id="dossier-close"' in page and "Encerrar o dossiê" in page and "ainda pode responder" not in page
    sent = app.post(f"/api/v1/dossiers/{other['id']}/escalate", headers=sup, json={"body": "moh-national"})
    assert sent.status_code == 201
    page = app.get(f"/supervise/dossiers/{other['id']}?lang=pt").text
    assert "o órgão ainda pode responder" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page[page.index('id="dossier-close"'):]).group(1)  # type: ignore[union-attr]
    form = f"/supervise/dossiers/{other['id']}/close"
    assert app.post(form, data={"reason": "x", "csrf_token": "forged"}).status_code in (400, 403)
    refused = app.post(form, data={"reason": "  ", "csrf_token": token})
    assert refused.status_code == 422
    done = app.post(form, data={"reason": "Merged into the first", "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/supervise/dossiers/{other['id']}"
    assert app.get(f"/api/v1/dossiers/{other['id']}", headers=sup).json()["closed_reason"] == "Merged into the first"
    assert app.post(form, data={"reason": "again", "csrf_token": token}).status_code == 409
    with Session(engine) as session:
        waiting = session.exec(select(Escalation).where(Escalation.dossier_id == other["id"])).one()
        assert waiting.status == "open"  # still the body's to answer
        audits = session.exec(select(AuditEvent).where(AuditEvent.action == "dossier.close")).all()
        assert sorted(str(x.detail["waiting_escalation"]) for x in audits) == sorted(["None", str(waiting.id)])
    sign_in(app, "handler@a.test")
    assert app.post(form, data={"reason": "x", "csrf_token": token}).status_code == 403
