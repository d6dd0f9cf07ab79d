"""Retention's background job: purge what the retention periods say must go."""

from __future__ import annotations

from service.db import session_scope
from service.kit.tasks import Task, TaskContext
from service.retention.service import purge


def retention(ctx: TaskContext) -> int:
    with session_scope(ctx.engine) as session:
        return sum(purge(session, settings=ctx.settings, dry_run=False).values())


def tasks(ctx: TaskContext) -> list[Task]:
    return [Task("retention", lambda: retention(ctx), key="purged")]
