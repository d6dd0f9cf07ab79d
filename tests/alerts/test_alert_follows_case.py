"""An urgent alert follows the case: when the worker routes a case again to another organisation,
the new organisation's handlers are alerted, the old organisation's people are not alerted again,
and an old alert still waiting in the outbox is withdrawn."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.outbox.models import OutboundMessage
from service.triage.tasks import FullTriage
from service.worker import Worker
from service.reports.models import ReportEvent
from tests.routing.dialogue import DETENTION, DETENTION_ANSWERS, latest_report, org_of, people, text


def _alerts(s: Session, report_id: int) -> list[OutboundMessage]:
    return list(s.exec(select(OutboundMessage).where(
        OutboundMessage.report_id == report_id, col(OutboundMessage.dedupe_key).startswith("urgent-alert:"),
    ).order_by(col(OutboundMessage.id))).all())


def test_the_new_organisation_is_alerted_and_the_old_one_not_again(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    people(engine)
    number = "+85512000201"
    text(engine, settings, number, DETENTION, 0)
    worker = Worker(engine, settings)
    FullTriage(engine).run()
    worker.run("route")
    worker.run("deliver")
    assert [m["To"] for m in smtp.messages] == ["handler@khana.example"]  # routed before the place: KHANA
    for step, answer in enumerate(DETENTION_ANSWERS, start=1):
        text(engine, settings, number, answer, step)
        worker.run("route")
        worker.run("deliver")
    worker.run("deliver")
    to = sorted(m["To"] for m in smtp.messages)
    # KHANA once (not again); legal aid's handler and supervisor; the PDCC (escalated at once).
    assert to.count("handler@khana.example") == 1
    assert "handler@legalaid.example" in to and "supervisor@legalaid.example" in to
    assert "pdcc.bmc@drugs.example.org" in to
    with Session(engine) as s:
        report = latest_report(s)
        assert org_of(s, report) == "legal-aid-demo"
        alerts = s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                  ReportEvent.kind == "urgent_alert")).all()
        assert [a.detail["people"] for a in alerts] == [1, 2]
    # Further passes: nobody is alerted twice.
    worker.run("route")
    worker.run("deliver")
    assert len(smtp.messages) == len(to)


def test_an_alert_not_yet_sent_to_the_old_organisation_is_withdrawn(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    people(engine)
    number = "+85512000202"
    text(engine, settings, number, DETENTION, 0)
    worker = Worker(engine, settings)
    FullTriage(engine).run()
    worker.run("route")  # KHANA's alert is queued, not yet delivered (no deliver_due)
    for step, answer in enumerate(DETENTION_ANSWERS, start=1):
        text(engine, settings, number, answer, step)
    worker.run("route")
    with Session(engine) as s:
        report = latest_report(s)
        rows = _alerts(s, report.id)  # type: ignore[arg-type]
        assert [r.status for r in rows] == ["cancelled", "pending", "pending"]
        assert rows[0].to_sealed is None and rows[0].body_sealed is None
    worker.run("deliver")
    to = sorted(m["To"] for m in smtp.messages)
    assert "handler@khana.example" not in to
    assert "handler@legalaid.example" in to and "supervisor@legalaid.example" in to
