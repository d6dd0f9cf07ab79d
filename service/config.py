"""Settings: one pydantic BaseSettings, read from the environment and `.env`.

In development the three secrets are generated once into `var/` so that a fresh
clone runs with no setup; in production a missing or weak secret stops the
process at start-up.
"""

from __future__ import annotations

import base64
import os
import secrets
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.kit import crypto, zones
from service.kit.clock import parse_offset

VAR_DIR = Path(os.environ.get("SAMLENG_VAR_DIR", "var"))

_SECRET_FIELDS = ("secret_key", "pseudonym_key", "vault_key")


class ConfigError(RuntimeError):
    """The configuration cannot be used (missing or weak secret, bad value)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = Field("development", alias="SAMLENG_ENV")
    database_url: str = Field("sqlite:///var/samleng.db", alias="SAMLENG_DATABASE_URL")
    secret_key: str = Field("", alias="SAMLENG_SECRET_KEY")
    pseudonym_key: str = Field("", alias="SAMLENG_PSEUDONYM_KEY")
    vault_key: str = Field("", alias="SAMLENG_VAULT_KEY")
    public_url: str = Field("http://127.0.0.1:8000", alias="SAMLENG_PUBLIC_URL")
    sms_driver: Literal["console", "twilio", ""] = Field("", alias="SAMLENG_SMS_DRIVER")
    spool_dir: str = Field("var/spool", alias="SAMLENG_SPOOL_DIR")
    # How long an unanswered intake conversation stays open.
    conversation_idle_minutes: int = Field(60, alias="SAMLENG_CONVERSATION_IDLE_MINUTES", ge=1)
    # New reports per sender per hour before further reports are deferred.
    reports_per_hour: int = Field(5, alias="SAMLENG_REPORTS_PER_HOUR", ge=1)
    # STATUS/DELETE lookups: per sender per hour, and platform-wide per minute.
    lookups_per_sender_hour: int = Field(10, alias="SAMLENG_LOOKUPS_PER_SENDER_HOUR", ge=1)
    lookups_global_minute: int = Field(120, alias="SAMLENG_LOOKUPS_GLOBAL_MINUTE", ge=1)
    # Seconds a write waits for SQLite's lock before the request is spooled.
    db_busy_timeout: float = Field(5.0, alias="SAMLENG_DB_BUSY_TIMEOUT", gt=0)
    # Writer threads; unset: 1 on SQLite (one writer at a time anyway), 4 on PostgreSQL.
    writer_lanes: int | None = Field(None, alias="SAMLENG_WRITER_LANES", ge=1, le=32)
    max_body_chars: int = Field(4096, alias="SAMLENG_MAX_BODY_CHARS", ge=160)
    # A deployment's own places file (same format as service/places/data/places.yaml).
    places_file: str = Field("", alias="SAMLENG_PLACES_FILE")
    log_level: str = Field("INFO", alias="SAMLENG_LOG_LEVEL")
    # The platform's time zone for organisations without one of their own (IANA name; times are
    # stored in UTC and shown in the reader's zone: docs/time-zones-and-languages.md).
    time_zone: str = Field("Asia/Phnom_Penh", alias="SAMLENG_TIME_ZONE")
    # Triage clusters: near-duplicate reports (same place and category, similar text) within
    # this many days are grouped; a cluster of this many reports is flagged systemic.
    triage_cluster_window_days: int = Field(14, alias="SAMLENG_TRIAGE_CLUSTER_WINDOW_DAYS", ge=1)
    triage_cluster_similarity: float = Field(0.5, alias="SAMLENG_TRIAGE_CLUSTER_SIMILARITY", gt=0, le=1)
    triage_cluster_systemic_size: int = Field(5, alias="SAMLENG_TRIAGE_CLUSTER_SYSTEMIC_SIZE", ge=2)
    # Review queue: the organisation whose users also see reports not yet routed to any
    # organisation (org_id NULL); empty: only platform administrators see those.
    intake_org: str = Field("", alias="SAMLENG_INTAKE_ORG")
    # --- analytics ---
    # Published counts from 1 to threshold-1 show as "<threshold"; never below 5 (refused at start-up).
    suppression_threshold: int = Field(10, alias="SAMLENG_SUPPRESSION_THRESHOLD", ge=5)
    dhis2_url: str = Field("", alias="SAMLENG_DHIS2_URL")
    dhis2_username: str = Field("", alias="SAMLENG_DHIS2_USERNAME")
    dhis2_password: str = Field("", alias="SAMLENG_DHIS2_PASSWORD")
    dhis2_mapping_file: str = Field("", alias="SAMLENG_DHIS2_MAPPING_FILE")

    twilio_account_sid: str = Field("", alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field("", alias="TWILIO_AUTH_TOKEN")
    twilio_from: str = Field("", alias="TWILIO_FROM")
    twilio_api_base: str = Field("", alias="TWILIO_API_BASE")
    telegram_bot_token: str = Field("", alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: str = Field("", alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base: str = Field("", alias="TELEGRAM_API_BASE")
    smtp_url: str = Field("", alias="SAMLENG_SMTP_URL")
    # --- Telegram bot and evidence ---
    # Evidence files (photos, PDFs), encrypted with the vault key, one file each.
    evidence_dir: str = Field("var/evidence", alias="SAMLENG_EVIDENCE_DIR")
    evidence_max_bytes: int = Field(10_000_000, alias="SAMLENG_EVIDENCE_MAX_BYTES", ge=10_000, le=20_000_000)
    # How long an outreach worker's one-time link code stays valid.
    agent_link_hours: int = Field(24, alias="SAMLENG_AGENT_LINK_HOURS", ge=1)
    # Telegram updates processed at the same time (one at a time per person).
    telegram_concurrency: int = Field(16, alias="TELEGRAM_CONCURRENCY", ge=1, le=256)
    # --- wiring: the bot's @username, for the outreach worker's deep link t.me/<bot>?start=<code> ---
    telegram_bot_username: str = Field("", alias="TELEGRAM_BOT_USERNAME", max_length=64)

    # -- escalation, outbox worker and retention -------------------------------------
    # Sender address of the emails to grievance bodies.
    mail_from: str = Field("samleng@localhost", alias="SAMLENG_MAIL_FROM")
    # A body's response link stays valid this many days after its deadline.
    response_link_days: int = Field(30, alias="SAMLENG_RESPONSE_LINK_DAYS", ge=1)
    # Outbox: rows claimed per pass, how long a claim holds, HTTP/SMTP timeout per try.
    outbox_batch: int = Field(50, alias="SAMLENG_OUTBOX_BATCH", ge=1)
    # Who may read /metrics: clients in these networks (the direct peer address, never a forwarded
    # header), or anyone presenting this bearer token. Empty token: networks only.
    metrics_allow: str = Field("127.0.0.1/32,::1/128", alias="SAMLENG_METRICS_ALLOW")
    metrics_token: str = Field("", alias="SAMLENG_METRICS_TOKEN")
    # Grievance-body webhooks may only reach public addresses, unless a range is allowed here
    # (comma-separated networks, e.g. a body's server on the office LAN: 192.168.10.0/24).
    webhook_allow_networks: str = Field("", alias="SAMLENG_WEBHOOK_ALLOW_NETWORKS")
    outbox_lease_seconds: float = Field(300.0, alias="SAMLENG_OUTBOX_LEASE_SECONDS", gt=0)
    outbox_timeout: float = Field(10.0, alias="SAMLENG_OUTBOX_TIMEOUT", gt=0)
    # Retention: contact details erased this long after closure; raw narratives, delivered
    # outbox payloads and evidence files of closed cases purged after these periods.
    contact_grace_days: float = Field(14, alias="SAMLENG_CONTACT_GRACE_DAYS", ge=0)
    narrative_retention_days: float = Field(90, alias="SAMLENG_NARRATIVE_RETENTION_DAYS", ge=0)
    outbox_retention_days: float = Field(30, alias="SAMLENG_OUTBOX_RETENTION_DAYS", ge=0)
    # Retaliation watch (docs/retaliation.md): check-ins this many days after the escalation that names a
    # facility or an authority (comma-separated whole days; empty: none), how long a check-in waits for its
    # answer, and the routing rule whose organisation takes the urgent case a "yes" opens.
    retaliation_checkin_days: str = Field(
        "7,30", alias="SAMLENG_RETALIATION_CHECKIN_DAYS", pattern=r"^\s*(\d{1,3}\s*(,\s*\d{1,3}\s*)*)?$"
    )
    retaliation_answer_days: float = Field(14, alias="SAMLENG_RETALIATION_ANSWER_DAYS", gt=0)
    retaliation_rule: str = Field("retaliation", alias="SAMLENG_RETALIATION_RULE", max_length=64)
    # Development outbox: messages that would go out through a channel that is not configured (no SMTP
    # URL, no Twilio, no Telegram bot token) are kept for people to read at /dev/outbox instead.
    # Unset: on when SAMLENG_ENV=development. Refused in production.
    dev_outbox: bool | None = Field(None, alias="SAMLENG_DEV_OUTBOX")

    # Development and testing only: shift the clock serve and worker read (e.g. +73h, -2d, +90m, +30s),
    # so deadlines, reminders and expiry can be shown and tested from outside. Refused in production.
    clock_offset: str = Field("", alias="SAMLENG_CLOCK_OFFSET", max_length=40)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def dev_outbox_on(self) -> bool:
        if self.is_production:
            return False
        return self.dev_outbox if self.dev_outbox is not None else self.env == "development"

    @property
    def effective_sms_driver(self) -> str:
        return self.sms_driver or ("twilio" if self.is_production else "console")

    @model_validator(mode="after")
    def _secrets(self) -> "Settings":
        if self.clock_offset.strip():
            if self.is_production:
                raise ConfigError("SAMLENG_CLOCK_OFFSET is for development and testing only: unset it in production")
            try:
                parse_offset(self.clock_offset)
            except ValueError as exc:
                raise ConfigError(f"SAMLENG_CLOCK_OFFSET: {exc}") from None
        if any(c in self.mail_from for c in "\r\n\x00"):
            raise ConfigError("SAMLENG_MAIL_FROM must be one line (a line ending would add mail headers)")
        if self.is_production and self.dev_outbox:
            raise ConfigError("SAMLENG_DEV_OUTBOX is for development: it cannot be used in production")
        for name in _SECRET_FIELDS:
            value = getattr(self, name)
            if not value:
                if self.is_production:
                    raise ConfigError(f"SAMLENG_{name.upper()} must be set in production")
                setattr(self, name, _dev_secret(name))
            elif self.is_production and _weak(value):
                raise ConfigError(f"SAMLENG_{name.upper()} is too weak (need 32+ random bytes)")
        if self.is_production:
            if not self.twilio_auth_token:
                raise ConfigError("TWILIO_AUTH_TOKEN must be set in production")
            if not self.telegram_webhook_secret:
                raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be set in production")
            for env_name, value in (
                ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                ("TELEGRAM_WEBHOOK_SECRET", self.telegram_webhook_secret),
            ):
                if len(value) < 32 or _patterned(value):
                    raise ConfigError(f"{env_name} is too weak (need the provider's full 32+ character value)")
            values = [getattr(self, n) for n in _SECRET_FIELDS] + [self.twilio_auth_token, self.telegram_webhook_secret]
            if len(set(values)) != len(values):
                raise ConfigError(
                    "the three SAMLENG_*_KEY values, TWILIO_AUTH_TOKEN and TELEGRAM_WEBHOOK_SECRET "
                    "must all be different"
                )
            if not self.public_url.startswith("https://"):
                raise ConfigError("SAMLENG_PUBLIC_URL must be https:// in production")
        return self


def _weak(value: str) -> bool:
    lowered = value.lower()
    if len(value) < 32 or len(set(value)) < 10 or _patterned(value):
        return True
    return any(word in lowered for word in ("changeme", "secret", "password", "example"))


def _patterned(value: str) -> bool:
    """Not random: a repeated pattern (it compresses well) or mostly a run (abcd..., 0123...)."""
    data = value.encode()
    if len(zlib.compress(data, 9)) < 0.7 * len(data):
        return True
    steps = sum(1 for a, b in zip(value, value[1:]) if abs(ord(b) - ord(a)) <= 1)
    return steps > len(value) // 2


def _dev_secret(name: str) -> str:
    """Read or create a development secret in var/ (never used in production)."""
    path = VAR_DIR / f"{name}.txt"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
        fh.flush()
        os.fsync(fh.fileno())
    return value


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests clear the cache)."""
    return Settings()


# The kit sits below the configuration and never imports it: hand it what it reads, at each use.
crypto.use_keys(get_settings)
zones.use_default(lambda: get_settings().time_zone)
