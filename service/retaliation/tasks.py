"""The retaliation watch's job in the worker: schedule the check-ins of newly escalated cases, send
those that are due (service/retaliation/service.py). One worker at a time runs it on PostgreSQL; the
rows it sends are claimed besides, so a second worker never sends a check-in twice."""

from __future__ import annotations

from service.db import session_scope
from service.inbox.locks import only_one
from service.kit.tasks import Task, TaskContext
from service.retaliation import service


def watch(ctx: TaskContext) -> dict[str, int]:
    days = service.checkin_days(ctx.settings)
    with only_one(ctx.engine, "retaliation") as mine:
        if not mine:
            return {
                "retaliation_scheduled": 0,
                "retaliation_sent": 0,
                "retaliation_skipped": 0,
                "retaliation_undelivered": 0,
            }
        with session_scope(ctx.engine) as session:
            scheduled = service.schedule(session, days=days)
        with session_scope(ctx.engine) as session:
            sent = service.send_due(
                session,
                answer_days=ctx.settings.retaliation_answer_days,
                postgresql=ctx.engine.dialect.name == "postgresql",
            )
        with session_scope(ctx.engine) as session:
            undelivered = service.mark_undelivered(session, answer_days=ctx.settings.retaliation_answer_days)
    return {"retaliation_scheduled": scheduled, **sent, "retaliation_undelivered": undelivered}


def tasks(ctx: TaskContext) -> list[Task]:
    return [Task("retaliation", lambda: watch(ctx))]
