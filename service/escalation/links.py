"""Signed, expiring response links: the only credential a body needs to answer a case.

token = base64url("<escalation id>.<expiry unix>.<nonce>") + "." + base64url(HMAC-SHA256)
under a key derived from SAMLENG_SECRET_KEY for this purpose only. Changing an
escalation's nonce revokes the links already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone

from service.config import get_settings
from service.kit.clock import now
from service.kit.errors import DomainError


class BadLink(DomainError):
    """Tampered, malformed or revoked."""


class ExpiredLink(DomainError):
    pass


def _key() -> bytes:
    return hmac.new(get_settings().secret_key.encode(), b"samleng:respond-link", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(escalation_id: int, nonce: str, expires_at: datetime) -> str:
    payload = f"{escalation_id}.{int(expires_at.timestamp())}.{nonce}".encode()
    return _b64(payload) + "." + _b64(hmac.new(_key(), payload, hashlib.sha256).digest())


def read_token(token: str) -> tuple[int, str, datetime]:
    """(escalation id, nonce, expiry) of a genuine, unexpired token; raises BadLink / ExpiredLink."""
    try:
        payload_part, sig_part = token.split(".")
        payload = _unb64(payload_part)
        signature = _unb64(sig_part)
    except (ValueError, TypeError):
        raise BadLink("malformed link") from None
    if not hmac.compare_digest(signature, hmac.new(_key(), payload, hashlib.sha256).digest()):
        raise BadLink("link signature does not match")
    try:
        ident, expiry, nonce = payload.decode().split(".")
        escalation_id, expires_at = int(ident), datetime.fromtimestamp(int(expiry), tz=timezone.utc)
    except (ValueError, UnicodeDecodeError):
        raise BadLink("malformed link") from None
    if expires_at <= now():
        raise ExpiredLink("link expired")
    return escalation_id, nonce, expires_at


def csrf_token(token: str) -> str:
    """A per-link form token: a cross-site page cannot forge a POST without having read the page."""
    return _b64(hmac.new(_key(), b"csrf:" + token.encode(), hashlib.sha256).digest()[:18])
