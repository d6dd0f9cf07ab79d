"""Each report's local time and local day: the analytics count by the day the report was made where it is handled.

A report's zone is the zone of the organisation it was routed to (`organisation.time_zone`), else the
platform's `SAMLENG_TIME_ZONE` (a report not routed yet, or an organisation without a zone). A report
made at 02:00 on 1 January in Phnom Penh (18:00 UTC on 31 December) is counted on 1 January, in January
and in Q1 — on the organisation's figures, the public page, the scorecards and the quarterly report alike.

In SQL the local time is
* PostgreSQL: `timezone(<zone>, report.created_at)` (the server's own zone database);
* SQLite: local time as text 'YYYY-MM-DD HH:MM:SS.SSS'. A zone with one offset all year (Phnom Penh,
  every Southern African zone) is SQLite's own `strftime(..., created_at, '+420 minutes')`; a zone with
  daylight saving time calls `samleng_localtime(report.created_at, <zone>)`, a function `service.db`
  registers on every connection (`service.kit.zones.register_sqlite`, Python's zoneinfo) — about five times
  slower per row.
The zone is a CASE over `report.org_id` built from the organisations' zones (a few rows, read each
time), written as SQL literals (names checked against the zone database first) so that GROUP BY
matches the SELECT list on PostgreSQL.

Windows (`Filters.since/until` with `local=True`, the default) are wall-clock bounds: "since 1 January
00:00" means 00:00 on 1 January in each report's own zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Date, DateTime, bindparam, case, cast, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from service.kit import zones
from service.kit.zones import LOCALTIME_FUNCTION
from service.orgs.models import Organisation
from service.reports.models import Report

# Every zone on earth is within this of UTC (UTC-12 .. UTC+14): the UTC margin around a local window
# that keeps the created_at index usable.
MARGIN = timedelta(hours=15)
_SAFE = re.compile(r"^[A-Za-z0-9_+\-/]{1,64}$")


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _quoted(name: str) -> ColumnElement[str]:
    if not _SAFE.match(name):  # zones.valid names only reach here; never interpolate anything else
        name = "UTC"
    return literal_column(f"'{name}'")


def org_zones(session: Session) -> dict[int, str]:
    """Organisation id -> its zone, for organisations with a valid zone of their own."""
    rows = session.execute(
        select(col(Organisation.id), col(Organisation.time_zone)).where(col(Organisation.time_zone).is_not(None))
    ).all()
    return {int(i): str(z) for i, z in rows if zones.valid(z) and _SAFE.match(str(z))}


def zone_of_report(session: Session) -> ColumnElement[str]:
    """SQL: the zone name a report is counted in (its organisation's, else the platform's)."""
    default = _quoted(zones.default_name())
    per_org = org_zones(session)
    by_zone: dict[str, list[int]] = {}
    for org_id, name in sorted(per_org.items()):
        if name != zones.default_name():
            by_zone.setdefault(name, []).append(org_id)
    if not by_zone:
        return default
    whens = [
        (col(Report.org_id).in_([literal_column(str(i)) for i in ids]), _quoted(name)) for name, ids in by_zone.items()
    ]
    return case(*whens, else_=default)


def fixed_offset_minutes(name: str) -> int | None:
    """The zone's offset from UTC in minutes when it is the same all year, 2020-2045; None otherwise."""
    zone = zones.zone(name)
    seen = {
        datetime(year, month, 1, 12, tzinfo=zones.UTC).astimezone(zone).utcoffset()
        for year in range(2020, 2046)
        for month in (1, 4, 7, 10)
    }
    if len(seen) != 1:
        return None
    (offset,) = seen
    return int(offset.total_seconds() // 60) if offset is not None else None


def _sqlite_local(name: str) -> ColumnElement:
    minutes = fixed_offset_minutes(name)
    if minutes is None:
        return getattr(func, LOCALTIME_FUNCTION)(Report.created_at, _quoted(name))
    return func.strftime(
        literal_column("'%Y-%m-%d %H:%M:%f'"), Report.created_at, literal_column(f"'{minutes:+d} minutes'")
    )


def local_time(session: Session) -> ColumnElement:
    """SQL: the report's creation time on the wall clock of its zone (PostgreSQL: timestamp; SQLite: text)."""
    if _postgres(session):
        return func.timezone(zone_of_report(session), Report.created_at)
    default = zones.default_name()
    by_zone: dict[str, list[int]] = {}
    for org_id, name in sorted(org_zones(session).items()):
        if name != default:
            by_zone.setdefault(name, []).append(org_id)
    if not by_zone:
        return _sqlite_local(default)
    whens = [
        (col(Report.org_id).in_([literal_column(str(i)) for i in ids]), _sqlite_local(name))
        for name, ids in by_zone.items()
    ]
    return case(*whens, else_=_sqlite_local(default))


def local_day(session: Session) -> ColumnElement:
    """SQL: the report's local day (a date on PostgreSQL, 'YYYY-MM-DD' on SQLite)."""
    if _postgres(session):
        return cast(local_time(session), Date)
    return func.date(local_time(session))


def bound(session: Session, at: datetime | date) -> ColumnElement:
    """A wall-clock bound to compare with `local_time` (the value's own tzinfo is ignored)."""
    if not isinstance(at, datetime):
        at = datetime(at.year, at.month, at.day)
    wall = at.replace(tzinfo=None)
    if _postgres(session):
        return bindparam(None, wall, type_=DateTime())
    return bindparam(None, wall.isoformat(sep=" ", timespec="milliseconds"))


def window_conditions(session: Session, since: datetime | None, until: datetime | None) -> list:
    """[since, until) on each report's local time, plus a UTC margin on created_at for the index."""
    conds: list = []
    if since is None and until is None:
        return conds
    here = local_time(session)
    if since is not None:
        wall = since.replace(tzinfo=timezone.utc)
        conds += [Report.created_at >= wall - MARGIN, here >= bound(session, since)]
    if until is not None:
        wall = until.replace(tzinfo=timezone.utc)
        conds += [Report.created_at < wall + MARGIN, here < bound(session, until)]
    return conds


def period(session: Session, period_name: str) -> ColumnElement[str]:
    """SQL: the report's local week (its Monday, YYYY-MM-DD), month (YYYY-MM) or quarter (YYYY-Qn)."""
    here = local_time(session)
    if _postgres(session):
        if period_name == "week":
            return func.to_char(func.date_trunc("week", here), literal_column("'YYYY-MM-DD'"))
        if period_name == "quarter":
            return func.to_char(here, literal_column("'YYYY-\"Q\"Q'"))
        return func.to_char(here, literal_column("'YYYY-MM'"))
    if period_name == "week":
        return func.date(here, "-6 days", "weekday 1")
    if period_name == "quarter":
        return quarter_text(func.strftime("%Y", here), func.strftime("%m", here))
    return func.strftime("%Y-%m", here)


def quarter_text(year: ColumnElement, month2: ColumnElement) -> ColumnElement[str]:
    """SQL: 'YYYY-Qn' from a year and a two-digit month ('01'..'12'), both text."""
    n = case((month2 < "04", "1"), (month2 < "07", "2"), (month2 < "10", "3"), else_="4")
    return year.concat("-Q").concat(n)
