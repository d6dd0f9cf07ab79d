"""Time in one place: timezone-aware UTC everywhere."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Tests move time forward (deadlines, retention) with `advance`; production never touches it.
_offset = timedelta(0)
# SAMLENG_CLOCK_OFFSET (development and testing only): set once at a process's start by `set_offset`.
_configured = timedelta(0)

_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_OFFSET = re.compile(r"([+-]?)((?:\d+(?:\.\d+)?[dhms])+)")
_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def now() -> datetime:
    """The current time, UTC, timezone-aware (shifted by a configured development clock offset)."""
    return datetime.now(timezone.utc) + _configured + _offset


def parse_offset(text: str) -> timedelta:
    """`+73h`, `-2d`, `+90m`, `+30s`, `+1d12h` → a timedelta; '' → none. ValueError when malformed."""
    cleaned = text.strip().replace(" ", "").lower()
    if not cleaned:
        return timedelta(0)
    match = _OFFSET.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"clock offset {text.strip()[:40]!r} not understood: use e.g. +73h, -2d, +90m, +30s")
    sign, parts = match.groups()
    delta = sum((timedelta(**{_UNITS[unit]: float(amount)}) for amount, unit in _PART.findall(parts)), timedelta(0))
    return -delta if sign == "-" else delta


def set_offset(delta: timedelta) -> None:
    """Shift this process's clock by a deployer's development offset (see SAMLENG_CLOCK_OFFSET)."""
    global _configured
    _configured = delta


def configured_offset() -> timedelta:
    return _configured


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
