"""Outbox delivery: claim due messages, send each through its driver, record the outcome.

Claims with leases (renewed by a heartbeat while a send is under way), SQLite's one-deliverer
lock, a look-up at the provider after an interrupted send, backoff and dead letters. The rest
of `samleng worker` (the other duties and the loop) is service/worker.py.
"""

from __future__ import annotations

import logging
import os
import random
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
from service.bodies.models import GrievanceBody
from service.bodies.service import focal_sms, webhook_secret
from service.kit.clock import as_utc, now
from service.kit.crypto import unseal
from service.kit.netguard import AddressRefused, check_url
from service.kit.models import require_id
from service.ops import metrics
from service.outbox import registry
from service.outbox.drivers import NotTaken, PermanentFailure, SmsDriver
from service.outbox.models import DeliveryAttempt, OutboundMessage, WorkerLock

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

    def __init__(self, worker: Deliverer) -> None:
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


class Deliverer:
    """Sends what the outbox holds. `stopping` (set on SIGTERM) ends a batch after the message in flight."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        driver: SmsDriver | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.engine, self.settings = engine, settings
        self.sms = driver  # an SMS driver given by the caller; otherwise built from settings per route
        self._drivers: dict[str, registry.Driver] = {}
        self.worker_id = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = stopping or threading.Event()  # set on SIGTERM: finish the message in flight, then stop
        self._claimed_until: dict[int, datetime] = {}  # this batch's claims, as last written
        self._lock_until: datetime | None = None  # SQLite's delivery lock, as last written
        self.last_batch = 0  # how many rows the last batch claimed

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
            query = (
                select(OutboundMessage)
                .where(
                    OutboundMessage.status == "pending",
                    or_(col(OutboundMessage.next_attempt_at).is_(None), col(OutboundMessage.next_attempt_at) <= stamp),
                    or_(col(OutboundMessage.claimed_until).is_(None), col(OutboundMessage.claimed_until) < stamp),
                )
                .order_by(col(OutboundMessage.id))
                .limit(limit)
            )
            if alerts_only:
                query = query.where(col(OutboundMessage.dedupe_key).startswith(ALERT_PREFIX))
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.exec(query).all()
            until = stamp + timedelta(seconds=self.settings.outbox_lease_seconds)
            claimed: list[tuple[int, registry.Outgoing | None, str | None]] = []
            self._claimed_until = {}
            for row in rows:
                row_id = require_id(row)
                row.claimed_by, row.claimed_until = self.worker_id, until
                self._claimed_until[row_id] = until
                session.add(row)
                try:
                    claimed.append((row_id, self._outgoing(session, row), None))
                except PermanentFailure as exc:
                    claimed.append((row_id, None, str(exc)))
            return claimed

    def deliver_due(self, limit: int | None = None, *, alerts_only: bool = False) -> int:
        """Claim a batch and send it, one message at a time.

        The batch's claims may lapse while earlier messages are sent (another worker may then
        take a row): right before each send the row's claim is re-checked and renewed in one
        conditional UPDATE, and while the send is under way a heartbeat keeps renewing it
        (and, on SQLite, the delivery lock). A stop request (SIGTERM) ends the batch after
        the message in flight; whatever is left is released at once for the next worker.
        """
        self.last_batch = 0
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
                assert heartbeat is not None, "started when anything was claimed"
                with heartbeat.watching(outbound_id):
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
        self.last_batch = len(claimed)
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
                lock = session.exec(
                    update(WorkerLock)
                    .where(
                        col(WorkerLock.name) == "outbox",
                        col(WorkerLock.holder) == self.worker_id,
                    )
                    .values(expires_at=until)
                )
                if lock.rowcount != 1:
                    return None
            result = session.exec(
                update(OutboundMessage)
                .where(
                    col(OutboundMessage.id) == outbound_id,
                    col(OutboundMessage.claimed_by) == self.worker_id,
                    col(OutboundMessage.status) == "pending",
                )
                .values(claimed_until=until, sending_at=func.coalesce(col(OutboundMessage.sending_at), stamp))
            )
            held = result.rowcount == 1
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
                held = (
                    session.exec(
                        update(WorkerLock)
                        .where(
                            col(WorkerLock.name) == "outbox",
                            col(WorkerLock.holder) == self.worker_id,
                        )
                        .values(expires_at=until)
                    ).rowcount
                    == 1
                )
            if outbound_id is not None:
                held = (
                    session.exec(
                        update(OutboundMessage)
                        .where(
                            col(OutboundMessage.id) == outbound_id,
                            col(OutboundMessage.claimed_by) == self.worker_id,
                            col(OutboundMessage.status) == "pending",
                        )
                        .values(claimed_until=until)
                    ).rowcount
                    == 1
                    and held
                )
        return held

    def _release_claims(self) -> None:
        """Give back every row this worker claimed and did not finish: due again at once for anyone."""
        try:
            with session_scope(self.engine) as session:
                session.execute(
                    update(OutboundMessage)
                    .where(
                        col(OutboundMessage.claimed_by) == self.worker_id,
                        col(OutboundMessage.status) == "pending",
                    )
                    .values(claimed_by=None, claimed_until=None)
                )
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
            id=require_id(row),
            kind=row.kind,
            channel=row.channel,
            dedupe_key=row.dedupe_key or f"samleng-outbox-{row.id}",
            to=to,
            payload=unseal(row.body_sealed) if row.body_sealed else "",
            target_id=row.target_id,
            secret=secret,
            interrupted_at=as_utc(row.sending_at) if row.sending_at else None,
            provider_id=row.provider_id,
        )

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
                    if (
                        sent is not None
                        and sent.provider_id
                        and self._recorded_elsewhere(outbound_id, sent.provider_id)
                    ):
                        sent = None  # that message is another row's (e.g. a later update, redacted): not ours
                    if sent is not None:
                        found = True
                        log.info(
                            "outbox #%s found at the provider after an interrupted send: not sent again", outbound_id
                        )
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
                    lost = "sent after its claim passed to another worker (a possible duplicate)"
                    session.add(
                        DeliveryAttempt(
                            outbound_id=outbound_id,
                            ok=error is None,
                            error=lost if error is None else f"{lost}: {error[0]}",
                        )
                    )
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
                note: str | None = None
                if found:
                    note = "found at the provider after an interrupted send: not sent again"
                elif asked:
                    note = "not found at the provider after an interrupted send: sent again"
                elif item is not None and item.interrupted_at is not None:
                    # No way to ask (Telegram, webhooks, email): sent again with the same key.
                    note = "sent again after an interrupted send (a possible repeat)"
                    metrics.OUTBOX.labels(row.kind, "resent_in_doubt").inc()
                row.sending_at = None
                session.add(DeliveryAttempt(outbound_id=require_id(row), ok=True, error=note))
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
            other = session.exec(
                select(OutboundMessage.id).where(
                    OutboundMessage.provider_id == provider_id, OutboundMessage.id != outbound_id
                )
            ).first()
        return other is not None

    @staticmethod
    def _failed(session: Session, row: OutboundMessage, error: str, *, dead: bool) -> None:
        row.last_error = error
        session.add(DeliveryAttempt(outbound_id=require_id(row), ok=False, error=error))
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
