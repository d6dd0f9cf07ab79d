"""Urgent alert emails of one pass go over one SMTP session, each message still claimed, marked
"sending" and recorded on its own: a server that drops the session mid-batch loses no alert and
doubles none."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.kit.clock import now
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.alerts.tasks import deliver_alerts
from service.worker import Worker
from tests.routing.dialogue import DETENTION, people, text


def _alerts(s: Session) -> list[OutboundMessage]:
    return list(s.exec(select(OutboundMessage).where(col(OutboundMessage.dedupe_key).startswith("urgent-alert:"))
                       .order_by(col(OutboundMessage.id))).all())


def _urgent(engine, settings, count: int) -> None:  # type: ignore[no-untyped-def]
    people(engine)
    for i in range(count):
        text(engine, settings, f"+8551200060{i}", f"{DETENTION} ({i})", 0)


def test_a_pass_sends_its_alert_emails_over_one_smtp_session(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    _urgent(engine, settings, 6)
    assert Worker(engine, settings).run("urgent") == 6
    with Session(engine) as s:
        alerts = _alerts(s)
        assert len(alerts) >= 6 and {a.status for a in alerts} == {"sent"}
        attempts = s.exec(select(DeliveryAttempt)).all()
        assert len(attempts) == len(alerts) and all(a.ok for a in attempts), "each recorded on its own"
    assert len(smtp.messages) == len(alerts)
    assert len(set(smtp.mailbox.peers)) == 1, "one SMTP session for the whole batch"


def test_a_session_dropped_mid_batch_loses_no_alert_and_doubles_none(engine, settings, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    _urgent(engine, settings, 6)
    smtp.mailbox.drop_at = 3
    worker = Worker(engine, settings)
    worker.run("urgent")
    with Session(engine) as s:
        alerts = _alerts(s)
        count = len(alerts)
        assert [a.status for a in alerts[:2]] == ["sent", "sent"], "sent before the drop: recorded"
        dropped = alerts[2]
        assert dropped.status == "pending" and dropped.attempts == 1 and dropped.last_error
        assert dropped.sending_at is not None, "in doubt: the mark stays, the next try says so"
        assert all(a.status == "pending" for a in alerts[3:]), "the rest wait for the next try"
    assert len(smtp.messages) == 2
    # The next try comes (the backoff is over): everything goes, once.
    with Session(engine) as s:
        s.execute(update(OutboundMessage).values(next_attempt_at=now() - timedelta(seconds=1)))
        s.commit()
    deliver_alerts(worker.deliverer)
    with Session(engine) as s:
        assert {a.status for a in _alerts(s)} == {"sent"}
    ids = [m["Idempotency-Key"] for m in smtp.messages]
    assert len(ids) == count and len(set(ids)) == count, "every alert delivered, none twice"
