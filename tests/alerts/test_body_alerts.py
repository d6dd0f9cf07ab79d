"""A grievance body falling behind: the organisation's supervisors are emailed once when its on-time
share crosses below the line their organisation set, not on every check, and again only after it
came back up and fell again; the line is set on the dashboard by the organisation's supervisors and
administrators (both databases)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, col, select

from service.flows import body_alerts as bodies
from service.alerts.models import BodyAlert
from service.audit.models import AuditEvent
from service.escalation import service as esc
from service.kit import clock
from service.kit.crypto import unseal
from service.orgs.models import Organisation
from service.orgs.service import create_user, set_body_alert
from service.outbox.models import OutboundMessage
from service.worker import Worker
from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
from tests.escalation.factories import make_case
from tests.support.review import PASSWORD, csrf_of, sign_in


def _mails(s: Session) -> list[tuple[str, dict]]:
    rows = s.exec(select(OutboundMessage).where(col(OutboundMessage.dedupe_key).startswith(bodies.PREFIX))
                  .order_by(col(OutboundMessage.id))).all()
    return [(unseal(r.to_sealed), json.loads(unseal(r.body_sealed))) for r in rows]  # type: ignore[arg-type]


def _khana(s: Session) -> Organisation:
    return s.exec(select(Organisation).where(Organisation.slug == "khana-demo")).one()


def _history(s: Session, *, on_time: int, late: int) -> None:
    """Escalations to the health centre's committee: `on_time` answered at once, `late` left past
    their deadline (the clock is moved on 130 hours, past the committee's 120)."""
    waiting = []
    for i in range(on_time + late):
        escalation = esc.escalate(s, make_case(s, address=f"+85512600{i:03d}"), actor="handler")
        if i < on_time:
            esc.record_response(s, escalation, action="acknowledge")
        else:
            waiting.append(escalation)
    clock.advance(timedelta(hours=130))


def test_one_alert_per_crossing_not_per_check(session: Session, seeded, controlled_clock, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.smtp_url = "smtp://127.0.0.1:1"  # queued in the outbox; delivery is the outbox's business
    org = _khana(session)
    create_user(session, email="sup@khana.test", org_slug=org.slug, role="supervisor", password=PASSWORD)
    create_user(session, email="handler@khana.test", org_slug=org.slug, role="handler", password=PASSWORD)
    _history(session, on_time=3, late=7)  # 30% on time, 10 escalations: enough to judge
    assert bodies.check(session, settings) == 0  # no line set: no alert, nothing remembered
    assert session.exec(select(BodyAlert)).all() == []

    set_body_alert(session, org=org, below=50)
    assert bodies.check(session, settings) == 1
    mails = _mails(session)
    assert [to for to, _ in mails] == ["sup@khana.test"]  # supervisors and administrators, not handlers
    subject, text = mails[0][1]["subject"], mails[0][1]["text"]
    assert "30%" in subject and "3 of 10" in text and "50%" in text and "/dashboard" in text
    # Every later check while it stays below: nothing more.
    for _ in range(3):
        assert bodies.check(session, settings) == 0
        clock.advance(timedelta(minutes=5))
    assert len(_mails(session)) == 1
    state = session.exec(select(BodyAlert)).one()
    assert state.below and state.crossings == 1 and state.share == 30 and state.total == 10

    # Back over the line (the organisation lowers it), then below again: one more alert.
    set_body_alert(session, org=org, below=20)
    assert bodies.check(session, settings) == 0 and not session.exec(select(BodyAlert)).one().below
    set_body_alert(session, org=org, below=50)
    assert bodies.check(session, settings) == 1 and bodies.check(session, settings) == 0
    assert len(_mails(session)) == 2 and session.exec(select(BodyAlert)).one().crossings == 2


def test_too_few_escalations_say_nothing(session: Session, seeded, controlled_clock, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.smtp_url = "smtp://127.0.0.1:1"
    org = _khana(session)
    create_user(session, email="sup@khana.test", org_slug=org.slug, role="supervisor", password=PASSWORD)
    set_body_alert(session, org=org, below=90)
    _history(session, on_time=1, late=settings.suppression_threshold - 2)  # one short of the minimum
    assert bodies.check(session, settings) == 0 and _mails(session) == []


def test_the_worker_runs_the_check_and_an_escalation_of_another_organisation_does_not_count(
        engine, seeded, controlled_clock, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.smtp_url = "smtp://127.0.0.1:1"
    with Session(engine) as s:
        org = _khana(s)
        create_user(s, email="sup@khana.test", org_slug=org.slug, role="supervisor", password=PASSWORD)
        set_body_alert(s, org=org, below=50)
        _history(s, on_time=2, late=8)
        s.commit()
    worker = Worker(engine, settings)
    assert worker.run("body_alerts") == 1
    assert worker.run("body_alerts") == 0
    with Session(engine) as s:
        assert len(_mails(s)) == 1
        other = s.exec(select(Organisation).where(Organisation.slug == "legal-aid-demo")).one()
        set_body_alert(s, org=other, below=99)  # none of its cases went to that body
        s.commit()
    assert worker.run("body_alerts") == 0


def test_the_line_is_set_on_the_dashboard_by_supervisors_only(app, engine, seeded) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with Session(engine) as s:
        org = _khana(s)
        for email, role, slug in (("sup@khana.test", "supervisor", org.slug), ("h@khana.test", "handler", org.slug),
                                  ("root@platform.test", "admin", None)):
            create_user(s, email=email, org_slug=slug, role=role, password=PASSWORD)
        s.commit()
    assert sign_in(app, "sup@khana.test").status_code == 303
    page = app.get("/dashboard").text
    assert 'id="body-alert"' in page and 'name="below" inputmode="numeric" size="4" maxlength="4" value=""' in page
    token = csrf_of(page)
    done = app.post("/dashboard/body-alert", data={"below": "60", "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/dashboard?body_alert=saved")
    assert 'value="60"' in app.get("/dashboard").text
    for bad in ("abc", "0", "101"):
        refused = app.post("/dashboard/body-alert", data={"below": bad, "csrf_token": token})
        assert refused.status_code == 400 and "percent" in refused.text
    assert app.post("/dashboard/body-alert", data={"below": "10", "csrf_token": "forged"}).status_code == 403
    off = app.post("/dashboard/body-alert", data={"below": "", "csrf_token": token}, follow_redirects=False)
    assert off.status_code == 303
    with Session(engine) as s:
        assert _khana(s).body_alert_below is None
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "org.body_alert")).all()
        assert [(a.detail["before"], a.detail["after"]) for a in audit] == [(None, 60), (60, None)]
    for who in ("h@khana.test", "root@platform.test"):
        assert sign_in(app, who).status_code == 303
        token = csrf_of(app.get("/").text)
        assert app.post("/dashboard/body-alert", data={"below": "60", "csrf_token": token}).status_code == 403
