"""The background worker: spool replay, outbox delivery with backoff, timers and retention."""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select

from service.config import Settings
from service.db import session_scope
from service.inbox.models import InboundMessage
from service.inbox.spool import Spool
from service.intake import ratelimit
from service.intake import service as intake
from service.intake import vault
from service.intake.schemas import InboundMessage as Inbound
from service.kit.clock import now
from service.kit.crypto import unseal
from service.ops import metrics
from service.outbox.drivers import PermanentFailure, SmsDriver, sms_driver
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.outbox.service import enqueue_message, enqueue_redaction

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 1 hour, with ±20 % jitter."""
    base = min(30 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


class Worker:
    def __init__(self, engine: Engine, settings: Settings, *, driver: SmsDriver | None = None) -> None:
        self.engine, self.settings = engine, settings
        self.driver = driver or sms_driver(settings)
        self.spool = Spool(settings.spool_dir)
        self._telegram: SmsDriver | None = None

    # -- spool -----------------------------------------------------------------------------
    def replay_spool(self) -> int:
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

        done, _failed = self.spool.replay(handle)
        metrics.SPOOL_DEPTH.set(self.spool.depth())
        return done

    # -- outbox ----------------------------------------------------------------------------
    def deliver_due(self, limit: int = 50) -> int:
        with session_scope(self.engine) as session:
            due = session.exec(
                select(OutboundMessage.id).where(
                    OutboundMessage.status == "pending",
                    or_(col(OutboundMessage.next_attempt_at).is_(None), col(OutboundMessage.next_attempt_at) <= now()),
                ).order_by(col(OutboundMessage.id)).limit(limit)
            ).all()
        for outbound_id in due:
            self._deliver_one(outbound_id)  # type: ignore[arg-type]
        return len(due)

    def _deliver_one(self, outbound_id: int) -> None:
        with session_scope(self.engine) as session:
            row = session.get(OutboundMessage, outbound_id)
            if row is None or row.status != "pending":
                return
            row.attempts += 1
            try:
                if row.kind == "redact":
                    self.driver.redact(channel=row.channel, message_sid=row.target_id or "")
                    self._redacted(session, row.target_id or "")
                else:
                    sent = self._driver_for(row.channel).send(channel=row.channel, to=unseal(row.to_sealed or b""),
                                            body=unseal(row.body_sealed or b""))
                    row.provider_id = sent.provider_id
                    row.to_sealed = None  # delivered: the address is not kept
                row.status, row.sent_at, row.last_error = "sent", now(), None
                session.add(DeliveryAttempt(outbound_id=row.id, ok=True))  # type: ignore[arg-type]
                metrics.OUTBOX.labels(row.kind, "sent").inc()
            except PermanentFailure as exc:
                self._failed(session, row, str(exc), dead=True)
            except Exception as exc:
                self._failed(session, row, f"{type(exc).__name__}: {str(exc)[:200]}", dead=row.attempts >= MAX_ATTEMPTS)
            session.add(row)

    def _driver_for(self, channel: str) -> SmsDriver:
        """The driver for a channel: Telegram has its own (issue 3); everything else the SMS driver."""
        if channel == "telegram":
            if self._telegram is None:
                from service.outbox.drivers import TelegramDriver

                self._telegram = TelegramDriver(self.settings)
            return self._telegram
        return self.driver

    @staticmethod
    def _failed(session: Session, row: OutboundMessage, error: str, *, dead: bool) -> None:
        row.last_error = error
        session.add(DeliveryAttempt(outbound_id=row.id, ok=False, error=error))  # type: ignore[arg-type]
        if dead:
            row.status, row.to_sealed = "dead", None
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

    def run_once(self) -> dict[str, int]:
        """One pass over every duty; returns what was done."""
        replayed = self.replay_spool()
        delivered = self.deliver_due()
        self.housekeeping()
        return {"replayed": replayed, "delivered": delivered}

    def run_forever(self, *, interval: float = 2.0) -> None:
        log.info("worker started (driver %s)", self.settings.effective_sms_driver)
        while True:
            try:
                self.run_once()
            except Exception as exc:  # keep going; the database may come back
                log.warning("worker pass failed: %s", type(exc).__name__)
            time.sleep(interval)
