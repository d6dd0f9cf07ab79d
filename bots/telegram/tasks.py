"""Telegram's background job: forget processed updates' message ids and stale exit offers past the
deletion window. The worker's wiring (service/worker.py) hands it to the scheduler."""

from __future__ import annotations

from bots.telegram import service as telegram_state
from service.db import session_scope
from service.kit.tasks import Task, TaskContext


def housekeeping(ctx: TaskContext) -> None:
    with session_scope(ctx.engine) as session:
        telegram_state.purge(session)


def tasks(ctx: TaskContext) -> list[Task]:
    return [Task("telegram", lambda: housekeeping(ctx))]
