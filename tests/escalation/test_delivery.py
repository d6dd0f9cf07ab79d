"""Outbound to bodies: email over a real local SMTP server, Standard Webhooks signatures, dead letters."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from sqlmodel import Session, select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from service.bodies.service import get_body, upsert_body, webhook_secret
from service.escalation import service as esc
from service.kit.errors import InvalidInput
from service.outbox import registry
from service.outbox.models import DeliveryAttempt, OutboundMessage
from service.outbox.service import dead_letters, retry_now
from service.worker import Worker
from tests.escalation.factories import make_case, outbox


def test_email_reaches_a_real_smtp_server_with_the_dedupe_key_as_message_id(settings, engine, seeded, smtp) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        report = make_case(s, category="human_rights_violation", place="KH-1", population="people_who_use_drugs")
        escalation_id = esc.escalate(s, report, actor="handler").id
        s.commit()
    assert Worker(engine, settings).run_once()["delivered"] == 1
    (mail,) = smtp.messages
    assert mail["To"] == "pdcc.bmc@drugs.example.org" and mail["From"] == settings.mail_from
    assert mail["Message-ID"] == f"<esc{escalation_id}-new-email@localhost>"
    body = mail.get_content()
    assert "[phone]" in body and "/respond/" in body and "សូមឆ្លើយតបមុនថ្ងៃ" in body  # Khmer for a Khmer body
    with Session(engine) as s:
        (row,) = outbox(s, kind="email")
        assert row.status == "sent" and len(s.exec(select(DeliveryAttempt)).all()) == 1


def test_smtp_down_retries_then_dead_letter_then_retry_now(settings, engine, seeded, smtp, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        esc.escalate(s, make_case(s), actor="handler")
        s.commit()
    port = smtp.port
    smtp.stop()  # the mail server is down
    worker = Worker(engine, settings)
    worker.run_once()
    with Session(engine) as s:
        (row,) = outbox(s, kind="email")
        assert row.status == "pending" and row.attempts == 1 and "Error" in (row.last_error or "")
        row.attempts = 7
        row.next_attempt_at = None
        s.add(row)
        s.commit()
    worker.run_once()
    with Session(engine) as s:
        (row,) = dead_letters(s)
        assert row.status == "dead" and row.kind == "email"
    smtp.start()  # the mail server is back
    try:
        with Session(engine) as s:
            retry_now(s, row.id)  # type: ignore[arg-type]
            s.commit()
        worker.run_once()
        assert len(smtp.messages) == 1
        with Session(engine) as s:
            assert s.get(OutboundMessage, row.id).status == "sent"  # type: ignore[union-attr]
            with pytest.raises(InvalidInput):
                retry_now(s, row.id)  # type: ignore[arg-type]
    finally:
        smtp.stop()


def test_webhook_signature_verifies_with_the_standard_library_and_fails_when_tampered(settings, engine, seeded) -> None:  # type: ignore[no-untyped-def]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with Session(engine) as s:
        body = get_body(s, "nacd")
        body = upsert_body(s, slug="nacd", name_en=body.name_en, name_km=body.name_km, level=body.level,
                           network=body.network, language=body.language, webhook_url="https://nacd.example.org/hook")
        secret = webhook_secret(body)
        report = make_case(s, category="human_rights_violation", place="KH-1", population="people_who_use_drugs")
        report_id = report.id
        s.commit()
    driver = registry.WebhookDriver(settings, client=httpx.Client(transport=httpx.MockTransport(handler)))
    item = registry.Outgoing(id=1, kind="webhook", channel="webhook", dedupe_key="esc9-new-webhook",
                             to="https://nacd.example.org/hook", secret=secret,
                             payload=json.dumps({"type": "case.escalated", "data": {"case": report_id}}))
    driver.deliver(item)
    (request,) = seen
    headers = {k: v for k, v in request.headers.items()}
    payload = Webhook(secret).verify(request.content, headers)  # type: ignore[arg-type]
    assert payload["type"] == "case.escalated" and payload["data"] == {"case": report_id}
    assert headers["webhook-id"] == headers["idempotency-key"] == "esc9-new-webhook"
    # An independent check of the spec: v1,base64(HMAC-SHA256(key, id.timestamp.body)).
    import hashlib
    import hmac

    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request.content
    expected = base64.b64encode(hmac.new(base64.b64decode(secret[6:]), signed, hashlib.sha256).digest()).decode()  # type: ignore[index]
    assert headers["webhook-signature"] == "v1," + expected
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.content.replace(b'"case"', b'"kase"'), headers)  # type: ignore[arg-type]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another-secret-entirely!").decode()).verify(request.content, headers)  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "outcome"), [(204, "sent"), (409, "sent"), (503, "pending"), (400, "dead"), (410, "dead")])
def test_webhook_answers_decide_retry_or_dead_letter(settings, engine, seeded, status: int, outcome: str) -> None:  # type: ignore[no-untyped-def]
    registry.register("webhook", lambda s: registry.WebhookDriver(s, client=httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(status)))))
    try:
        with Session(engine) as s:
            body = upsert_body(s, slug="hooked", name_en="Hooked", level="national", webhook_url="https://h.example/x")
            from service.outbox.service import enqueue_to_body

            enqueue_to_body(s, body_id=body.id, kind="webhook", dedupe_key="k1", payload={"type": "t", "data": {}})  # type: ignore[arg-type]
            s.commit()
        Worker(engine, settings).run_once()
        with Session(engine) as s:
            (row,) = outbox(s, kind="webhook")
            assert row.status == outcome
    finally:
        registry.register("webhook", registry.WebhookDriver)


def test_the_same_message_is_never_queued_twice(settings, engine, seeded) -> None:  # type: ignore[no-untyped-def]
    from service.outbox.service import enqueue_to_body

    with Session(engine) as s:
        body = get_body(s, "nacd")
        assert enqueue_to_body(s, body_id=body.id, kind="email", dedupe_key="same", payload={}) is not None  # type: ignore[arg-type]
        s.flush()
        assert enqueue_to_body(s, body_id=body.id, kind="email", dedupe_key="same", payload={}) is None  # type: ignore[arg-type]
        s.commit()
        assert len(outbox(s)) == 1
