"""The review queue's background job: SQLite's narrative search index.

Reports stored since the last pass go into the index (the webhook no longer does it; see
service/queue/search_index.py). PostgreSQL: nothing. One short transaction per batch (~50 ms of
SQLite's write lock), so the webhook's writer gets in between; at most BATCHES batches a pass."""

from __future__ import annotations

from service.db import session_scope
from service.kit.tasks import Task, TaskContext
from service.queue.search_index import index_new_reports

BATCH, BATCHES = 500, 40


def index_search(ctx: TaskContext) -> int:
    total = 0
    for _ in range(BATCHES):
        with session_scope(ctx.engine) as session:
            done = index_new_reports(session, limit=BATCH)
        total += done
        if done < BATCH:
            break
    return total


def tasks(ctx: TaskContext) -> list[Task]:
    return [Task("index", lambda: index_search(ctx), key="indexed")]
