"""Intake's background job: housekeeping of the dialogue's state — conversations gone idle end,
contacts whose erasure is due are erased, old rate-limit counters and processed channel updates
are forgotten."""

from __future__ import annotations

from service.db import session_scope
from service.inbox import pending
from service.intake import vault
from service.kit import ratelimit
from service.intake.service import expire_conversations
from service.kit.tasks import Task, TaskContext


def housekeeping(ctx: TaskContext) -> None:
    with session_scope(ctx.engine) as session:
        expire_conversations(session)
        vault.erase_due(session)
        ratelimit.purge(session)
        pending.purge_processed(session)


def tasks(ctx: TaskContext) -> list[Task]:
    return [Task("housekeeping", lambda: housekeeping(ctx))]
