"""Keyed pseudonyms, the contact vault cipher and receipt-code hashes.

Identity never travels further than this module: callers hand in a raw address
and get back an HMAC pseudonym or a Fernet token.

The keys come from a key source installed with `use_keys`: `service.config` installs the process's
settings when it is imported (the kit sits below the configuration and never imports it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken


class Keys(Protocol):
    """The three secrets this module uses (service.config.Settings has them)."""

    secret_key: str
    pseudonym_key: str
    vault_key: str


_source: Callable[[], Keys] | None = None


def use_keys(source: Callable[[], Keys]) -> None:
    """Where the keys are read from, at each use (so a test that changes the settings is seen)."""
    global _source
    _source = source


def _keys() -> Keys:
    if _source is None:
        raise RuntimeError("no key source: import service.config (it installs the settings' keys)")
    return _source()


def _derive(secret: str, purpose: str) -> bytes:
    """Derive an independent 32-byte key for one purpose from a configured secret."""
    return hmac.new(secret.encode(), f"samleng:{purpose}".encode(), hashlib.sha256).digest()


def pseudonym(channel: str, address: str) -> str:
    """HMAC(SAMLENG_PSEUDONYM_KEY, channel + ':' + address) as hex; the only link between messages."""
    key = _keys().pseudonym_key.encode()
    return hmac.new(key, f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()


def receipt_hash(normalised_code: str) -> str:
    """Keyed hash of a receipt code; the code itself is never stored."""
    key = _derive(_keys().secret_key, "receipt")
    return hmac.new(key, normalised_code.encode(), hashlib.sha256).hexdigest()


def rate_key(*parts: str) -> str:
    """Keyed hash for rate-limit buckets, so bucket names leak nothing."""
    key = _derive(_keys().secret_key, "rate")
    return hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=4)
def _fernet(vault_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(vault_key, "vault")))


def seal(plaintext: str) -> bytes:
    """Encrypt text with the vault key (Fernet: AES-128-CBC + HMAC-SHA256)."""
    return _fernet(_keys().vault_key).encrypt(plaintext.encode())


def unseal(token: bytes) -> str:
    """Decrypt what `seal` produced; raises ValueError when the token is not ours."""
    try:
        return _fernet(_keys().vault_key).decrypt(token).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong vault key or damaged data") from exc


def seal_bytes(data: bytes) -> bytes:
    """Encrypt bytes (evidence files) with the vault key, like `seal`."""
    return _fernet(_keys().vault_key).encrypt(data)


def unseal_bytes(token: bytes) -> bytes:
    """Decrypt what `seal_bytes` produced; raises ValueError when the token is not ours."""
    try:
        return _fernet(_keys().vault_key).decrypt(token)
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong vault key or damaged data") from exc


def keyed_hash(purpose: str, value: str) -> str:
    """Keyed hash of a secret value (one-time link codes), independent per purpose."""
    key = _derive(_keys().secret_key, purpose)
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
