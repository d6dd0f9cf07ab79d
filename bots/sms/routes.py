"""Twilio adapter: inbound SMS and WhatsApp, delivery status callbacks.

Verifies the signature, turns the form into one `InboundMessage` (dropping Twilio's
location guesses), hands it to the intake dialogue on the writer thread and renders
the reply as TwiML. If the database cannot take it, the message goes to the
durable spool and the sender hears that it was received; if the spool cannot take
it either (disk full), the answer is 503 and Twilio tries its fallback URL or again.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, HTTPException, Request, Response
from sqlmodel import Session, select
from twilio.twiml.messaging_response import MessagingResponse

from bots.sms import twilio_form
from service.config import Settings
from service.intake import service as intake
from service.intake import texts
from service.intake.schemas import InboundMessage, Reply
from service.intake.reading import read as read_text
from service.kit.clock import now
from service.intake.language import detect as detect_language
from service.kit.i18n import gettext
from service.kit.masking import clean_text
from service.ops import metrics
from service.outbox.models import OutboundMessage
from service.outbox.service import enqueue_redaction

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])

SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
FINAL_STATUSES = frozenset({"sent", "delivered", "undelivered", "failed", "read"})


def twiml(text: str, *, status_url: str | None = None) -> Response:
    response = MessagingResponse()
    if text:
        # With a status callback we learn the reply's sid, so it can be redacted at Twilio too.
        response.message(text, action=status_url, method="POST") if status_url else response.message(text)
    return Response(content=response.to_xml(), media_type="application/xml")


def store_sms(session: Session, message: InboundMessage, settings: Settings) -> Reply:
    """The unit of work for one inbound Twilio message (runs on the writer)."""
    reply = intake.receive(session, message, settings=settings)
    if not reply.duplicate and settings.effective_sms_driver == "twilio":
        # Twilio keeps bodies for 30+ days: blank it there once we hold it safely.
        enqueue_redaction(session, channel=message.channel, message_sid=message.external_id)
    return reply


# Prometheus children resolved once per label set (labels() costs ~10 µs a call).
_INBOUND: dict[tuple[str, str], object] = {}
_REPORTS: dict[str, object] = {}
_SECONDS: dict[str, object] = {}


def _inbound(channel: str, outcome: str):
    child = _INBOUND.get((channel, outcome))
    if child is None:
        child = _INBOUND[(channel, outcome)] = metrics.INBOUND.labels(channel, outcome)
    return child


def _reports(channel: str):
    child = _REPORTS.get(channel)
    if child is None:
        child = _REPORTS[channel] = metrics.REPORTS.labels(channel)
    return child


def _seconds(channel: str):
    child = _SECONDS.get(channel)
    if child is None:
        child = _SECONDS[channel] = metrics.WEBHOOK_SECONDS.labels(channel)
    return child


@router.post(SMS_PATH)
async def inbound_sms(request: Request) -> Response:
    started = time.perf_counter()
    settings: Settings = request.app.state.settings
    try:
        params = await twilio_form.read_form(request)
        twilio_form.verify_signature(
            request, params, auth_token=settings.twilio_auth_token, public_url=settings.public_url
        )
        sid = twilio_form.message_sid(params)
        channel, address = twilio_form.sender(params)
        text = clean_text(params.get("Body", ""))
        if len(text) > settings.max_body_chars:
            raise HTTPException(413, "message body too long")
    except HTTPException as exc:
        metrics.REJECTED.labels("sms", str(exc.status_code)).inc()
        raise
    for name in twilio_form.LOCATION_FIELDS:
        params.pop(name, None)
    # The text's readings (masking, keyword, language) here, not on the writer's one thread.
    reading = read_text(text.strip()).complete()
    message = InboundMessage(
        channel=channel, external_id=sid, address=address, text=text, received_at=now(), reading=reading
    )
    try:
        # Keyed by sender: one person's messages are handled in order, on one writer lane.
        reply = await request.app.state.writer.run(lambda session: store_sms(session, message, settings), key=address)
    except Exception as exc:
        # The database could not take it: keep it on disk, acknowledge, replay later.
        try:
            request.app.state.spool.append(message)
        except OSError as spool_error:
            # Neither stored nor spooled (disk full, I/O error): do not acknowledge. A 5xx makes
            # Twilio try the fallback URL (or this one again later); nothing was kept here.
            metrics.REJECTED.labels(channel, "503").inc()
            log.error(
                "inbound %s message neither stored (%s) nor spooled (%s)",
                channel,
                type(exc).__name__,
                type(spool_error).__name__,
            )
            return Response(status_code=503, content="temporarily unavailable", media_type="text/plain")
        metrics.SPOOLED.labels(channel).inc()
        metrics.INBOUND.labels(channel, "spooled").inc()
        log.warning("inbound %s message spooled: %s", channel, type(exc).__name__)
        return twiml(gettext(detect_language(text), texts.SPOOLED))
    _inbound(channel, "duplicate" if reply.duplicate else reply.kind).inc()
    if reply.kind.startswith("report") and not reply.duplicate:
        _reports(channel).inc()
    _seconds(channel).observe(time.perf_counter() - started)
    status_url = settings.public_url.rstrip("/") + STATUS_PATH if settings.effective_sms_driver == "twilio" else None
    return twiml(reply.text, status_url=status_url)


def record_status(
    session: Session, *, sid: str, status: str, error_code: str, settings: Settings, outbox_id: int | None = None
) -> None:
    """Record a delivery status; a finished TwiML reply is queued for redaction at Twilio.

    `outbox_id` is the tag the outbox put in the StatusCallback URL (`?o=`): a row whose send was
    interrupted before the worker learnt the SID learns it here, so it is not sent again.
    """
    row = session.exec(select(OutboundMessage).where(OutboundMessage.provider_id == sid)).first()
    if row is None and outbox_id is not None:
        tagged = session.get(OutboundMessage, outbox_id)
        if tagged is not None and tagged.provider_id is None and tagged.sending_at is not None:
            row, tagged.provider_id = tagged, sid
    if row is not None:
        row.provider_status = status
        if status in ("delivered", "read") and row.delivered_at is None:
            row.delivered_at = now()
        if status in ("undelivered", "failed"):
            row.last_error = f"twilio status {status} {error_code}".strip()
        session.add(row)
    if status in FINAL_STATUSES and settings.effective_sms_driver == "twilio":
        queued = session.exec(
            select(OutboundMessage.id).where(OutboundMessage.kind == "redact", OutboundMessage.target_id == sid)
        ).first()
        if queued is None:
            enqueue_redaction(session, channel="sms", message_sid=sid)


@router.post(STATUS_PATH)
async def delivery_status(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    params = await twilio_form.read_form(request)
    twilio_form.verify_signature(request, params, auth_token=settings.twilio_auth_token, public_url=settings.public_url)
    sid = twilio_form.message_sid(params)
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not status.isalpha() or len(status) > 24:
        raise HTTPException(400, "missing or invalid MessageStatus")
    error_code = params.get("ErrorCode", "")[:12]
    tag = request.query_params.get("o", "")
    outbox_id = int(tag) if tag.isdigit() and len(tag) < 19 else None
    await request.app.state.writer.run(
        lambda session: record_status(
            session, sid=sid, status=status, error_code=error_code, settings=settings, outbox_id=outbox_id
        )
    )
    return Response(status_code=204)
