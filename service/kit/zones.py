"""Time zones: times are stored in UTC and shown in the reader's zone.

The reader's zone is, in order: the user's own choice (account page), their organisation's zone
(`samleng org zone`, the demo seed), the platform's `SAMLENG_TIME_ZONE` (Asia/Phnom_Penh).
Every page, export and PDF formats a time through `local`/`show`, so a report received at
20:00 UTC reads as the next day, 03:00, in Phnom Penh (UTC+7).

The platform's zone comes from a source installed with `use_default`: `service.config` installs
`SAMLENG_TIME_ZONE` when it is imported. An organisation's zone is looked up by `service.orgs.zones`.
"""

from __future__ import annotations

import sqlite3
from typing import overload
from collections.abc import Callable
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from service.kit.errors import InvalidInput
from service.kit.i18n import gettext

UTC = timezone.utc
# The zones offered on the account page first (the places Samleng is used), then every other IANA zone.
COMMON = (
    "Asia/Phnom_Penh",
    "Africa/Johannesburg",
    "Africa/Maputo",
    "Africa/Maseru",
    "Africa/Mbabane",
    "Africa/Blantyre",
    "Africa/Lusaka",
    "Africa/Harare",
    "Africa/Gaborone",
    "UTC",
)


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


def valid(name: str | None) -> bool:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def checked(name: str) -> str:
    """`name` if it is an IANA zone this machine knows (e.g. Asia/Phnom_Penh), else InvalidInput."""
    name = (name or "").strip()
    if not valid(name):
        raise InvalidInput(f"unknown time zone {name!r}: use an IANA name such as Asia/Phnom_Penh")
    return name


def zone(name: str | None) -> tzinfo:
    """The zone called `name`; UTC for an unknown or empty name (a bad value never breaks a page)."""
    return _zone(name) if name and valid(name) else UTC


_default_source: Callable[[], str] | None = None


def use_default(source: Callable[[], str]) -> None:
    """Where the platform's zone name is read from, at each use (service.config installs its setting)."""
    global _default_source
    _default_source = source


def default_name() -> str:
    name = _default_source() if _default_source is not None else "UTC"
    return name if valid(name) else "UTC"


def name_for(user: object | None = None, org: object | None = None) -> str:
    """The zone a user reads times in: their own, else their organisation's, else the platform's."""
    for candidate in (getattr(user, "time_zone", None), getattr(org, "time_zone", None)):
        if candidate and valid(candidate):
            return str(candidate)
    return default_name()


@overload
def local(at: datetime, name: str | None) -> datetime: ...
@overload
def local(at: None, name: str | None) -> None: ...
def local(at: datetime | None, name: str | None) -> datetime | None:
    """`at` (UTC; a naive value is read as UTC) in the zone called `name`."""
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone(name))


def abbreviation(at: datetime | None, name: str | None) -> str:
    """The zone's short label at that instant: "+07" for Phnom Penh, "SAST" for Johannesburg, "UTC"."""
    shown = local(at, name)
    label = shown.tzname() if shown else ""
    return label or ""


def show(at: datetime | None, name: str | None, fmt: str = "%Y-%m-%d %H:%M", *, label: bool = False) -> str:
    """A UTC time formatted in the zone `name`; `label` adds the zone ("2026-07-02 03:00 +07")."""
    shown = local(at, name)
    if shown is None:
        return "–"
    text = shown.strftime(fmt)
    return f"{text} {abbreviation(at, name)}" if label else text


def all_names() -> list[str]:
    """The zones to choose from: the common ones first, then the rest alphabetically."""
    rest = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "posix/", "right/")))
    return list(COMMON) + [z for z in rest if z not in COMMON]


# -- times in messages (emails and SMS to bodies, reporters, handlers) ------------------------------
# A message names the zone its times are in: "2026-12-12 17:00 (Phnom Penh time)". The zones Samleng is
# used in have a catalogue entry "zone:<IANA name>" in km/en/pt; any other zone is named by its offset.
SPOKEN = COMMON


def zone_label(name: str | None, language: str, at: datetime | None = None) -> str:
    """The zone named for a reader: "Phnom Penh time", "ម៉ោងភ្នំពេញ", "hora de Joanesburgo"; "UTC+03:00"
    for a zone without a catalogue entry."""
    name = name if name and valid(name) else "UTC"
    if name in SPOKEN:
        return gettext(language, f"zone:{name}")
    shown = local(at or datetime.now(UTC), name)
    offset = shown.strftime("%z") if shown else "+0000"
    return f"UTC{offset[:3]}:{offset[3:]}"


def said(at: datetime | None, name: str | None, language: str, *, time: bool = True) -> str:
    """A UTC time as a message gives it: local date (and time) with the zone named,
    "2026-12-12 17:00 (Phnom Penh time)"; "–" for none."""
    if at is None:
        return "–"
    return f"{show(at, name, '%Y-%m-%d %H:%M' if time else '%Y-%m-%d')} ({zone_label(name, language, at)})"


def local_date(at: datetime | None, name: str | None) -> str:
    """The local day of a UTC time, YYYY-MM-DD ("" for none): a reporter's "your report of 2027-01-01"."""
    return show(at, name, "%Y-%m-%d") if at is not None else ""


# -- local time in SQLite ------------------------------------------------------------------------
# PostgreSQL converts with its own zone database (`timezone(zone, at)`); SQLite gets this function.
LOCALTIME_FUNCTION = "samleng_localtime"


def sqlite_localtime(at: str | None, zone_name: str | None) -> str | None:
    """The SQLite function: a stored UTC time ('2026-12-31 18:00:00.000000', maybe with an offset) as
    local wall-clock text in the zone `zone_name` ('2027-01-01 01:00:00.000000')."""
    if at is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(at))
    except ValueError:
        return None
    shown = local(parsed, zone_name)
    return shown.replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds") if shown else None


def register_sqlite(dbapi_connection: sqlite3.Connection) -> None:
    """Register samleng_localtime on a sqlite3 connection (service.db does it on every connect; the analytics count by
    each report's local day with it: service/analytics/localday.py)."""
    dbapi_connection.create_function(LOCALTIME_FUNCTION, 2, sqlite_localtime, deterministic=True)
