"""Sign-in sessions (web cookie and API bearer) and per-user security state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from service.kit.models import created_at_field, ts_field

SESSION_KINDS = ("web", "bearer")


class AuthSession(SQLModel, table=True):
    """One signed-in session. Only a SHA-256 of the 128-bit token is stored."""

    __tablename__ = "auth_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(default="web", max_length=8)
    created_at: datetime = created_at_field()
    last_seen_at: datetime = created_at_field()
    # Absolute end (8 h after sign-in); the idle limit is checked against last_seen_at.
    expires_at: datetime = created_at_field()
    revoked_at: datetime | None = ts_field()


class UserSecurity(SQLModel, table=True):
    """Lockout counters and the optional TOTP secret (sealed with the vault key)."""

    __tablename__ = "user_security"
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = ts_field()
    totp_secret_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    totp_enabled: bool = Field(default=False)
    # A new key waiting for its first code; the enabled one keeps working until then.
    totp_pending_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # The last 30-second step whose code was accepted: a code is good once.
    totp_last_step: int | None = Field(default=None)
    password_reset_at: datetime | None = ts_field()
