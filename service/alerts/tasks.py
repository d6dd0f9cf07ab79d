"""Alerts' background jobs: send the urgent alert emails due now, before (and apart from) the rest
of the outbox (queueing them is `alert_urgent`, service/alerts/service.py, called by the arrival
flow right after an urgent report is routed); and, once a minute at most, tell supervisors when a
grievance body's on-time share falls below their organisation's line (service/alerts/bodies.py)."""

from __future__ import annotations

from sqlmodel import Session, col, or_, select

from service.alerts import bodies
from service.db import read_only_options, session_scope
from service.kit.clock import now
from service.kit.tasks import Task, TaskContext
from service.outbox.models import OutboundMessage
from service.outbox.worker import ALERT_PREFIX, Deliverer


def deliver_alerts(deliverer: Deliverer) -> int:
    """Send the urgent alert emails waiting now (a cheap read-only look first: nothing waiting,
    no delivery lock taken). Returns how many messages the batch claimed."""
    engine, stamp = deliverer.engine, now()
    with Session(engine) as session:
        session.connection(execution_options=read_only_options(engine))  # SQLite: no write lock to look
        waiting = session.exec(select(OutboundMessage.id).where(
            OutboundMessage.status == "pending", col(OutboundMessage.dedupe_key).startswith(ALERT_PREFIX),
            or_(col(OutboundMessage.next_attempt_at).is_(None), col(OutboundMessage.next_attempt_at) <= stamp),
            or_(col(OutboundMessage.claimed_until).is_(None), col(OutboundMessage.claimed_until) < stamp),
        ).limit(1)).first()
    if waiting is None:
        return 0
    return deliverer.deliver_due(alerts_only=True)


BODY_CHECK_SECONDS = 60.0


def check_bodies(ctx: TaskContext) -> int:
    with session_scope(ctx.engine) as session:
        return bodies.check(session, ctx.settings)


def tasks(ctx: TaskContext) -> list[Task]:
    """The pass's alert jobs (the urgent alerts' delivery is the arrival flow's urgent step)."""
    return [Task("body_alerts", lambda: check_bodies(ctx), key="body_alerts", every_seconds=BODY_CHECK_SECONDS)]
