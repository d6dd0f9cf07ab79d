"""Working time: when a working calendar's clock runs, and where a deadline counted in it falls.

A `Calendar` is a time zone, weekly working hours ("mon-fri 08:00-17:00", several clauses with ";"),
and a country whose public holidays (from the `holidays` package) stop the clock all day. Every
function here is pure: UTC instants in, UTC instants out; the calendar decides which local hours count.
A deadline of N hours "in working time" falls where N hours of working periods have passed.

Properties the tests hold it to (tests/kit/test_workingtime.py): a working-time deadline is never
earlier than the calendar-time one from the same start; it moves later (never earlier) when the start or
the length grows; and the working time between the start and it is exactly its length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache

import holidays

from service.kit import zones
from service.kit.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS = "mon-fri 08:00-17:00"
# The countries Samleng is used in, all present in the `holidays` package (docs/escalation.md, "Working time").
COUNTRIES = {
    "KH": "Cambodia",
    "ZA": "South Africa",
    "LS": "Lesotho",
    "MZ": "Mozambique",
    "SZ": "Eswatini",
    "BW": "Botswana",
    "MW": "Malawi",
}
COUNTINGS = ("calendar", "working")
_MAX_DAYS = 366 * 5  # a calendar with no working period in five years is refused, not looped over
_CLAUSE = re.compile(r"^\s*([a-z,\-]+)\s+([0-9:,\-\s]+)$")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")

Hours = tuple[tuple[int, int, int], ...]  # (weekday 0 = Monday, start minute, end minute), sorted


def _days(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise InvalidInput("working days are written mon, tue, wed, thu, fri, sat, sun (e.g. mon-fri)")
        a, b = DAYS.index(first), DAYS.index(last or first)
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return out


def parse_hours(text: str | None) -> Hours:
    """ "mon-fri 08:00-12:00,13:00-17:00; sat 08:00-12:00" → the weekly working periods.
    Empty: the default (Monday to Friday, 08:00 to 17:00). InvalidInput when it cannot be read."""
    text = (text or "").strip().lower() or DEFAULT_HOURS
    minutes: dict[int, list[tuple[int, int]]] = {}
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        match = _CLAUSE.match(clause)
        if match is None:
            raise InvalidInput("working hours are written like: mon-fri 08:00-17:00 (clauses separated by ;)")
        for span in match.group(2).replace(" ", "").split(","):
            found = _SPAN.match(span)
            if found is None:
                raise InvalidInput("working hours are written like: mon-fri 08:00-17:00 (clauses separated by ;)")
            h1, m1, h2, m2 = (int(g) for g in found.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if m1 > 59 or m2 > 59 or start >= end or end > 24 * 60:
                raise InvalidInput("a working period starts before it ends, within one day (00:00-24:00)")
            for day in _days(match.group(1)):
                minutes.setdefault(day, []).append((start, end))
    merged: list[tuple[int, int, int]] = []
    for day in sorted(minutes):
        spans = sorted(minutes[day])
        current = list(spans[0])
        for start, end in spans[1:]:
            if start <= current[1]:
                current[1] = max(current[1], end)
            else:
                merged.append((day, current[0], current[1]))
                current = [start, end]
        merged.append((day, current[0], current[1]))
    if not merged:
        raise InvalidInput("working hours need at least one working period")
    return tuple(merged)


def describe(hours: Hours) -> str:
    """The canonical text of parsed hours ("mon 08:00-17:00; tue 08:00-17:00; …")."""
    by_day: dict[int, list[str]] = {}
    for day, start, end in hours:
        by_day.setdefault(day, []).append(f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}")
    return "; ".join(f"{DAYS[d]} {','.join(spans)}" for d, spans in sorted(by_day.items()))


def checked_country(code: str | None) -> str | None:
    """A supported country code (upper case) or None; InvalidInput for any other."""
    code = (code or "").strip().upper()
    if not code:
        return None
    if code not in COUNTRIES:
        raise InvalidInput("public holidays: choose one of " + ", ".join(COUNTRIES))
    return code


@dataclass(frozen=True)
class Calendar:
    """Where a clock counts only working time: the zone its hours are in, the hours, the holidays' country."""

    zone: str = "UTC"
    hours: Hours = ()
    country: str | None = None

    @classmethod
    def of(cls, zone: str | None, hours: str | None, country: str | None) -> "Calendar":
        return cls(
            zone=zone if zone and zones.valid(zone) else "UTC",
            hours=parse_hours(hours),
            country=checked_country(country),
        )


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def holiday(country: str | None, day: date) -> bool:
    return country is not None and country != "" and day in _holidays(country, day.year)


def holiday_name(country: str | None, day: date, language: str | None = None) -> str | None:
    """The holiday's name: in Khmer for `language` "km" where the package has it (Cambodia), else in the
    package's default (English for these countries)."""
    if country is None or not holiday(country, day):
        return None
    named = holidays.country_holidays(country, years=day.year)
    if language == "km" and "km" in (getattr(named, "supported_languages", ()) or ()):
        named = holidays.country_holidays(country, years=day.year, language="km")
    return named.get(day)


def _utc(day: date, minute: int, tz: tzinfo) -> datetime:
    # Wall-clock arithmetic: 17:00 local on that day, whatever the day's offset (DST in some zones).
    local = datetime.combine(day, time(0)) + timedelta(minutes=minute)
    return local.replace(tzinfo=tz).astimezone(timezone.utc)


def periods(calendar: Calendar, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's working periods (UTC start, end) from `since` on, the first clipped to it."""
    since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
    tz = zones.zone(calendar.zone)
    day = since.astimezone(tz).date() - timedelta(days=1)  # a period may start the local day before
    hours = calendar.hours or parse_hours(None)
    for _ in range(_MAX_DAYS):
        if not holiday(calendar.country, day):
            for weekday, start, end in hours:
                if weekday != day.weekday():
                    continue
                a, b = _utc(day, start, tz), _utc(day, end, tz)
                if b <= since or b <= a:
                    continue
                yield max(a, since), b
        day += timedelta(days=1)
    raise InvalidInput("this working calendar has no working period for five years")


def add(start: datetime, length: timedelta, calendar: Calendar | None) -> datetime:
    """Where a clock started at `start` that counts `length` ends: in calendar time (no calendar),
    or counting only the calendar's working periods."""
    start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    if calendar is None:
        return start + length
    if length <= timedelta(0):
        return start
    remaining = length
    for a, b in periods(calendar, start):
        if remaining <= b - a:
            return a + remaining
        remaining -= b - a
    raise AssertionError("unreachable: periods() ends by raising")  # pragma: no cover


def between(start: datetime, end: datetime, calendar: Calendar | None) -> timedelta:
    """The time a clock counts from `start` to `end` (zero when end is not after start)."""
    start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
    if end <= start:
        return timedelta(0)
    if calendar is None:
        return end - start
    total = timedelta(0)
    for a, b in periods(calendar, start):
        if a >= end:
            break
        total += min(b, end) - a
    return total


def next_period(calendar: Calendar, at: datetime) -> tuple[datetime, datetime]:
    """The working period running at `at` (its start clipped to `at`), else the next one."""
    return next(periods(calendar, at))
