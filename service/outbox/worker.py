"""The background worker: spool replay, outbox delivery with backoff, timers and retention."""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, or_, select

from service.config import Settings
from service.db import session_scope
from service.inbox.models import InboundMessage
from service.inbox.locks import only_one
from service.inbox.spool import Spool
from service.kit import ratelimit
from service.intake import service as intake
from service.intake import vault
from service.intake.schemas import InboundMessage as Inbound
from service.bodies.models import GrievanceBody
from service.bodies.service import focal_sms, webhook_secret
from service.kit.clock import as_utc, now
from service.kit.crypto import unseal
from service.kit.netguard import AddressRefused, check_url
from service.ops import metrics
from service.outbox import registry
from service.outbox.drivers import NotTaken, PermanentFailure, SmsDriver
from service.outbox.models import DeliveryAttempt, OutboundMessage, WorkerLock
from service.outbox.service import enqueue_message, enqueue_redaction
from service.reports.models import Report

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
ALERT_PREFIX = "urgent-alert:"  # the dedupe keys of urgent alert emails (service/alerts)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 1 hour, with ±20 % jitter."""
    base = min(30 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


class _Heartbeat:
    """Renews the claim of the message being sent (and SQLite's delivery lock) every third of a
    lease, from a thread, so a long send never outlives its claim while the process lives."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.interval = max(worker.settings.outbox_lease_seconds / 3, 0.05)
        self.inflight: int | None = None
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-heartbeat", daemon=True)
        self._thread.start()

    @contextmanager
    def watching(self, outbound_id: int) -> Iterator[None]:
        with self._lock:
            self.inflight = outbound_id
        try:
            yield
        finally:
            with self._lock:
                self.inflight = None

    def _run(self) -> None:
        while not self._halt.wait(self.interval):
            with self._lock:
                inflight = self.inflight
            if inflight is None and self.worker.engine.dialect.name != "sqlite":
                continue  # nothing held between sends on PostgreSQL
            try:
                if not self.worker.renew(inflight):
                    log.warning("outbox claim on #%s or the delivery lock was lost while sending", inflight)
            except Exception as exc:  # database away for a moment: try again at the next beat
                log.warning("outbox claim not renewed: %s", type(exc).__name__)

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(5)


class Worker:
    def __init__(self, engine: Engine, settings: Settings, *, driver: SmsDriver | None = None) -> None:
        self.engine, self.settings = engine, settings
        self.sms = driver  # an SMS driver given by the caller; otherwise built from settings per route
        self._drivers: dict[str, registry.Driver] = {}
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.spool = Spool(settings.spool_dir)
        self._analytics_at: datetime | None = None
        self.stopping = threading.Event()  # set on SIGTERM: finish the message in flight, then stop
        self._claimed_until: dict[int, datetime] = {}  # this batch's claims, as last written
        self._lock_until: datetime | None = None  # SQLite's delivery lock, as last written
        self._per_report = 0.05  # seconds of full triage per report, as last measured
        self._triage_more = False  # the last pass's triage stopped at its time limit

    # -- spool -----------------------------------------------------------------------------
    def replay_spool(self) -> int:
        # Every container shares the spool folder: one worker at a time replays it (another that
        # took the same file would find it gone, or stored, under its feet).
        # With the database out of reach nobody replays: every file waits for the next pass.
        with only_one(self.engine, "spool-replay", unreachable=False) as mine:
            return self._replay_spool() if mine else 0

    def _replay_spool(self) -> int:
        def handle(message: Inbound) -> None:
            with session_scope(self.engine) as session:
                reply = intake.receive(session, message, settings=self.settings)
                if reply.duplicate:
                    return
                if self.settings.effective_sms_driver == "twilio":
                    enqueue_redaction(session, channel=message.channel, message_sid=message.external_id)
                if reply.text:
                    # They were told "received"; the dialogue's real answer goes out now.
                    enqueue_message(session, channel=message.channel, to=message.address, body=reply.text,
                                    report_id=reply.report_id)

        done, _failed = self.spool.replay(handle, database_up=self._database_up)
        metrics.SPOOL_DEPTH.set(self.spool.depth())
        return done

    def _database_up(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    # -- outbox ----------------------------------------------------------------------------
    # Claim, mark "sending" (committed), send outside any transaction, record: a crash between
    # sending and recording leaves the row pending and marked under a lapsing claim; the next
    # worker asks the provider where it can (Twilio) and otherwise sends again with the same key.
    def _driver(self, route: str) -> registry.Driver:
        if route not in self._drivers:
            if self.sms is not None and route in ("sms", "whatsapp", "redact", "body_sms"):
                self._drivers[route] = registry.SmsAdapter(self.sms)
            else:
                self._drivers[route] = registry.build(route, self.settings, engine=self.engine)
        return self._drivers[route]

    def _hold_sqlite_lock(self) -> bool:
        """SQLite: one delivering worker at a time, by a lease row (a dead holder's lease lapses)."""
        if self.engine.dialect.name != "sqlite":
            return True
        lease = timedelta(seconds=self.settings.outbox_lease_seconds)
        with session_scope(self.engine) as session:
            lock = session.get(WorkerLock, "outbox")
            stamp = now()
            if lock is not None and lock.holder != self.worker_id and as_utc(lock.expires_at) > stamp:
                return False
            if lock is None:
                lock = WorkerLock(name="outbox", holder=self.worker_id, expires_at=stamp + lease)
            lock.holder, lock.expires_at = self.worker_id, stamp + lease
            session.add(lock)
        self._lock_until = stamp + lease
        return True

    def claim(self, limit: int, *, alerts_only: bool = False) -> list[tuple[int, registry.Outgoing | None, str | None]]:
        """Claim due rows for this worker and read what to send, in one short transaction.

        FOR UPDATE SKIP LOCKED keeps PostgreSQL workers apart. Returns (id, item, error)
        where error is a permanent failure found while reading (e.g. the body is gone).
        """
        stamp = now()
        with session_scope(self.engine) as session:
            query = select(OutboundMessage).where(
                OutboundMessage.status == "pending",
                or_(col(OutboundMessage.next_attempt_at).is_(None), col(OutboundMessage.next_attempt_at) <= stamp),
                or_(col(OutboundMessage.claimed_until).is_(None), col(OutboundMessage.claimed_until) < stamp),
            ).order_by(col(OutboundMessage.id)).limit(limit)
            if alerts_only:
                query = query.where(col(OutboundMessage.dedupe_key).startswith(ALERT_PREFIX))
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.exec(query).all()
            until = stamp + timedelta(seconds=self.settings.outbox_lease_seconds)
            claimed: list[tuple[int, registry.Outgoing | None, str | None]] = []
            self._claimed_until = {}
            for row in rows:
                row.claimed_by, row.claimed_until = self.worker_id, until
                self._claimed_until[row.id] = until  # type: ignore[index]
                session.add(row)
                try:
                    claimed.append((row.id, self._outgoing(session, row), None))  # type: ignore[arg-type]
                except PermanentFailure as exc:
                    claimed.append((row.id, None, str(exc)))  # type: ignore[arg-type]
            return claimed

    def deliver_due(self, limit: int | None = None, *, alerts_only: bool = False) -> int:
        """Claim a batch and send it, one message at a time.

        The batch's claims may lapse while earlier messages are sent (another worker may then
        take a row): right before each send the row's claim is re-checked and renewed in one
        conditional UPDATE, and while the send is under way a heartbeat keeps renewing it
        (and, on SQLite, the delivery lock). A stop request (SIGTERM) ends the batch after
        the message in flight; whatever is left is released at once for the next worker.
        """
        if not self._hold_sqlite_lock():
            return 0
        claimed: list = []
        failing: set[str] = set()  # routes that failed for a passing reason in this batch
        heartbeat: _Heartbeat | None = None
        sessions = ExitStack()  # drivers that keep one connection for the batch (email: one SMTP session)
        opened: set[str] = set()
        try:
            claimed = self.claim(limit or self.settings.outbox_batch, alerts_only=alerts_only)
            if claimed:
                heartbeat = _Heartbeat(self)
            for outbound_id, item, error in claimed:
                if self.stopping.is_set():
                    break
                route = registry.route_of(item.kind, item.channel) if item is not None else None
                if route in failing:
                    # One timeout or 5xx per destination and batch is enough: the rest of its
                    # messages wait for the next try instead of each paying the timeout.
                    self._defer(outbound_id, f"deferred: {route} failing")
                    continue
                held = self._take(outbound_id)
                if held is None:
                    break  # SQLite: the delivery lock went to another worker; it carries on
                if not held:
                    continue  # the claim lapsed and another worker took the row: it sends it
                if route is not None and route not in opened:
                    opened.add(route)
                    self._batch_session(sessions, route)
                with heartbeat.watching(outbound_id):  # type: ignore[union-attr]
                    ok = self._deliver_one(outbound_id, item, error)
                if not ok and route is not None:
                    failing.add(route)
        finally:
            try:
                sessions.close()
            except Exception as exc:  # closing a session never costs the batch's records
                log.warning("outbox: closing a delivery session failed: %s", type(exc).__name__)
            if heartbeat is not None:
                heartbeat.stop()
            if claimed:
                self._release_claims()
            self._release_sqlite_lock()
        return len(claimed)

    def _batch_session(self, sessions: ExitStack, route: str) -> None:
        """Open the route's batch session (if its driver keeps one) for the rest of the batch."""
        try:
            driver = self._driver(route)
        except Exception:  # noqa: S110  the send itself meets the same error and records it
            return
        batch = getattr(driver, "batch", None)
        if batch is not None:
            sessions.enter_context(batch())

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.outbox_lease_seconds)

    def _take(self, outbound_id: int) -> bool | None:
        """Re-check and renew this worker's claim on one row just before sending it, and mark
        it "sending" in the same commit.

        True: still ours, for another lease, and marked. False: another worker took it over.
        None (SQLite): this worker no longer holds the delivery lock. The mark (`sending_at`)
        is committed before the provider is called, so a row found with it after a crash is
        known to be in doubt; a mark left by an earlier try is kept (the earliest moment the
        provider may have the message is what the look-up needs).
        """
        stamp = now()
        until = stamp + self._lease()
        with session_scope(self.engine) as session:
            if self.engine.dialect.name == "sqlite":
                lock = session.execute(update(WorkerLock).where(
                    col(WorkerLock.name) == "outbox", col(WorkerLock.holder) == self.worker_id,
                ).values(expires_at=until))
                if lock.rowcount != 1:  # type: ignore[attr-defined]
                    return None
            result = session.execute(update(OutboundMessage).where(
                col(OutboundMessage.id) == outbound_id, col(OutboundMessage.claimed_by) == self.worker_id,
                col(OutboundMessage.status) == "pending",
            ).values(claimed_until=until, sending_at=func.coalesce(col(OutboundMessage.sending_at), stamp)))
            held = result.rowcount == 1  # type: ignore[attr-defined]
        if self.engine.dialect.name == "sqlite":
            self._lock_until = until
        if held:
            self._claimed_until[outbound_id] = until
        return held

    def renew(self, outbound_id: int | None) -> bool:
        """The heartbeat: extend the in-flight row's claim (and SQLite's lock). False if either was lost."""
        until = now() + self._lease()
        held = True
        with session_scope(self.engine) as session:
            if self.engine.dialect.name == "sqlite":
                held = session.execute(update(WorkerLock).where(
                    col(WorkerLock.name) == "outbox", col(WorkerLock.holder) == self.worker_id,
                ).values(expires_at=until)).rowcount == 1  # type: ignore[attr-defined]
            if outbound_id is not None:
                held = session.execute(update(OutboundMessage).where(
                    col(OutboundMessage.id) == outbound_id, col(OutboundMessage.claimed_by) == self.worker_id,
                    col(OutboundMessage.status) == "pending",
                ).values(claimed_until=until)).rowcount == 1 and held  # type: ignore[attr-defined]
        return held

    def _release_claims(self) -> None:
        """Give back every row this worker claimed and did not finish: due again at once for anyone."""
        try:
            with session_scope(self.engine) as session:
                session.execute(update(OutboundMessage).where(
                    col(OutboundMessage.claimed_by) == self.worker_id, col(OutboundMessage.status) == "pending",
                ).values(claimed_by=None, claimed_until=None))
        except Exception as exc:  # the database is away: the claims lapse on their own
            log.warning("outbox claims not released: %s", type(exc).__name__)

    def _release_sqlite_lock(self) -> None:
        if self.engine.dialect.name != "sqlite":
            return
        with session_scope(self.engine) as session:
            lock = session.get(WorkerLock, "outbox")
            if lock is not None and lock.holder == self.worker_id:
                session.delete(lock)

    def _outgoing(self, session: Session, row: OutboundMessage) -> registry.Outgoing:
        to, secret = (unseal(row.to_sealed) if row.to_sealed else None), None
        if row.body_id is not None:
            body = session.get(GrievanceBody, row.body_id)
            if body is None or not body.active:
                raise PermanentFailure("grievance body removed or inactive")
            if row.kind == "email":
                to = body.email
            elif row.kind == "webhook":
                to, secret = body.webhook_url, webhook_secret(body)
            elif row.kind == "body_sms":
                to = focal_sms(body)
        return registry.Outgoing(
            id=row.id, kind=row.kind, channel=row.channel, dedupe_key=row.dedupe_key or f"samleng-outbox-{row.id}",  # type: ignore[arg-type]
            to=to, payload=unseal(row.body_sealed) if row.body_sealed else "", target_id=row.target_id, secret=secret,
            interrupted_at=as_utc(row.sending_at) if row.sending_at else None, provider_id=row.provider_id)

    def _defer(self, outbound_id: int, reason: str) -> None:
        """Give a claimed row back untried, due again after the first backoff step (no attempt counted)."""
        with session_scope(self.engine) as session:
            row = session.get(OutboundMessage, outbound_id)
            if row is None or row.status != "pending" or row.claimed_by != self.worker_id:
                return
            row.claimed_by, row.claimed_until = None, None
            row.next_attempt_at, row.last_error = now() + backoff(1), reason
            session.add(row)

    def _deliver_one(self, outbound_id: int, item: registry.Outgoing | None, read_error: str | None) -> bool:
        """Send one claimed row and record the outcome; False when it failed for a passing reason."""
        error: tuple[str, bool] | None = (read_error, True) if read_error is not None else None
        sent, found, asked, taken_maybe = None, False, False, True
        if error is None and item is not None:  # no transaction is open while sending
            try:
                if item.kind == "webhook":  # again at delivery, after DNS resolution (service/kit/netguard.py)
                    try:
                        # A name that does not resolve now is left to the HTTP client (it fails and retries).
                        check_url(item.to or "", allow=self.settings.webhook_allow_networks, resolve=False)
                    except AddressRefused as exc:
                        raise PermanentFailure(f"webhook address refused: {exc}") from None
                driver = self._driver(registry.route_of(item.kind, item.channel))
                if item.interrupted_at is not None:
                    # An earlier send of this row was cut off (its worker died, or the call ended
                    # without an answer): ask the provider first, where it can be asked.
                    asked, sent = registry.reconcile(driver, item)
                    if sent is not None and sent.provider_id and self._recorded_elsewhere(outbound_id, sent.provider_id):
                        sent = None  # that message is another row's (e.g. a later update, redacted): not ours
                    if sent is not None:
                        found = True
                        log.info("outbox #%s found at the provider after an interrupted send: not sent again",
                                 outbound_id)
                if sent is None:
                    sent = driver.deliver(item)
            except PermanentFailure as exc:
                error = (str(exc), True)
            except NotTaken as exc:  # answered, not taken: nothing to look up next time
                error, taken_maybe = (f"{type(exc).__name__}: {str(exc)[:200]}", False), False
            except Exception as exc:
                error = (f"{type(exc).__name__}: {str(exc)[:200]}", False)
        with session_scope(self.engine) as session:
            row = session.get(OutboundMessage, outbound_id)
            if row is None or row.status != "pending" or row.claimed_by != self.worker_id:
                # Our claim lapsed while sending and another worker took the row over: it was
                # (or will be) sent by that worker too. Say so; the other worker records its own.
                if row is not None and item is not None and read_error is None:
                    note = "sent after its claim passed to another worker (a possible duplicate)"
                    session.add(DeliveryAttempt(outbound_id=outbound_id, ok=error is None,
                                                error=note if error is None else f"{note}: {error[0]}"))
                    metrics.OUTBOX.labels(row.kind, "lost_claim").inc()
                    log.warning("outbox #%s sent after its claim had passed to another worker", outbound_id)
                return error is None or error[1]
            row.attempts += 1
            row.claimed_by, row.claimed_until = None, None
            if error is None:
                if row.kind == "redact":
                    self._redacted(session, row.target_id or "")
                row.provider_id = (sent.provider_id if sent else None) or row.provider_id
                row.to_sealed = None  # delivered: the address is not kept
                row.status, row.sent_at, row.last_error = "sent", now(), None
                note = None
                if found:
                    note = "found at the provider after an interrupted send: not sent again"
                elif asked:
                    note = "not found at the provider after an interrupted send: sent again"
                elif item is not None and item.interrupted_at is not None:
                    # No way to ask (Telegram, webhooks, email): sent again with the same key.
                    note = "sent again after an interrupted send (a possible repeat)"
                    metrics.OUTBOX.labels(row.kind, "resent_in_doubt").inc()
                row.sending_at = None
                session.add(DeliveryAttempt(outbound_id=row.id, ok=True, error=note))  # type: ignore[arg-type]
                metrics.OUTBOX.labels(row.kind, "found" if found else "sent").inc()
            else:
                message, permanent = error
                if permanent or not taken_maybe:
                    row.sending_at = None  # refused: the provider does not have it
                # Otherwise the mark stays: a timeout may hide a send that happened.
                self._failed(session, row, message, dead=permanent or row.attempts >= MAX_ATTEMPTS)
            session.add(row)
        return error is None or error[1]

    def _recorded_elsewhere(self, outbound_id: int, provider_id: str) -> bool:
        with Session(self.engine) as session:
            other = session.exec(select(OutboundMessage.id).where(
                OutboundMessage.provider_id == provider_id, OutboundMessage.id != outbound_id)).first()
        return other is not None

    @staticmethod
    def _failed(session: Session, row: OutboundMessage, error: str, *, dead: bool) -> None:
        row.last_error = error
        session.add(DeliveryAttempt(outbound_id=row.id, ok=False, error=error))  # type: ignore[arg-type]
        if dead:
            # A body's address lives on the body, so its dead letters can be retried; a reporter's is wiped.
            row.status = "dead"
            if row.body_id is None:
                row.to_sealed = None
            metrics.OUTBOX.labels(row.kind, "dead").inc()
            log.warning("outbox #%s dead after %d attempts", row.id, row.attempts)
        else:
            row.next_attempt_at = now() + backoff(row.attempts)
            metrics.OUTBOX.labels(row.kind, "retry").inc()

    @staticmethod
    def _redacted(session: Session, sid: str) -> None:
        inbound = session.exec(select(InboundMessage).where(InboundMessage.external_id == sid)).first()
        if inbound is not None:
            inbound.redacted_at = now()
            session.add(inbound)

    # -- timers and retention -------------------------------------------------------------
    def housekeeping(self) -> None:
        with session_scope(self.engine) as session:
            intake.expire_conversations(session)
            vault.erase_due(session)
            ratelimit.purge(session)
            # Telegram (issue 3): forget processed updates and message ids past the deletion window.
            from bots.telegram import service as telegram_state
            from service.inbox import pending

            pending.purge_processed(session)
            telegram_state.purge(session)

    def deadlines(self) -> dict[str, int]:
        """Escalation timers: reminders, and one rung up when a body's deadline passed."""
        from service.escalation.service import check_deadlines

        with session_scope(self.engine) as session:
            return check_deadlines(session)

    def retention(self) -> int:
        """Purge what the retention periods say must go (see service/retention)."""
        from service.retention.service import purge

        with session_scope(self.engine) as session:
            return sum(purge(session, settings=self.settings, dry_run=False).values())

    # -- urgent first, then the full triage ------------------------------------------------------
    QUICK_BATCH = 200  # new reports read by the word lists per short transaction
    QUICK_ROUNDS = 20  # at most this many such transactions per call
    TRIAGE_CHUNK = 16  # at most this many reports embedded together and committed together
    TRIAGE_CHUNK_SECONDS = 1.0  # a chunk is sized to take about this long (the urgent step runs between)
    TRIAGE_SECONDS = 20.0  # a pass's full triage stops after this long (the rest: next pass, at once)
    # The statuses whose reports the full triage still reads: new, and open cases (a handler may take
    # or escalate an urgent case before the full triage reaches it). Not resolved or closed, not the
    # end states (duplicate, withdrawn, rejected).
    REFINE_STATUSES = ("received", "triaged", "in_progress", "escalated", "responded")
    ROUTE_LOCK_WAIT = 5.0  # seconds the urgent step waits for another worker's routing to end

    def urgent_first(self) -> int:
        """The quick, provisional step: new reports read by the word lists alone (no embedding,
        a fraction of a millisecond each); the urgent ones are marked triaged, routed and their
        alert queued in their own small transactions, and the alerts sent at once, whatever
        else waits in the outbox. Safe to repeat and with several workers: each report is read
        once (claimed with SKIP LOCKED on PostgreSQL), routing runs one process at a time, and
        every alert has its dedupe key. Returns how many reports became urgent."""
        from service.triage.quick import apply_provisional, classify_quick

        urgent = 0
        for _ in range(self.QUICK_ROUNDS):
            query = (select(Report).where(Report.status == "received", col(Report.narrative_sealed).is_not(None),
                                          col(Report.triage_language).is_(None),
                                          col(Report.triage_confidence).is_(None))
                     .order_by(col(Report.id)).limit(self.QUICK_BATCH))
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            with session_scope(self.engine) as session:
                due = session.exec(query).all()
                for report in due:
                    result = classify_quick(unseal(report.narrative_sealed))  # type: ignore[arg-type]
                    urgent += apply_provisional(session, report, result)
            if len(due) < self.QUICK_BATCH or self.stopping.is_set():
                break
        self.route_urgent()
        self.deliver_alerts()
        return urgent

    def route_urgent(self) -> int:
        """Route the urgent triaged reports not routed yet and queue their alerts (one transaction)."""
        import time

        from service.alerts.service import alert_urgent
        from service.routing.service import route_new_reports

        waited = time.monotonic() + self.ROUTE_LOCK_WAIT
        while True:
            with only_one(self.engine, "route") as mine:
                if mine:
                    with session_scope(self.engine) as session:
                        routed = route_new_reports(session, idle_minutes=self.settings.conversation_idle_minutes,
                                                   only_urgent=True)
                        for report in routed:
                            alert_urgent(session, report, self.settings)
                    return len(routed)
            if time.monotonic() > waited or self.stopping.is_set():
                return 0  # another worker routes; the next call tries again
            time.sleep(0.1)

    def deliver_alerts(self) -> int:
        """Send the urgent alert emails due now, before (and apart from) the rest of the outbox."""
        from service.db import read_only_options

        stamp = now()
        with Session(self.engine) as session:
            session.connection(execution_options=read_only_options(self.engine))  # SQLite: no write lock to look
            waiting = session.exec(select(OutboundMessage.id).where(
                OutboundMessage.status == "pending", col(OutboundMessage.dedupe_key).startswith(ALERT_PREFIX),
                or_(col(OutboundMessage.next_attempt_at).is_(None), col(OutboundMessage.next_attempt_at) <= stamp),
                or_(col(OutboundMessage.claimed_until).is_(None), col(OutboundMessage.claimed_until) < stamp),
            ).limit(1)).first()
        if waiting is None:
            return 0
        return self.deliver_due(alerts_only=True)

    def triage_new(self, limit: int = 500, *, between=None, seconds: float | None = None) -> int:  # type: ignore[no-untyped-def]
        """The full triage (rules, model, sentence embedding) of reports that have had none yet,
        or only the quick one: category, urgency, language, population, reasons.

        In chunks embedded together and committed together, sized to take about
        TRIAGE_CHUNK_SECONDS each (at most TRIAGE_CHUNK reports), so the urgent step that
        `between` runs before each chunk (the worker's pass gives `urgent_first`) is never far
        off, however loaded the machine. PostgreSQL: a chunk's reports are claimed with SKIP
        LOCKED for the chunk. SQLite: the texts are read without the write lock and embedded
        outside any transaction; the results are stored in one short one, skipping a report
        triaged meanwhile (its reporter added text). `seconds` bounds the time spent."""
        import time

        from service.db import read_only_options
        from service.triage.service import apply_triage, classify_many

        started, total = time.monotonic(), 0
        self._triage_more = False
        sqlite = self.engine.dialect.name == "sqlite"
        while total < limit:
            if between is not None:
                between()
            if self.stopping.is_set():
                break
            size = max(1, min(self.TRIAGE_CHUNK, int(self.TRIAGE_CHUNK_SECONDS / self._per_report), limit - total))
            query = (select(Report).where(
                col(Report.triage_confidence).is_(None), col(Report.narrative_sealed).is_not(None),
                # New reports, and those the quick step read (and alerted on when urgent) that are
                # still open, whatever a handler did meanwhile (took, corrected, escalated them).
                # The status index walks the open statuses alone: the working set, not the history.
                col(Report.status).in_(self.REFINE_STATUSES),
            ).order_by(col(Report.id)).limit(size))
            chunk_started = time.monotonic()
            if sqlite:
                with Session(self.engine) as reading:
                    reading.connection(execution_options=read_only_options(self.engine))
                    due = [(r.id, unseal(r.narrative_sealed)) for r in reading.exec(query).all()]  # type: ignore[arg-type]
                results = classify_many([t for _, t in due]) if due else []
                with session_scope(self.engine) as session:
                    for (report_id, text), result in zip(due, results, strict=True):
                        report = session.get(Report, report_id)
                        if (report is not None and report.triage_confidence is None
                                and report.status in self.REFINE_STATUSES):
                            apply_triage(session, report, text, result=result)
            else:
                # Several workers triage side by side, each its own reports (the others' are skipped).
                with session_scope(self.engine) as session:
                    reports = session.exec(query.with_for_update(skip_locked=True)).all()
                    due = [(r.id, unseal(r.narrative_sealed)) for r in reports]  # type: ignore[arg-type]
                    results = classify_many([t for _, t in due]) if due else []
                    for report, (_, text), result in zip(reports, due, results, strict=True):
                        apply_triage(session, report, text, result=result)
            if due:
                took = (time.monotonic() - chunk_started) / len(due)
                self._per_report = 0.5 * self._per_report + 0.5 * took
            total += len(due)
            if len(due) < size:
                break
            if seconds is not None and time.monotonic() - started > seconds:
                self._triage_more = True
                break
        return total

    def triage_pass(self) -> int:
        """The pass's triage duty: the full triage, with the urgent step before every chunk."""
        return self.triage_new(between=self.urgent_first, seconds=self.TRIAGE_SECONDS)

    def route_new(self) -> int:
        """New reports: cluster, route to an organisation (and its ladder), alert on urgent ones."""
        from service.alerts.service import alert_urgent
        from service.routing.service import route_new_reports

        # One worker at a time: two routing the same new report would both insert its route.
        with only_one(self.engine, "route") as mine, session_scope(self.engine) as session:
            if not mine:
                return 0
            routed = route_new_reports(session, idle_minutes=self.settings.conversation_idle_minutes)
            for report in routed:
                alert_urgent(session, report, self.settings)
        return len(routed)

    SEARCH_BATCH, SEARCH_BATCHES = 500, 40

    def index_search(self) -> int:
        """SQLite: put reports stored since the last pass into the narrative search index
        (the webhook no longer does it; see service/queue/search_index.py). PostgreSQL: nothing.
        One short transaction per batch (~50 ms of SQLite's write lock), so the webhook's
        writer gets in between; at most SEARCH_BATCHES batches per pass."""
        from service.queue.search_index import index_new_reports

        total = 0
        for _ in range(self.SEARCH_BATCHES):
            with session_scope(self.engine) as session:
                done = index_new_reports(session, limit=self.SEARCH_BATCH)
            total += done
            if done < self.SEARCH_BATCH:
                break
        return total

    ANALYTICS_EVERY = timedelta(minutes=1)

    def analytics(self) -> None:
        """Keep the dashboards' pre-aggregated table current (incremental; at most once a minute)."""
        from service.analytics import rollup

        if self._analytics_at is not None and now() - self._analytics_at < self.ANALYTICS_EVERY:
            return
        with session_scope(self.engine) as session:
            rollup.refresh(session)
        self._analytics_at = now()

    # The duties of one pass, in order: (name, method, key of its count in the pass's result).
    DUTIES = (
        ("replay", "replay_spool", "replayed"), ("urgent", "urgent_first", "urgent"),
        ("triage", "triage_pass", "triaged"), ("route", "route_new", "routed"),
        ("index", "index_search", "indexed"), ("deliver", "deliver_due", "delivered"),
        ("deadlines", "deadlines", None), ("housekeeping", "housekeeping", None), ("retention", "retention", "purged"),
        ("analytics", "analytics", None),
    )

    def run_once(self) -> dict[str, int]:
        """One pass over every duty; returns what was done.

        Each duty runs on its own: one that fails is logged (its name and the error type, never
        content) and the others still run. `self.failed` names the duties that failed in this pass.
        """
        result: dict[str, int] = {}
        self.failed: dict[str, str] = {}
        for name, method, key in self.DUTIES:
            if self.stopping.is_set():  # SIGTERM: the duties left wait for the next worker
                break
            try:
                done = getattr(self, method)()
            except Exception as exc:  # the database may be down, or one duty broken: the others go on
                self.failed[name] = type(exc).__name__
                log.error("worker duty %s failed: %s", name, type(exc).__name__)
                continue
            if isinstance(done, dict):
                result.update(done)
            elif key is not None:
                result[key] = done
        return result

    def run_forever(self, *, interval: float = 2.0) -> None:
        """Pass after pass until SIGTERM (or SIGINT): then the message in flight is finished,
        the rest of the batch and SQLite's delivery lock are released, and the pass ends."""
        self._stop_on_signals()
        log.info("worker started (driver %s%s)", self.settings.effective_sms_driver,
                 "; development outbox on: unconfigured channels are kept at /dev/outbox"
                 if self.settings.dev_outbox_on else "")
        lane = threading.Thread(target=self._urgent_lane, name="urgent-first", daemon=True)
        lane.start()
        while not self.stopping.is_set():
            busy = self.run_once().get("delivered", 0) >= self.settings.outbox_batch
            if not busy and not self._triage_more:  # a full batch means more is waiting: go again at once
                self.stopping.wait(interval)
        lane.join(30)
        log.info("worker stopped")

    URGENT_INTERVAL = 0.5  # seconds between two urgent steps of the looping worker's own lane

    def _urgent_lane(self) -> None:
        """The looping worker also runs the urgent step on its own, every URGENT_INTERVAL, in a
        thread beside the pass: an urgent report then never waits for the rest of a pass (a long
        outbox batch, the analytics rollup, a loaded machine's slow embedding). A Worker of its
        own (its own claims and id), stopping with this one."""
        lane = Worker(self.engine, self.settings, driver=self.sms)
        lane.stopping = self.stopping
        while not self.stopping.is_set():
            try:
                lane.urgent_first()
            except Exception as exc:  # the database away for a moment: the next beat tries again
                log.error("worker duty urgent (lane) failed: %s", type(exc).__name__)
            self.stopping.wait(self.URGENT_INTERVAL)

    def _stop_on_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only (e.g. a worker run inside a test)

        def stop(signum: int, _frame: object) -> None:
            log.info("worker stopping (signal %d): finishing the message in flight", signum)
            self.stopping.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)
