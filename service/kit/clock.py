"""Time in one place: timezone-aware UTC everywhere."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# Tests move time forward (deadlines, retention) with `advance`; production never touches it.
_offset = timedelta(0)


def now() -> datetime:
    """The current time, UTC, timezone-aware."""
    return datetime.now(timezone.utc) + _offset


def advance(delta: timedelta) -> None:
    """Move this process's clock forward (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    """Back to real time (tests only)."""
    global _offset
    _offset = timedelta(0)


def as_utc(value: datetime) -> datetime:
    """Databases without tz support hand back naive datetimes; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
