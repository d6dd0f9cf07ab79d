"""The outbox's background job: deliver what is due (service/outbox/worker.py)."""

from __future__ import annotations

from service.kit.tasks import Task, TaskContext
from service.outbox.worker import Deliverer


def tasks(ctx: TaskContext, deliverer: Deliverer | None = None) -> list[Task]:
    """`deliverer`: the one the scheduler keeps (its claims, its id); one is made otherwise."""
    deliverer = deliverer or Deliverer(ctx.engine, ctx.settings, driver=ctx.sms_driver, stopping=ctx.stopping)
    return [
        Task(
            "deliver",
            deliverer.deliver_due,
            key="delivered",
            # A full batch means more is waiting: the next pass starts at once.
            more=lambda: deliverer.last_batch >= ctx.settings.outbox_batch,
        )
    ]
