"""Time in one place: timezone-aware UTC everywhere."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """The current time, UTC, timezone-aware."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Databases without tz support hand back naive datetimes; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
