"""A send cut off half-way: the outbox marks a message "sending" (committed) before it calls the
provider, and a worker that finds the mark asks the provider before sending again.

Twilio has no idempotency key, but its Messages list can be asked: a worker SIGKILLed right after
Twilio took an SMS (the fake kills it there, before answering) leaves the row marked; the next
worker finds the message at Twilio and records it instead of texting the person twice. Telegram,
webhooks and email cannot be asked: they go again, with the same key, and the attempt says so.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from service.kit.clock import now
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.outbox.service import enqueue_message
from service.worker import Worker
from tests.support.database import configure
from tests.support.processes import procs, spawn_worker, wait_for  # noqa: F401  (fixtures)
from tests.support.telegram_fake import BOT_TOKEN, FakeBotApi
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi

NUMBER = "+85596000222"
TEXT = "Your report reached the Operational District."


def twilio_settings(settings, monkeypatch, fake: FakeTwilioApi):  # type: ignore[no-untyped-def]
    new = configure(monkeypatch, SAMLENG_SMS_DRIVER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                    TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM="+85523000000", TWILIO_API_BASE=fake.base_url)
    for field in ("sms_driver", "twilio_account_sid", "twilio_auth_token", "twilio_from", "twilio_api_base"):
        setattr(settings, field, getattr(new, field))
    return settings


def queue(engine, *, channel: str = "sms", to: str = NUMBER, body: str = TEXT, interrupted: bool = False) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        row = enqueue_message(s, channel=channel, to=to, body=body)
        if interrupted:  # as a worker leaves it when it dies mid-send
            row.sending_at = now() - timedelta(seconds=5)
        s.commit()
        return row.id  # type: ignore[return-value]


def twilio_has(fake: FakeTwilioApi, *, body: str = TEXT, direction: str = "outbound-api") -> str:
    """A message Twilio holds for NUMBER (as if an earlier, interrupted send had created it)."""
    from twilio.rest import Client

    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = fake.base_url
    sid = client.messages.create(to=NUMBER, from_="+85523000000", body=body).sid
    with fake.lock:
        fake.messages[-1]["direction"] = direction
        fake.created.clear()
        fake.requests.clear()
    return sid


def posts(fake: FakeTwilioApi) -> list[dict[str, str]]:
    return [form for method, path, form in fake.requests if method == "POST" and path.endswith("/Messages.json")]


def row_and_attempts(engine, outbound_id: int):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        attempts = s.exec(select(DeliveryAttempt).where(DeliveryAttempt.outbound_id == outbound_id)).all()
        s.expunge_all()
        return row, attempts


# -- the mark ---------------------------------------------------------------------------------------
def test_the_sending_mark_is_committed_before_the_provider_is_called(settings, engine, monkeypatch, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    twilio_settings(settings, monkeypatch, fake_twilio)
    outbound_id = queue(engine)
    seen: list[object] = []

    def look(_form: dict[str, str]) -> None:  # another connection, while Twilio holds the request
        with Session(engine) as s:
            seen.append(s.get(OutboundMessage, outbound_id).sending_at)  # type: ignore[union-attr]

    fake_twilio.on_create = look
    Worker(engine, settings).run("deliver")
    assert len(seen) == 1 and seen[0] is not None, "marked 'sending' before Twilio was called"
    row, _ = row_and_attempts(engine, outbound_id)
    assert row.status == "sent" and row.sending_at is None, "the mark is cleared once the send is recorded"
    assert posts(fake_twilio)[0]["StatusCallback"].endswith(f"/webhooks/twilio/status?o={outbound_id}")


def test_an_answered_refusal_clears_the_mark_and_a_lost_answer_keeps_it(settings, engine, monkeypatch, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    twilio_settings(settings, monkeypatch, fake_twilio)
    refused = queue(engine)
    fake_twilio.fail_next, fake_twilio.fail_status = 1, 503  # Twilio answered: it has nothing
    Worker(engine, settings).run("deliver")
    assert row_and_attempts(engine, refused)[0].sending_at is None
    settings.outbox_timeout = 0.5
    lost = queue(engine, body="Another update on your report.")
    with Session(engine) as s:  # only the new row is due
        s.get(OutboundMessage, refused).next_attempt_at = now() + timedelta(hours=1)  # type: ignore[union-attr]
        s.commit()
    fake_twilio.hanging.set()  # the call ends without an answer: Twilio may have it
    try:
        Worker(engine, settings).run("deliver")
    finally:
        fake_twilio.hanging.clear()
    row, attempts = row_and_attempts(engine, lost)
    assert row.status == "pending" and row.sending_at is not None and not attempts[-1].ok


# -- SMS: asked at Twilio ---------------------------------------------------------------------------
def test_an_interrupted_sms_twilio_has_is_recorded_not_sent_again(settings, engine, monkeypatch, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    twilio_settings(settings, monkeypatch, fake_twilio)
    sid = twilio_has(fake_twilio)
    outbound_id = queue(engine, interrupted=True)
    Worker(engine, settings).run("deliver")
    assert posts(fake_twilio) == [], "not texted a second time"
    gets = [params for method, _, params in fake_twilio.requests if method == "GET"]
    assert gets and gets[0]["To"] == NUMBER
    row, attempts = row_and_attempts(engine, outbound_id)
    assert row.status == "sent" and row.provider_id == sid and row.sending_at is None and row.to_sealed is None
    assert [a.error for a in attempts] == ["found at the provider after an interrupted send: not sent again"]


def test_an_interrupted_sms_whose_body_twilio_already_redacted_is_found(settings, engine, monkeypatch, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    twilio_settings(settings, monkeypatch, fake_twilio)
    sid = twilio_has(fake_twilio, body="")
    outbound_id = queue(engine, interrupted=True)
    Worker(engine, settings).run("deliver")
    assert posts(fake_twilio) == []
    assert row_and_attempts(engine, outbound_id)[0].provider_id == sid


@pytest.mark.parametrize("case", ["other text", "a TwiML reply", "before the mark"])
def test_an_interrupted_sms_twilio_does_not_have_is_sent(case: str, settings, engine, monkeypatch, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    twilio_settings(settings, monkeypatch, fake_twilio)
    if case == "other text":
        twilio_has(fake_twilio, body="Something else entirely.")
    elif case == "a TwiML reply":
        twilio_has(fake_twilio, direction="outbound-reply")
    else:
        twilio_has(fake_twilio)
        with fake_twilio.lock:
            fake_twilio.messages[-1]["date_created"] = "Mon, 01 Jun 2026 08:00:00 +0000"
    outbound_id = queue(engine, interrupted=True)
    Worker(engine, settings).run("deliver")
    assert len(posts(fake_twilio)) == 1
    row, attempts = row_and_attempts(engine, outbound_id)
    assert row.status == "sent" and row.provider_id != fake_twilio.messages[0]["sid"]
    assert attempts[-1].error == "not found at the provider after an interrupted send: sent again"


def test_a_status_callback_names_the_interrupted_row_by_its_tag(settings, engine, monkeypatch, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    """Twilio's status callback URL carries the outbox id: a row whose worker died before it
    learnt the SID learns it from the callback, and the next worker records it without a look-up."""
    from bots.sms.routes import record_status

    twilio_settings(settings, monkeypatch, fake_twilio)
    outbound_id = queue(engine, interrupted=True)
    with Session(engine) as s:
        record_status(s, sid="SM" + "a" * 32, status="delivered", error_code="", settings=settings, outbox_id=outbound_id)
        s.commit()
    Worker(engine, settings).run("deliver")
    assert fake_twilio.requests == [] or posts(fake_twilio) == []
    row, attempts = row_and_attempts(engine, outbound_id)
    assert row.status == "sent" and row.provider_id == "SM" + "a" * 32 and row.delivered_at is not None
    assert attempts[-1].error == "found at the provider after an interrupted send: not sent again"


@pytest.mark.slow
def test_a_worker_killed_after_twilio_took_the_sms_does_not_text_twice(settings, engine, monkeypatch, tmp_path: Path, procs) -> None:  # type: ignore[no-untyped-def]
    """Real processes: Twilio stores the message, then the worker is SIGKILLed before the answer
    reaches it. The next worker (the lease has lapsed) asks Twilio and records it."""
    fake = FakeTwilioApi()
    fake.start()
    try:
        outbound_id = queue(engine)
        env = dict(SAMLENG_SMS_DRIVER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                   TWILIO_FROM="+85523000000", TWILIO_API_BASE=fake.base_url)

        def kill_the_sender(_form: dict[str, str]) -> None:
            if fake.on_create is kill_the_sender and procs:
                fake.on_create = None
                os.kill(procs[0].pid, signal.SIGKILL)
                procs[0].wait(10)

        fake.on_create = kill_the_sender
        procs.append(spawn_worker(settings.database_url, tmp_path, lease=1.0, **env))
        # Generous: the worker loads the triage model before its first pass (slow on a busy machine).
        assert wait_for(lambda: procs[0].poll() is not None, 300), "the worker never reached Twilio"
        assert len(fake.created) == 1
        row, _ = row_and_attempts(engine, outbound_id)
        assert row.status == "pending" and row.sending_at is not None, "left marked by the dead worker"
        procs.append(spawn_worker(settings.database_url, tmp_path, lease=1.0, **env))
        assert wait_for(lambda: row_and_attempts(engine, outbound_id)[0].status == "sent", 300)
        assert len(fake.created) == 1, f"the person was texted {len(fake.created)} times"
        row, attempts = row_and_attempts(engine, outbound_id)
        assert row.provider_id == fake.messages[0]["sid"]
        assert attempts[-1].error == "found at the provider after an interrupted send: not sent again"
    finally:
        fake.stop()


# -- Telegram: cannot be asked ------------------------------------------------------------------------
def test_an_interrupted_telegram_message_is_sent_again_and_says_so(settings, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The Bot API has no look-up of sent messages: the message goes again (a person missing a
    case update is worse than reading it twice), the attempt and a metric say it may be a repeat."""
    bot_api = FakeBotApi()
    bot_api.start()
    try:
        new = configure(monkeypatch, TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE=bot_api.base_url)
        for field in ("telegram_bot_token", "telegram_api_base"):
            setattr(settings, field, getattr(new, field))
        outbound_id = queue(engine, channel="telegram", to="424242", interrupted=True)
        Worker(engine, settings).run("deliver")
        assert len(bot_api.of("sendMessage")) == 1
        row, attempts = row_and_attempts(engine, outbound_id)
        assert row.status == "sent" and row.sending_at is None
        assert attempts[-1].error == "sent again after an interrupted send (a possible repeat)"
    finally:
        bot_api.stop()


def test_a_message_twilio_has_for_another_row_is_not_taken_for_the_interrupted_one(settings, engine, monkeypatch, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    """A later update to the same person, already sent and redacted at Twilio, is that row's."""
    twilio_settings(settings, monkeypatch, fake_twilio)
    sid = twilio_has(fake_twilio, body="")
    with Session(engine) as s:
        other = s.get(OutboundMessage, queue(engine, body="A later update."))
        other.provider_id, other.status = sid, "sent"  # type: ignore[union-attr]
        s.commit()
    outbound_id = queue(engine, interrupted=True)
    Worker(engine, settings).run("deliver")
    assert len(posts(fake_twilio)) == 1, "sent: the message Twilio has is the other row's"
    row, _ = row_and_attempts(engine, outbound_id)
    assert row.status == "sent" and row.provider_id not in (None, sid)
