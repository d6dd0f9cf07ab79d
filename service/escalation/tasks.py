"""Escalation's background job: reminders before a body's deadline, and one rung up the ladder
when it passed (service/flows/deadlines.py reads that sequence)."""

from __future__ import annotations

from service.db import session_scope
from service.escalation.service import check_deadlines
from service.kit.tasks import Task, TaskContext


def deadlines(ctx: TaskContext) -> dict[str, int]:
    with session_scope(ctx.engine) as session:
        return check_deadlines(session)


def tasks(ctx: TaskContext) -> list[Task]:
    return [Task("deadlines", lambda: deadlines(ctx))]
