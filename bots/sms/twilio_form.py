"""Read and check a Twilio webhook request: size, encoding, signature, fields."""

from __future__ import annotations

import functools
import hmac
import re
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from twilio.request_validator import RequestValidator

MAX_REQUEST_BYTES = 64 * 1024
MAX_FIELDS = 128
# Twilio's guess at where a number is registered: never stored.
LOCATION_FIELDS = frozenset(f"{side}{part}" for side in ("From", "To") for part in ("City", "State", "Zip", "Country"))
_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
_ADDRESS = re.compile(r"^(whatsapp:)?\+?[0-9]{3,17}$")


async def read_form(request: Request) -> dict[str, str]:
    """Parse a form-encoded body strictly: bounded, UTF-8, no repeated keys."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise HTTPException(415, "expected application/x-www-form-urlencoded")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_REQUEST_BYTES):
        raise HTTPException(413, "request too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            raise HTTPException(413, "request too large")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, "malformed form body") from exc
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise HTTPException(400, f"repeated field {key[:40]}")
        params[key] = value
    return params


def verify_signature(request: Request, params: dict[str, str], *, auth_token: str, public_url: str) -> None:
    """403 unless X-Twilio-Signature matches SAMLENG_PUBLIC_URL + path over every parameter."""
    if not auth_token:
        return
    # The path and query as Starlette's request.url gives them, without building a URL object.
    url = public_url.rstrip("/") + request.scope["path"]
    query = request.scope.get("query_string", b"")
    if query:
        url += "?" + query.decode()
    signature = request.headers.get("x-twilio-signature", "")
    if not signature:
        raise HTTPException(403, "invalid Twilio signature")
    validator = _validator(auth_token)
    # The URL as configured is what Twilio signs: one HMAC. Only on a mismatch let the
    # library try its variants (with and without the default port) before refusing.
    if hmac.compare_digest(validator.compute_signature(url, params), signature):
        return
    if not validator.validate(url, params, signature):
        raise HTTPException(403, "invalid Twilio signature")


@functools.lru_cache(maxsize=4)
def _validator(auth_token: str) -> RequestValidator:
    return RequestValidator(auth_token)


def require(params: dict[str, str], name: str, pattern: re.Pattern[str] | None = None) -> str:
    value = params.get(name, "")
    if not value or (pattern is not None and not pattern.match(value)):
        raise HTTPException(400, f"missing or invalid {name}")
    return value


def message_sid(params: dict[str, str]) -> str:
    return require(params, "MessageSid", _SID)


def sender(params: dict[str, str]) -> tuple[str, str]:
    """(channel, address) from Twilio's From: `whatsapp:+855…` → whatsapp, else sms."""
    raw = require(params, "From", _ADDRESS)
    channel = "whatsapp" if raw.startswith("whatsapp:") else "sms"
    number = raw.removeprefix("whatsapp:")
    return channel, number if number.startswith("+") else "+" + number
