"""Alerts' background job: send the urgent alert emails due now, before (and apart from) the rest
of the outbox (queueing them is `alert_urgent`, service/alerts/service.py, called by the arrival
flow right after an urgent report is routed). Telling supervisors when a grievance body's on-time
share falls below their organisation's line reads the analytics, so it is a flow:
service/flows/body_alerts.py."""

from __future__ import annotations

from sqlmodel import Session, col, or_, select

from service.db import read_only_options
from service.kit.clock import now
from service.outbox.models import OutboundMessage
from service.outbox.worker import ALERT_PREFIX, Deliverer


def deliver_alerts(deliverer: Deliverer, limit: int | None = None) -> int:
    """Send the urgent alert emails waiting now, one batch of `limit` (default: the outbox's
    batch), over one SMTP session (a cheap read-only look first: nothing waiting, no delivery
    lock taken). Returns how many messages the batch claimed."""
    engine, stamp = deliverer.engine, now()
    with Session(engine) as session:
        session.connection(execution_options=read_only_options(engine))  # SQLite: no write lock to look
        waiting = session.exec(
            select(OutboundMessage.id)
            .where(
                OutboundMessage.status == "pending",
                col(OutboundMessage.dedupe_key).startswith(ALERT_PREFIX),
                or_(col(OutboundMessage.next_attempt_at).is_(None), col(OutboundMessage.next_attempt_at) <= stamp),
                or_(col(OutboundMessage.claimed_until).is_(None), col(OutboundMessage.claimed_until) < stamp),
            )
            .limit(1)
        ).first()
    if waiting is None:
        return 0
    return deliverer.deliver_due(limit, alerts_only=True)
