"""Column helpers shared by every package's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field

from service.kit.clock import now


def created_at_field() -> datetime:
    return Field(default_factory=now, sa_type=DateTime(timezone=True), nullable=False)  # type: ignore[return-value]


def ts_field(*, index: bool = False) -> datetime | None:
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=True, index=index)  # type: ignore[return-value]
