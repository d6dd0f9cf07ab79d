"""Pseudonyms and the vault cipher."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from service.config import get_settings
from service.kit import crypto


def test_pseudonym_is_keyed_and_channel_scoped(settings) -> None:  # type: ignore[no-untyped-def]
    a = crypto.pseudonym("sms", "+85512345678")
    assert a == crypto.pseudonym("sms", "+85512345678")
    assert a != crypto.pseudonym("whatsapp", "+85512345678")
    assert "85512345678" not in a and len(a) == 64
    settings.pseudonym_key = "another-key-entirely-0123456789abcdef"
    assert crypto.pseudonym("sms", "+85512345678") != a


def test_seal_round_trip_and_tamper(settings) -> None:  # type: ignore[no-untyped-def]
    token = crypto.seal("+85512345678")
    assert b"85512345678" not in token
    assert crypto.unseal(token) == "+85512345678"
    with pytest.raises(ValueError):
        crypto.unseal(token[:-2] + b"AA")


def test_the_keys_come_from_the_source_the_configuration_installed(settings) -> None:  # type: ignore[no-untyped-def]
    """The kit never imports service.config: the configuration hands it a key source when imported."""
    ours = crypto.pseudonym("sms", "+85512345678")
    other = SimpleNamespace(secret_key=settings.secret_key, vault_key=settings.vault_key,
                            pseudonym_key="a-different-pseudonym-key-0123456789ab")
    crypto.use_keys(lambda: other)
    try:
        assert crypto.pseudonym("sms", "+85512345678") != ours
    finally:
        crypto.use_keys(get_settings)
    assert crypto.pseudonym("sms", "+85512345678") == ours
