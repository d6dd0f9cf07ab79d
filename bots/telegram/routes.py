"""`POST /webhooks/telegram`: check the secret, store the update durably, answer 200.

Nothing is processed before the update is safe in the database (encrypted, in
`pending_update`); if it cannot be stored the answer is 503 and Telegram redelivers.
A wrong or missing `X-Telegram-Bot-Api-Secret-Token` gets 403 and nothing is stored.
"""

from __future__ import annotations

import hmac
import json
import logging
import time

from fastapi import APIRouter, HTTPException, Request, Response

from bots.telegram.bot import CHANNEL, person_of, sender_of, update_key
from service.config import Settings
from service.inbox import pending
from service.ops import metrics

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])

WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 256 * 1024  # an update is JSON metadata; files are fetched separately


def _refuse(status: int, detail: str) -> HTTPException:
    metrics.REJECTED.labels(CHANNEL, str(status)).inc()
    return HTTPException(status, detail)


def lane_key(data: dict, update_key: str) -> str:
    """The writer lane of an update: its sender's chat, else the update itself."""
    sender = sender_of(data)
    return f"telegram-chat:{sender}" if sender is not None else f"telegram-update:{update_key}"


@router.post(WEBHOOK_PATH)
async def telegram_webhook(request: Request) -> Response:
    started = time.perf_counter()
    settings: Settings = request.app.state.settings
    bot = getattr(request.app.state, "telegram", None)
    if bot is None:
        raise _refuse(404, "telegram is not configured")
    secret = settings.telegram_webhook_secret
    if secret:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise _refuse(403, "invalid secret token")
    body = await request.body()
    if len(body) > MAX_UPDATE_BYTES:
        raise _refuse(413, "update too large")
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        key = update_key(data)
    except (ValueError, UnicodeDecodeError):
        raise _refuse(400, "not a Telegram update") from None
    if key is None:
        metrics.INBOUND.labels(CHANNEL, "ignored").inc()
        return Response(status_code=200)
    try:
        # Keyed by the person: copies of one update, and one person's updates, go to one writer
        # lane, in the order they came (the key is hashed in memory only, never kept).
        row_id, new = await request.app.state.writer.run(
            lambda session: pending.store_pending(
                session, channel=CHANNEL, external_id=key, payload=body, person=person_of(data)
            ),
            key=lane_key(data, key),
        )
    except Exception as exc:
        # Not stored: say so, and Telegram will deliver it again.
        log.warning("telegram update not stored: %s", type(exc).__name__)
        raise _refuse(503, "temporarily unavailable") from None
    if new:
        bot.enqueue(row_id, body)
    else:
        metrics.INBOUND.labels(CHANNEL, "duplicate").inc()
    metrics.WEBHOOK_SECONDS.labels(CHANNEL).observe(time.perf_counter() - started)
    return Response(status_code=200)
