"""Analytics' background job: keep the dashboards' pre-aggregated table current (incremental;
at most once a minute)."""

from __future__ import annotations

from sqlmodel import Session

from service.analytics import rollup
from service.kit.tasks import Task, TaskContext

EVERY_SECONDS = 60.0


def refresh(ctx: TaskContext) -> None:
    # service.db (which registers analytics' SQLite functions) is not imported from here.
    with Session(ctx.engine, expire_on_commit=False) as session:
        rollup.refresh(session)
        session.commit()


def tasks(ctx: TaskContext) -> list[Task]:
    return [Task("analytics", lambda: refresh(ctx), every_seconds=EVERY_SECONDS)]
