"""The worker talks to Twilio through the real `twilio` client, against a local fake of its API."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from service.kit.clock import now
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.outbox.service import enqueue_message
from service.outbox.worker import MAX_ATTEMPTS, backoff
from service.worker import Worker
from tests.support.database import configure
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi, Phone, new_sid, sign

NUMBER = "+85596000111"


@pytest.fixture
def twilio_env(settings, monkeypatch, fake_twilio: FakeTwilioApi):  # type: ignore[no-untyped-def]
    new = configure(monkeypatch, SAMLENG_SMS_DRIVER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                    TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM="+85523000000", TWILIO_API_BASE=fake_twilio.base_url)
    for field in ("sms_driver", "twilio_account_sid", "twilio_auth_token", "twilio_from", "twilio_api_base"):
        setattr(settings, field, getattr(new, field))
    return settings


def queue_message(engine, body: str = "Your case was sent to the Operational District.") -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        row = enqueue_message(s, channel="sms", to=NUMBER, body=body)
        s.commit()
        return row.id  # type: ignore[return-value]


def test_message_is_sent_through_twilio_and_address_wiped(twilio_env, engine, fake_twilio: FakeTwilioApi) -> None:  # type: ignore[no-untyped-def]
    outbound_id = queue_message(engine)
    assert Worker(engine, twilio_env).run_once()["delivered"] == 1
    ((method, path, form),) = fake_twilio.requests
    assert method == "POST" and path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert form["To"] == NUMBER and form["From"] == "+85523000000"
    assert form["Body"].startswith("Your case was sent")
    assert form["StatusCallback"].endswith(f"/webhooks/twilio/status?o={outbound_id}")  # the outbox tag
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        assert row.status == "sent" and row.provider_id and row.provider_id.startswith("SM")  # type: ignore[union-attr]
        assert row.to_sealed is None  # type: ignore[union-attr]
        assert len(s.exec(select(DeliveryAttempt)).all()) == 1


def test_transient_failures_retry_with_backoff(twilio_env, engine, fake_twilio: FakeTwilioApi) -> None:  # type: ignore[no-untyped-def]
    outbound_id = queue_message(engine)
    fake_twilio.fail_next, fake_twilio.fail_status = 2, 503
    worker = Worker(engine, twilio_env)
    worker.run_once()
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        assert row.status == "pending" and row.attempts == 1  # type: ignore[union-attr]
        assert row.next_attempt_at > now() + timedelta(seconds=20)  # type: ignore[union-attr,operator]
    worker.run_once()
    assert len(fake_twilio.requests) == 1, "not retried before its backoff is due"
    for _ in range(2):
        with Session(engine) as s:
            row = s.get(OutboundMessage, outbound_id)
            row.next_attempt_at = now() - timedelta(seconds=1)  # type: ignore[union-attr]
            s.add(row)
            s.commit()
        worker.run_once()
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        assert row.status == "sent" and row.attempts == 3  # type: ignore[union-attr]
        attempts = s.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
        assert [a.ok for a in attempts] == [False, False, True]


def test_permanent_failure_goes_to_dead_letter(twilio_env, engine, fake_twilio: FakeTwilioApi) -> None:  # type: ignore[no-untyped-def]
    outbound_id = queue_message(engine)
    fake_twilio.fail_next, fake_twilio.fail_status = 1, 400
    Worker(engine, twilio_env).run_once()
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        assert row.status == "dead" and row.to_sealed is None and "400" in (row.last_error or "")  # type: ignore[union-attr]


def test_backoff_grows_and_is_capped() -> None:
    assert timedelta(seconds=24) <= backoff(1) <= timedelta(seconds=36)
    assert backoff(4) > backoff(1)
    assert backoff(30) <= timedelta(seconds=3600 * 1.2)
    assert MAX_ATTEMPTS >= 5


def test_inbound_bodies_are_redacted_at_twilio(twilio_env, engine, places, live_server, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    phone = Phone(client=live_server.client, base_url=live_server.base_url)
    sid = new_sid()
    response = phone.post(phone.params("They asked for money for the free TB test", sid=sid))
    assert response.status_code == 200
    assert 'action="' in response.text and "/webhooks/twilio/status" in response.text
    Worker(engine, twilio_env).run_once()
    paths = [path for _, path, _ in fake_twilio.requests]
    assert f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json" in paths
    ((_, _, form),) = [r for r in fake_twilio.requests if r[1].endswith(f"{sid}.json")]
    assert form == {"Body": ""}
    with Session(engine) as s:
        assert s.exec(select(InboundMessage).where(InboundMessage.external_id == sid)).one().redacted_at is not None


def test_status_callback_records_delivery_and_queues_reply_redaction(twilio_env, engine, live_server, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    outbound_id = queue_message(engine)
    Worker(engine, twilio_env).run_once()
    with Session(engine) as s:
        provider_id = s.get(OutboundMessage, outbound_id).provider_id  # type: ignore[union-attr]
    url = live_server.base_url + "/webhooks/twilio/status"
    params = {"MessageSid": provider_id, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    for _ in range(2):  # a repeated callback changes nothing more
        response = live_server.client.post("/webhooks/twilio/status", content=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(url, params)})
        assert response.status_code == 204
    bad = live_server.client.post("/webhooks/twilio/status", content=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "forged"})
    assert bad.status_code == 403
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        assert row.provider_status == "delivered" and row.delivered_at is not None  # type: ignore[union-attr]
        redactions = s.exec(select(OutboundMessage).where(OutboundMessage.kind == "redact")).all()
        assert [r.target_id for r in redactions] == [provider_id]


def test_console_driver_records_without_network(settings, engine, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    outbound_id = queue_message(engine)
    Worker(engine, settings).run_once()
    assert fake_twilio.requests == []
    with Session(engine) as s:
        row = s.get(OutboundMessage, outbound_id)
        assert row.status == "sent" and row.provider_id is None  # type: ignore[union-attr]
