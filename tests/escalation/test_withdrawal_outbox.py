"""Withdrawing a report cancels and wipes every message about it still waiting in the outbox (pending,
failed or dead): nothing about it reaches a body afterwards, and a dead letter cannot be retried."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.escalation import service as esc
from service.kit.errors import InvalidInput
from service.outbox.models import OutboundMessage
from service.outbox.service import retry_now
from service.worker import Worker
from service.intake.withdrawal import withdraw
from tests.escalation.factories import make_case


def test_withdrawal_cancels_and_wipes_waiting_messages(settings, engine, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        report = make_case(s, narrative="RAWSTORY the nurse took money")
        first = esc.escalate(s, report, actor="handler")
        esc.escalate(s, report, actor="handler", idempotency_key=f"after:{first.id}")  # a second body: two emails
        rows = s.exec(select(OutboundMessage).where(OutboundMessage.report_id == report.id)).all()
        assert len(rows) >= 2
        rows[0].status = "dead"  # one that gave up, as an operator could retry
        s.add(rows[0])
        dead_id, report_id = rows[0].id, report.id
        s.commit()
    with Session(engine) as s:
        withdraw(s, s.get(type(report), report_id))  # type: ignore[arg-type]
        s.commit()
    with Session(engine) as s:
        rows = s.exec(select(OutboundMessage).where(OutboundMessage.report_id == report_id)).all()
        assert rows and all(r.status == "cancelled" and r.body_sealed is None and r.to_sealed is None for r in rows)
        with pytest.raises(InvalidInput):
            retry_now(s, dead_id)  # type: ignore[arg-type]
    Worker(engine, settings).run_once()
    assert smtp.mailbox.messages == []  # nothing about the withdrawn report went out
