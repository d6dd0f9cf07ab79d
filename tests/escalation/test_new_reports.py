"""New reports are clustered and routed by the worker; urgent ones at once, with an alert email."""

from __future__ import annotations

from sqlmodel import Session, select

from service.intake.models import Conversation
from service.orgs.models import Organisation
from service.orgs.service import create_user
from service.triage.tasks import FullTriage
from service.worker import Worker
from service.reports.models import Report, ReportEvent
from service.routing.models import ReportRoute
from tests.escalation.factories import make_case

STORY = "No ARV at the health centre since Monday, the nurse said come back next month"


def new_report(s: Session, *, urgency: str = "normal", talking: bool = False) -> int:
    number = f"+8551230{len(s.exec(select(Report)).all()):04d}"
    report = make_case(s, narrative=STORY, route=False, address=number)
    report.urgency = urgency
    s.add(report)
    if talking:  # the reporter is still answering the intake questions
        s.add(Conversation(reporter_id=report.reporter_id, channel="sms", report_id=report.id, step="place"))  # type: ignore[arg-type]
    s.flush()
    return report.id  # type: ignore[return-value]


def people(s: Session) -> None:
    create_user(s, email="handler@khana.example", org_slug="khana-demo", role="handler", password="correct-horse-battery")
    create_user(s, email="supervisor@khana.example", org_slug="khana-demo", role="supervisor", password="correct-horse-battery")


def test_urgent_report_is_routed_at_once_and_alerts_the_organisation(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        people(s)
        urgent = new_report(s, urgency="urgent", talking=True)
        waiting = new_report(s, talking=True)
        s.commit()
    worker = Worker(engine, settings)
    assert worker.run("route") == 0, "nothing is routed before triage"
    assert FullTriage(engine).run() == 2
    assert worker.run("route") == 1, "only the urgent one: the other reporter is still answering"
    worker.run("deliver")
    with Session(engine) as s:
        report = s.get_one(Report, urgent)
        khana = s.exec(select(Organisation).where(Organisation.slug == "khana-demo")).one()
        assert report.org_id == khana.id
        assert s.exec(select(ReportRoute).where(ReportRoute.report_id == waiting)).first() is None
        kinds = [e.kind for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == urgent)).all()]
        assert "routed" in kinds and "urgent_alert" in kinds
    mails = smtp.messages
    assert sorted(m["To"] for m in mails) == ["handler@khana.example", "supervisor@khana.example"]
    body = mails[0].get_content()
    assert f"/cases/{urgent}" in body and "ARV" not in body and "nurse" not in body
    # Another pass: nothing routed or mailed twice.
    assert worker.run("route") == 0
    worker.run("deliver")
    assert len(smtp.messages) == 2


def test_a_report_is_routed_once_its_dialogue_is_over(engine, settings, seeded) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        report_id = new_report(s, talking=True)
        s.commit()
    worker = Worker(engine, settings)
    assert FullTriage(engine).run() == 1 and worker.run("route") == 0
    with Session(engine) as s:
        for conversation in s.exec(select(Conversation)).all():
            s.delete(conversation)
        s.commit()
    assert worker.run("route") == 1
    with Session(engine) as s:
        assert s.get_one(Report, report_id).org_id is not None
        # No SMTP configured: the queue shows it; no alert is queued for a normal case anyway.
        assert s.exec(select(ReportEvent).where(ReportEvent.kind == "urgent_alert")).first() is None
