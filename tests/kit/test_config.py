"""Production refuses to start with missing or weak secrets."""

from __future__ import annotations

import pytest

from service.config import ConfigError, Settings

STRONG = {
    "SAMLENG_SECRET_KEY": "Zq8v3LrT0pXc9wKm2sYb7nHf4jGd6aEu",
    "SAMLENG_PSEUDONYM_KEY": "Pn4xR7tK2vLq9mWc3zYh8bFs6dJg1aNe",
    "SAMLENG_VAULT_KEY": "Vb5yT8qM3wNr0kXd7cZf2hLs9pGj4aRu",
    "TWILIO_AUTH_TOKEN": "9f3b1c7a2e8d4f60b5a1c9e7d3f2a8b4",
    "TELEGRAM_WEBHOOK_SECRET": "tg_Hq7Kz2Wm9Rv4Xc1Lp8Nd3Fs6Bj0Yt",
    "SAMLENG_PUBLIC_URL": "https://samleng.example.org",
}


def production(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> Settings:
    monkeypatch.setenv("SAMLENG_ENV", "production")
    for key, value in {**STRONG, **overrides}.items():
        if value:
            monkeypatch.setenv(key, value)
        else:
            monkeypatch.delenv(key, raising=False)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_strong_production_settings_start(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = production(monkeypatch)
    assert settings.effective_sms_driver == "twilio"


@pytest.mark.parametrize(
    "override",
    [
        {"SAMLENG_SECRET_KEY": ""},
        {"SAMLENG_PSEUDONYM_KEY": "short"},
        {"SAMLENG_VAULT_KEY": "changeme-changeme-changeme-changeme"},
        {"SAMLENG_VAULT_KEY": "a" * 40},
        {"TWILIO_AUTH_TOKEN": ""},
        {"TELEGRAM_WEBHOOK_SECRET": ""},
        {"SAMLENG_PUBLIC_URL": "http://samleng.example.org"},
    ],
)
def test_production_refuses_weak_or_missing(monkeypatch: pytest.MonkeyPatch, override: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        production(monkeypatch, **override)


def test_development_generates_secrets_once(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import service.config as config

    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    monkeypatch.setenv("SAMLENG_ENV", "development")
    for key in ("SAMLENG_SECRET_KEY", "SAMLENG_PSEUDONYM_KEY", "SAMLENG_VAULT_KEY"):
        monkeypatch.delenv(key, raising=False)
    first, second = Settings(_env_file=None), Settings(_env_file=None)  # type: ignore[call-arg]
    assert first.pseudonym_key == second.pseudonym_key and len(first.pseudonym_key) >= 40
    assert first.vault_key != first.pseudonym_key
    assert (tmp_path / "vault_key.txt").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "override",
    [
        {"TWILIO_AUTH_TOKEN": "x"},
        {"TELEGRAM_WEBHOOK_SECRET": "s"},
        {"TELEGRAM_WEBHOOK_SECRET": "short-but-not-one-char"},
        # one value reused for all three keys
        {"SAMLENG_PSEUDONYM_KEY": STRONG["SAMLENG_SECRET_KEY"], "SAMLENG_VAULT_KEY": STRONG["SAMLENG_SECRET_KEY"]},
        {"SAMLENG_VAULT_KEY": STRONG["SAMLENG_SECRET_KEY"]},
        {"TELEGRAM_WEBHOOK_SECRET": STRONG["SAMLENG_VAULT_KEY"]},
        # a pattern repeated is not random, whatever its length and letters
        {"SAMLENG_SECRET_KEY": "abcdefghij" * 4},
        {"SAMLENG_VAULT_KEY": "0123456789abcdefghijklmnopqrstuv"},
        {"TWILIO_AUTH_TOKEN": "abcdef12" * 4},
    ],
)
def test_production_refuses_short_reused_or_patterned_secrets(monkeypatch: pytest.MonkeyPatch,
                                                               override: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        production(monkeypatch, **override)


@pytest.mark.parametrize("value", ["samleng@ngo.org\r\nBcc: leak@evil.test", "samleng@ngo.org\nX: y", "a\rb@c.d"])
def test_a_line_ending_in_the_mail_sender_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SAMLENG_MAIL_FROM", value)
    with pytest.raises((ConfigError, ValueError)):
        Settings(_env_file=None)  # type: ignore[call-arg]
