"""A report's arrival, after the webhook stored it (or the spool kept it for the database).

    1. urgent_first: the quick read (word lists) → route the urgent ones → queue their alerts
       → send the alerts at once. Runs in every pass and before every chunk of the full triage.
       The quick read commits a small chunk at a time (`read_urgent`). The looping worker also
       runs the three on its urgent lane, each on threads of its own so that none waits for
       another: the reading every half second, the routing woken by the reading
       (`route_all_urgent`), and a few alert senders side by side woken by the routing
       (`send_alerts`).
    2. full_triage: the model reads every new report, chunk by chunk (the urgent step between).
    3. route_new: route the triaged reports (auto-escalating where the rule says so) → alert on
       the urgent ones not alerted yet.

`replay_spool` comes first of all: a message the database could not take goes through the
intake dialogue, and its answer into the outbox, as if it had just arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from service.alerts.service import alert_urgent
from service.alerts.tasks import deliver_alerts
from service.db import session_scope
from service.flows import routing
from service.inbox.locks import only_one
from service.inbox.spool import Spool
from service.intake import service as intake
from service.intake.schemas import InboundMessage
from service.kit.tasks import URGENT, Task, TaskContext
from service.ops import metrics
from service.outbox.service import enqueue_message, enqueue_redaction
from service.outbox.worker import Deliverer
from service.triage.tasks import QUICK_BATCH, QUICK_ROUNDS, FullTriage, read_quick_chunk

TRIAGE_SECONDS = 20.0  # a pass's full triage stops after this long (the rest: next pass, at once)
ROUTE_LOCK_WAIT = 5.0  # seconds the urgent step waits for another worker's routing to end
URGENT_INTERVAL = 0.5  # seconds between two urgent steps of the looping worker's own lane
# Threads of one worker sending urgent alert emails side by side: one slow SMTP exchange holds
# up only its own batch. SQLite has one delivery lock (one sender at a time), so one thread.
ALERT_SENDERS = 3
ALERT_BATCH = 10  # alerts one sender claims at a time (then it claims again while any wait)
ALERT_POLL = 0.25  # seconds between two looks for alerts queued by another worker
URGENT_ROUTE_BATCH = 20  # urgent reports routed (and their alerts queued) per transaction


def replay_spool(ctx: TaskContext, spool: Spool) -> int:
    """Spooled messages into the database, one at a time; returns how many were stored.

    Every container shares the spool folder: one worker at a time replays it (another that took
    the same file would find it gone, or stored, under its feet). With the database out of reach
    nobody replays: every file waits for the next pass."""

    def handle(record: dict) -> None:
        message = InboundMessage(**record)
        with session_scope(ctx.engine) as session:
            reply = intake.receive(session, message, settings=ctx.settings)
            if reply.duplicate:
                return
            if ctx.settings.effective_sms_driver == "twilio":
                enqueue_redaction(session, channel=message.channel, message_sid=message.external_id)
            if reply.text:
                # They were told "received"; the dialogue's real answer goes out now.
                enqueue_message(
                    session, channel=message.channel, to=message.address, body=reply.text, report_id=reply.report_id
                )

    with only_one(ctx.engine, "spool-replay", unreachable=False) as mine:
        if not mine:
            return 0
        done, _failed = spool.replay(handle, database_up=ctx.database_up)
    metrics.SPOOL_DEPTH.set(spool.depth())
    return done


def urgent_first(ctx: TaskContext, deliverer: Deliverer) -> int:
    """The quick, provisional step, safe to repeat and with several workers (each report is read
    once, routing runs one process at a time, every alert has its dedupe key). Returns how many
    reports became urgent."""
    urgent = read_urgent(ctx)  # word lists and screen: urgent ones marked triaged
    route_all_urgent(ctx)  # routed, and their alerts queued, a batch at a time until none waits
    send_alerts(ctx, deliverer)  # sent now, whatever else waits in the outbox
    return urgent


def read_urgent(ctx: TaskContext, found: threading.Event | None = None) -> int:
    """New reports read by the word lists and the screen, QUICK_BATCH at a time, each chunk
    committed on its own (and `found` set when it held an urgent report, waking the routing),
    so in a burst the first emergencies are routed while later reports are still being read.
    Returns how many became urgent.

    One reading at a time in a worker (`ctx.quick_reading`): the pass's step (and the one before
    each full-triage chunk) waits while the urgent lane reads, then finds little or nothing left.
    Side by side, on SQLite, both would read the same chunk on their own snapshots and classify
    it twice (the later write finds it done): CPU spent twice in a burst, when it is scarcest.
    The wait keeps the order: the full triage reads only what the quick step has read."""
    urgent = 0
    with ctx.quick_reading:
        for _ in range(QUICK_ROUNDS):
            chunk_urgent, read = read_quick_chunk(ctx.engine, QUICK_BATCH)
            urgent += chunk_urgent
            if chunk_urgent and found is not None:
                found.set()
            if read < QUICK_BATCH or ctx.stopping.is_set():
                break
    return urgent


def route_all_urgent(ctx: TaskContext, *, wait: float = ROUTE_LOCK_WAIT, queued: threading.Event | None = None) -> int:
    """While urgent reports wait, route them a batch at a time (and wake the senders: `queued`).
    On SQLite one process routes at a time: another routing, wait up to `wait` seconds per
    batch, then leave these to it (it routes them too)."""
    routed = 0
    while not ctx.stopping.is_set():
        done = route_urgent(ctx, wait=wait)
        if done and queued is not None:
            queued.set()
        routed += done
        if done < URGENT_ROUTE_BATCH:
            break
    return routed


def send_alerts(ctx: TaskContext, deliverer: Deliverer) -> int:
    """Send the urgent alert emails waiting, ALERT_BATCH at a time (each batch over one SMTP
    session), until none waits: other senders take the batches after this one side by side."""
    sent = 0
    while not ctx.stopping.is_set():
        claimed = deliver_alerts(deliverer, ALERT_BATCH)
        if not claimed:
            break
        sent += claimed
    return sent


def route_urgent(ctx: TaskContext, *, wait: float = ROUTE_LOCK_WAIT) -> int:
    """Route the urgent triaged reports not routed yet, URGENT_ROUTE_BATCH at most, and queue
    their alerts (one transaction). PostgreSQL: every worker at once, each its own reports.
    SQLite: one process at a time; another routing: wait up to `wait` seconds for it to end,
    then leave it to the next call."""
    if ctx.engine.dialect.name == "postgresql":
        # Side by side in every worker: each routes the urgent reports it claims (SKIP LOCKED),
        # so an emergency never queues behind another process's routing.
        return _route_urgent_batch(ctx)
    waited = time.monotonic() + wait
    while True:
        with only_one(ctx.engine, "route") as mine:
            if mine:
                return _route_urgent_batch(ctx)
        if time.monotonic() > waited or ctx.stopping.is_set():
            return 0  # another worker routes; the next call tries again
        time.sleep(0.1)


def _route_urgent_batch(ctx: TaskContext) -> int:
    with session_scope(ctx.engine) as session:
        routed = routing.route_new_reports(
            session,
            idle_minutes=ctx.settings.conversation_idle_minutes,
            only_urgent=True,
            limit=URGENT_ROUTE_BATCH,
        )
        for report in routed:
            alert_urgent(session, report, ctx.settings)
    return len(routed)


def full_triage(ctx: TaskContext, triage: FullTriage, deliverer: Deliverer) -> int:
    """The pass's full triage, with the urgent step before every chunk, for TRIAGE_SECONDS at most."""
    return triage.run(between=lambda: urgent_first(ctx, deliverer), seconds=TRIAGE_SECONDS)


def route_new(ctx: TaskContext) -> int:
    """New reports: cluster, route to an organisation (and its ladder), alert on urgent ones.
    One worker at a time: two routing the same new report would both insert its route."""
    with only_one(ctx.engine, "route") as mine, session_scope(ctx.engine) as session:
        if not mine:
            return 0
        routed = routing.route_new_reports(session, idle_minutes=ctx.settings.conversation_idle_minutes)
        for report in routed:
            alert_urgent(session, report, ctx.settings)
    return len(routed)


def tasks(ctx: TaskContext, deliverer: Deliverer) -> list[Task]:
    """The arrival's jobs, in pass order, then the urgent lane's own, each on a thread of its
    own so that none waits for another: the reading, the routing (woken by the reading), and the
    alert senders (woken by the routing; each with a deliverer of its own: its own claims and
    id, stopping with the worker)."""
    triage = FullTriage(ctx.engine, ctx.stopping)
    spool = Spool(ctx.settings.spool_dir)
    found = threading.Event()  # the reading marked urgent reports: the routing goes at once
    queued = threading.Event()  # the routing queued alerts: the senders go at once
    senders = 1 if ctx.engine.dialect.name == "sqlite" else ALERT_SENDERS
    lane = [
        Task("urgent", lambda: read_urgent(ctx, found), lane=URGENT, every_seconds=URGENT_INTERVAL),
        Task(
            "urgent",
            lambda: route_all_urgent(ctx, wait=0.0, queued=queued),
            lane=URGENT,
            every_seconds=ALERT_POLL,
            wake=found,
        ),
        *(Task("urgent", _sender(ctx), lane=URGENT, every_seconds=ALERT_POLL, wake=queued) for _ in range(senders)),
    ]
    return [
        Task("replay", lambda: replay_spool(ctx, spool), key="replayed"),
        Task("urgent", lambda: urgent_first(ctx, deliverer), key="urgent"),
        Task("triage", lambda: full_triage(ctx, triage, deliverer), key="triaged", more=lambda: triage.more),
        Task("route", lambda: route_new(ctx), key="routed"),
        *lane,
    ]


def _sender(ctx: TaskContext) -> Callable[[], int]:
    own = Deliverer(ctx.engine, ctx.settings, driver=ctx.sms_driver, stopping=ctx.stopping)
    return lambda: send_alerts(ctx, own)
