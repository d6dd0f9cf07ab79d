"""The browser's side of a web session: the cookie names and the CSRF tokens tied to them.

A shared piece (service.kit): the pages of every package render with service/kit/render.py, which
reads these cookies; `service.auth` issues and checks the sessions themselves.
"""

from __future__ import annotations

import hashlib
import hmac

from service.kit.crypto import keys

COOKIE = "__Host-samleng"
PRE_COOKIE = "__Host-samleng-pre"  # random value that CSRF tokens of signed-out forms are tied to
LANG_COOKIE = "samleng-lang"


def csrf_token(basis: str) -> str:
    """Synchronizer token derived from the session token (or the pre-sign-in cookie)."""
    key = keys().secret_key.encode()
    return hmac.new(key, f"csrf:{hashlib.sha256(basis.encode()).hexdigest()}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(basis: str | None, submitted: str | None) -> bool:
    if not basis or not submitted:
        return False
    return hmac.compare_digest(csrf_token(basis), submitted)
