"""A downstream that accepts and never answers slows only its own deliveries.

A fake Twilio REST API takes the request and holds it. The worker (a real process,
real `twilio` library) must give up on it after SAMLENG_OUTBOX_TIMEOUT, keep replaying
the spool and delivering to Telegram and webhooks, and send the SMS later once Twilio
answers again.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from service.inbox.spool import Spool
from service.intake.schemas import InboundMessage as Inbound
from service.kit.clock import now
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.outbox.service import enqueue_message
from tests.escalation.test_worker_processes import queue as queue_webhooks
from tests.support.processes import procs, spawn_worker, wait_for  # noqa: F401  (fixtures)
from tests.support.receiver import WebhookReceiver
from tests.support.telegram_fake import BOT_TOKEN, FakeBotApi
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi


@pytest.mark.slow
def test_a_hung_twilio_does_not_stop_the_other_duties(settings, engine, tmp_path: Path, procs) -> None:  # type: ignore[no-untyped-def]
    twilio, bot_api, receiver = FakeTwilioApi(), FakeBotApi(), WebhookReceiver()
    twilio.hanging.set()
    twilio.start()
    bot_api.start()
    try:
        numbers = [f"+8551200{i:04d}" for i in range(3)]
        with Session(engine) as s:  # SMS first: the batch reaches the hung API before anything else
            for number in numbers:
                enqueue_message(s, channel="sms", to=number, body=f"Your report is with the review team ({number[-4:]})")
            enqueue_message(s, channel="telegram", to="424242", body="An update on your report")
            s.commit()
        queue_webhooks(engine, receiver, 3)
        procs.append(spawn_worker(
            settings.database_url, tmp_path, SAMLENG_OUTBOX_TIMEOUT="2", SAMLENG_SMS_DRIVER="twilio",
            TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM="+85523000000",
            TWILIO_API_BASE=twilio.base_url, TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE=bot_api.base_url))
        assert wait_for(lambda: twilio.held >= 1, 60), "the worker never called Twilio"
        # A report spooled while the worker is stuck with Twilio.
        Spool(tmp_path / "spool").append(Inbound(channel="sms", external_id="SM" + uuid.uuid4().hex,
                                                 address="+85512999888", text="No medicine at the clinic", received_at=now()))

        def replayed() -> bool:
            with Session(engine) as s:
                return s.exec(select(func.count()).select_from(InboundMessage)).one() == 1
        assert wait_for(replayed, 60), "the spool was not replayed while Twilio hung"
        assert wait_for(lambda: len(receiver.processed) == 3, 60), "webhooks waited for Twilio"
        assert wait_for(lambda: len(bot_api.of("sendMessage")) == 1, 60), "Telegram waited for Twilio"
        assert procs[0].poll() is None

        with Session(engine) as s:
            failed = s.exec(select(DeliveryAttempt.error).where(DeliveryAttempt.ok == False)).all()  # noqa: E712
            assert failed and all("Timeout" in (e or "") or "deferred" in (e or "") for e in failed), failed
            assert s.exec(select(func.count()).select_from(OutboundMessage).where(
                OutboundMessage.channel == "sms", OutboundMessage.kind == "message",
                OutboundMessage.status == "pending")).one() >= 3, "timed-out SMS stay queued for a retry"

        # Twilio answers again; the backoff has passed (brought forward here instead of waited for).
        twilio.hanging.clear()
        with Session(engine) as s:
            s.exec(update(OutboundMessage).where(OutboundMessage.status == "pending")  # type: ignore[call-overload]
                   .values(next_attempt_at=now()))
            s.commit()

        def all_sent() -> bool:
            with Session(engine) as s:
                return s.exec(select(func.count()).select_from(OutboundMessage).where(
                    OutboundMessage.status != "sent")).one() == 0
        assert wait_for(all_sent, 90), "the SMS were not sent once Twilio answered"
        created_to = sorted(f["To"] for f in twilio.created)
        assert [n for n in created_to if n in numbers] == numbers, "each SMS created exactly once at Twilio"
        assert len(receiver.raw) == 3 and len(bot_api.of("sendMessage")) == 1
    finally:
        twilio.stop()
        bot_api.stop()
        receiver.stop()


def test_a_failing_twilio_costs_one_attempt_per_batch_and_everything_is_sent_once_later(settings, engine, fake_twilio, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Twilio answers 500: the first SMS of the batch records a failed attempt, the others are
    put back untried, the webhook in the same batch goes out; later each SMS is created once."""
    from service.worker import Worker
    from tests.support.database import configure

    live = configure(monkeypatch, SAMLENG_SMS_DRIVER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                     TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM="+85523000000", TWILIO_API_BASE=fake_twilio.base_url)
    receiver = WebhookReceiver()
    try:
        numbers = [f"+8551300{i:04d}" for i in range(3)]
        with Session(engine) as s:
            for number in numbers:
                enqueue_message(s, channel="sms", to=number, body="Your report is with the review team")
            s.commit()
        queue_webhooks(engine, receiver, 1)
        fake_twilio.fail_next, fake_twilio.fail_status = 1, 500
        worker = Worker(engine, live)
        worker.run("deliver")
        assert len(receiver.processed) == 1, "the webhook did not wait for Twilio"
        assert len(fake_twilio.requests) == 1, "one failing call per batch, not one per message"
        with Session(engine) as s:
            attempts = s.exec(select(DeliveryAttempt)).all()
            assert sorted(a.ok for a in attempts) == [False, True]
            deferred = s.exec(select(OutboundMessage).where(OutboundMessage.last_error == "deferred: sms failing")).all()
            assert len(deferred) == 2 and all(r.attempts == 0 and r.claimed_by is None for r in deferred)
            s.exec(update(OutboundMessage).where(OutboundMessage.status == "pending")  # type: ignore[call-overload]
                   .values(next_attempt_at=now()))
            s.commit()
        worker.run("deliver")
        created = sorted(form["To"] for method, path, form in fake_twilio.requests[1:] if path.endswith("/Messages.json"))
        assert created == numbers, "each SMS created exactly once after Twilio recovered"
        with Session(engine) as s:
            assert s.exec(select(func.count()).select_from(OutboundMessage)
                          .where(OutboundMessage.status != "sent")).one() == 0
    finally:
        receiver.stop()
