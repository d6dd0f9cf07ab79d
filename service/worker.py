"""`samleng worker`: the scheduler of the background work.

It owns no duty of its own. Each part of the code declares its jobs (`tasks(ctx)` in its
tasks.py, as `service.kit.tasks.Task`s); this module collects them, runs the pass's tasks in
order, pass after pass, the urgent lane beside them every half second, and stops on SIGTERM
after the message in flight. Where each job lives: docs/architecture.md.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from sqlalchemy import Engine

from bots.telegram import tasks as telegram_tasks
from service.analytics import tasks as analytics_tasks
from service.config import Settings
from service.flows import arrival, body_alerts, deadlines
from service.intake import tasks as intake_tasks
from service.kit.tasks import PASS, URGENT, Task, TaskContext
from service.outbox import tasks as outbox_tasks
from service.outbox.drivers import SmsDriver
from service.outbox.worker import Deliverer
from service.queue import tasks as queue_tasks
from service.retaliation import tasks as retaliation_tasks
from service.retention import tasks as retention_tasks

log = logging.getLogger(__name__)


def collect(ctx: TaskContext, deliverer: Deliverer) -> list[Task]:
    """Every job, the pass's in the order a pass runs them (spool, urgent step, triage, routing,
    search index, delivery, deadlines, body alerts, retaliation check-ins, housekeeping, retention,
    analytics)."""
    replay, urgent, triage, route, *lane = arrival.tasks(ctx, deliverer)
    return [
        replay,
        urgent,
        triage,
        route,
        *queue_tasks.tasks(ctx),
        *outbox_tasks.tasks(ctx, deliverer),
        *deadlines.tasks(ctx),
        *body_alerts.tasks(ctx),
        *retaliation_tasks.tasks(ctx),
        *intake_tasks.tasks(ctx),
        *telegram_tasks.tasks(ctx),
        *retention_tasks.tasks(ctx),
        *analytics_tasks.tasks(ctx),
        *lane,
    ]


def task_names(tasks: list[Task]) -> list[str]:
    return sorted({task.name for task in tasks})


def choose(tasks: list[Task], *, only: set[str] | None = None, skip: set[str] | None = None) -> list[Task]:
    """The tasks this worker runs: all, or `only` those named, less those in `skip`.

    Names are the tasks' own (`samleng worker --only triage`); an unknown name is a ValueError
    naming the known ones, so a typo never leaves a duty silently unrun."""
    known = set(task_names(tasks))
    unknown = sorted(((only or set()) | (skip or set())) - known)
    if unknown:
        raise ValueError(f"unknown worker task(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return [task for task in tasks if (only is None or task.name in only) and task.name not in (skip or set())]


class Worker:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        driver: SmsDriver | None = None,
        only: set[str] | None = None,
        skip: set[str] | None = None,
    ) -> None:
        self.engine, self.settings = engine, settings
        self.stopping = threading.Event()  # set on SIGTERM: finish the message in flight, then stop
        self.ctx = TaskContext(engine, settings, self.stopping, sms_driver=driver)
        self.deliverer = Deliverer(engine, settings, driver=driver, stopping=self.stopping)
        self.tasks = choose(collect(self.ctx, self.deliverer), only=only, skip=skip)
        self.failed: dict[str, str] = {}
        self._last_run: dict[str, float] = {}  # monotonic time each interval-bound task last succeeded

    def _lane(self, lane: str) -> list[Task]:
        return [task for task in self.tasks if task.lane == lane]

    def run(self, name: str) -> Any:
        """Run one of the pass's tasks now, by name (errors are raised); returns what it returns."""
        (task,) = [task for task in self._lane(PASS) if task.name == name]
        return task.run()

    def _due(self, task: Task) -> bool:
        last = self._last_run.get(task.name)
        return not task.every_seconds or last is None or time.monotonic() - last >= task.every_seconds

    def run_once(self) -> dict[str, int]:
        """One pass over every task; returns what was done (each task's count under its key).

        Each task runs on its own: one that fails is logged (its name and the error type, never
        content) and the others still run. `self.failed` names the tasks that failed in this pass.
        """
        result: dict[str, int] = {}
        self.failed = {}
        for task in self._lane(PASS):
            if self.stopping.is_set():  # SIGTERM: the tasks left wait for the next worker
                break
            if not self._due(task):
                continue
            try:
                done = task.run()
            except Exception as exc:  # the database may be down, or one task broken: the others go on
                self.failed[task.name] = type(exc).__name__
                log.error("worker duty %s failed: %s", task.name, type(exc).__name__)
                continue
            if task.every_seconds:
                self._last_run[task.name] = time.monotonic()
            if isinstance(done, dict):
                result.update(done)
            elif task.key is not None:
                result[task.key] = done
        return result

    def _more(self) -> bool:
        """Some task left work behind (a full outbox batch, triage stopped at its time limit)."""
        return any(task.more() for task in self._lane(PASS) if task.more is not None)

    def run_forever(self, *, interval: float = 2.0) -> None:
        """Pass after pass until SIGTERM (or SIGINT): then the message in flight is finished,
        the rest of the batch and SQLite's delivery lock are released, and the pass ends."""
        self._stop_on_signals()
        log.info(
            "worker started (driver %s%s)",
            self.settings.effective_sms_driver,
            "; development outbox on: unconfigured channels are kept at /dev/outbox"
            if self.settings.dev_outbox_on
            else "",
        )
        lanes = [
            threading.Thread(target=self._run_lane, args=(task,), name=f"{task.name}-lane", daemon=True)
            for task in self._lane(URGENT)
        ]
        for thread in lanes:
            thread.start()
        while not self.stopping.is_set():
            self.run_once()
            if not self._more():  # work left behind: go again at once
                self.stopping.wait(interval)
        for thread in lanes:
            thread.join(30)
        log.info("worker stopped")

    def _run_lane(self, task: Task) -> None:
        """A task of the urgent lane, on its own thread, every `task.every_seconds` (or at once
        when its `wake` is set): an urgent report then never waits for the rest of a pass (a
        long outbox batch, the analytics rollup, a loaded machine's slow embedding)."""
        while not self.stopping.is_set():
            if task.wake is not None:
                task.wake.clear()  # whatever set it was committed before: this run sees it
            try:
                task.run()
            except Exception as exc:  # the database away for a moment: the next beat tries again
                log.error("worker duty %s (lane) failed: %s", task.name, type(exc).__name__)
            (task.wake or self.stopping).wait(task.every_seconds)

    def _stop_on_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only (e.g. a worker run inside a test)

        def stop(signum: int, _frame: object) -> None:
            log.info("worker stopping (signal %d): finishing the message in flight", signum)
            self.stopping.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)
