"""Quotes and exports. Plain functions, session first; every export is written to the audit log."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy import and_, select
from sqlmodel import Session, col

from service.analytics import queries as q
from service.analytics.models import ApprovedQuote
from service.analytics.suppression import Published
from service.audit.service import record
from service.config import get_settings
from service.kit import zones
from service.kit.clock import now
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.masking import mask
from service.reports.models import Report

MAX_QUOTE_CHARS = 400


class NotAllowed(DomainError):
    pass


def require_supervisor(role: str) -> None:
    if role not in ("supervisor", "admin"):
        raise NotAllowed("only supervisors may do this")


# -- quotes -----------------------------------------------------------------------------------------


def approve_quote(
    session: Session, *, report_id: int, excerpt: str, approved_by: str, role: str, language: str | None = None
) -> ApprovedQuote:
    """Approve an excerpt for publication. It must be taken word for word from the report's MASKED narrative."""
    require_supervisor(role)
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound("no such report")
    if report.status == "withdrawn":
        raise InvalidInput("a withdrawn report cannot be quoted")
    text = " ".join(excerpt.split())
    if not text or len(text) > MAX_QUOTE_CHARS:
        raise InvalidInput(f"a quote is 1 to {MAX_QUOTE_CHARS} characters")
    if text not in " ".join(report.narrative_masked.split()):
        raise InvalidInput("a quote must be an exact excerpt of the masked narrative")
    if not publishable(text):  # belt and braces: masking again must change nothing
        raise InvalidInput("the excerpt still contains something masking would remove")
    quote = ApprovedQuote(
        report_id=report_id,
        excerpt_masked=text,
        language=language or report.language,
        approved_by=approved_by,
        approved_at=now(),
    )
    session.add(quote)
    session.flush()
    record(
        session,
        actor=approved_by,
        action="quote.approve",
        object_type="report",
        object_id=report_id,
        detail={"quote_id": quote.id, "chars": len(text)},
    )
    return quote


def revoke_quote(session: Session, *, quote_id: int, actor: str, role: str) -> ApprovedQuote:
    """Withdraw an approval: the quote leaves the public page, Open311 and every report printed after.

    Audited as `quote.revoke` (with the report id). Revoking a revoked quote changes nothing and
    writes no second audit entry. Organisation scope is the caller's check (the web route looks the
    case up with `queue.get_case`, as approval does).
    """
    require_supervisor(role)
    quote = session.get(ApprovedQuote, quote_id)
    if quote is None:
        raise NotFound("no such quote")
    if quote.revoked_at is not None:
        return quote
    quote.revoked_at = now()
    session.add(quote)
    record(
        session,
        actor=actor,
        action="quote.revoke",
        object_type="quote",
        object_id=quote_id,
        detail={"report_id": quote.report_id},
    )
    return quote


def approved_quotes(
    session: Session, *, filters: q.Filters, limit: int = 5, language: str | None = None
) -> list[ApprovedQuote]:
    """Approved, unrevoked quotes of reports in scope (never of withdrawn reports), newest first."""
    conds = [col(ApprovedQuote.revoked_at).is_(None), *q._where(session, filters)]
    if language:
        conds.append(col(ApprovedQuote.language) == language)
    stmt = (
        select(ApprovedQuote)
        .join(Report, col(Report.id) == ApprovedQuote.report_id)
        .where(and_(*conds))
        .order_by(col(ApprovedQuote.approved_at).desc())
        .limit(limit)
    )
    quotes = list(session.execute(stmt).scalars().all())
    # The masked narrative may have changed (withdrawal erases it): only quotes still in it are shown.
    # Masked again on the way out: a quote approved under older masking that now finds a number,
    # a handle or a link is not published (a supervisor can approve a cleaner excerpt).
    return [
        qt
        for qt in quotes
        if publishable(qt.excerpt_masked)
        and qt.excerpt_masked in " ".join(_masked_narrative(session, qt.report_id).split())
    ]


def _masked_narrative(session: Session, report_id: int) -> str:
    report = session.get(Report, report_id)  # a quote's report is never deleted (foreign key)
    return (report.narrative_masked or "") if report is not None else ""


def publishable(excerpt: str) -> bool:
    """True when masking the excerpt again changes nothing (checked at approval and at publication)."""
    return mask(excerpt) == excerpt


# -- exports ----------------------------------------------------------------------------------------

# A spreadsheet reads a cell starting with one of these as a formula (full-width forms too, which
# some spreadsheets fold). Every text cell of every export is passed through `neutral_cell`.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutral_cell(value: object) -> object:
    """A text cell that a spreadsheet would read as a formula gets a leading `'`; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_row(row: Sequence[object]) -> list[object]:
    return [neutral_cell(v) for v in row]


def _xlsx_append(sheet, row: list[object]) -> None:
    """Append a row; every text cell is stored as a string (openpyxl would store `=…` as a formula)."""
    sheet.append([neutral_cell(v) for v in row])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def table_rows(pub: Published, *, total_label: str = "Total") -> list[list[str]]:
    header = ["", *pub.col_labels, total_label]
    body = [[label, *row] for label, row in zip([*pub.row_labels, total_label], pub.grid())]
    return [header, *body]


def export_csv(
    session: Session,
    *,
    tables: dict[str, Published],
    actor: str,
    role: str,
    extra: dict[str, list[list[object]]] | None = None,
) -> bytes:
    """Suppressed tables as one CSV (a title line before each table), then the `extra` tables already
    suppressed by their makers (the fees: service/analytics/fees.py). Audited."""
    if role not in ("handler", "supervisor", "admin", "system"):
        raise NotAllowed("no export for this role")
    buf = io.StringIO()
    writer = csv.writer(buf)
    for name, pub in tables.items():
        writer.writerow(_csv_row([name]))
        writer.writerows(_csv_row(row) for row in table_rows(pub))
        writer.writerow([])
    for name, rows in (extra or {}).items():
        writer.writerow(_csv_row([name]))
        writer.writerows(_csv_row(list(row)) for row in rows)
        writer.writerow([])
    record(
        session,
        actor=actor,
        action="export.aggregate",
        object_type="export",
        detail={
            "format": "csv",
            "tables": sorted([*tables, *(extra or {})]),
            "threshold": next(iter(tables.values())).threshold if tables else None,
        },
    )
    return buf.getvalue().encode("utf-8-sig")


def export_xlsx(
    session: Session,
    *,
    tables: dict[str, Published],
    actor: str,
    role: str,
    extra: dict[str, list[list[object]]] | None = None,
) -> bytes:
    """Suppressed tables as an XLSX workbook, one sheet each (and one per `extra` table). Audited."""
    if role not in ("handler", "supervisor", "admin", "system"):
        raise NotAllowed("no export for this role")
    book = Workbook()
    first = book.active  # a new workbook's one empty sheet
    if first is not None:
        book.remove(first)
    for name, pub in tables.items():
        sheet = book.create_sheet(title=name[:31])
        for row in table_rows(pub):
            _xlsx_append(sheet, [int(v) if isinstance(v, str) and v.isdigit() else v for v in row])
    for name, rows in (extra or {}).items():
        sheet = book.create_sheet(title=name[:31])
        for line in rows:
            _xlsx_append(sheet, list(line))
    buf = io.BytesIO()
    book.save(buf)
    record(
        session,
        actor=actor,
        action="export.aggregate",
        object_type="export",
        detail={"format": "xlsx", "tables": sorted([*tables, *(extra or {})])},
    )
    return buf.getvalue()


# `case`: the case number handlers know from the queue (this export is for the organisation's own
# supervisors). A feed that leaves the organisation uses `case_ref` (an opaque hash) instead.
CASE_COLUMNS = (
    "case",
    "created_month",
    "status",
    "category",
    "urgency",
    "channel",
    "population",
    "province",
    "district",
    "facility",
    "days_to_first_response",
    "days_to_resolution",
    "satisfaction",
    "perpetrator_type",
    "violation_type",
    "narrative_masked",
)


def case_ref(report_id: int) -> str:
    """A stable, opaque reference for feeds that leave the organisation: not the case number, not the receipt code."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"case-export:{report_id}".encode(), hashlib.sha256).hexdigest()[:12]


def _days(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else round((later - earlier).total_seconds() / 86400, 1)


def export_cases(
    session: Session, *, filters: q.Filters, actor: str, role: str, fmt: str = "csv", time_zone: str | None = None
) -> bytes:
    """Case-level export for supervisors: masked narrative only, no identifiers, no evidence, month not time
    (the month in the reader's `time_zone`: a report on 30 June 20:00 UTC is July in Phnom Penh)."""
    tz = time_zone or zones.default_name()
    require_supervisor(role)
    tree = q.place_tree(session)
    stmt = select(Report).where(and_(*q._where(session, filters))).order_by(col(Report.id))
    rows: list[list[object]] = [list(CASE_COLUMNS)]
    for report in session.execute(stmt).scalars():
        path = {n.kind: n.name_en for n in tree.path(report.place_id)} if report.place_id else {}
        rows.append(
            [
                report.id,
                zones.show(report.created_at, tz, "%Y-%m"),
                report.status,
                report.category,
                report.urgency,
                report.channel,
                report.population,
                path.get("province"),
                path.get("od"),
                path.get("health_centre") or path.get("town") or path.get("mine"),
                _days(report.first_response_at, report.created_at),
                _days(report.resolved_at, report.created_at),
                report.satisfaction,
                report.perpetrator_type,
                report.violation_type,
                report.narrative_masked,
            ]
        )
    record(
        session,
        actor=actor,
        action="export.cases",
        object_type="export",
        detail={
            "format": fmt,
            "rows": len(rows) - 1,
            "time_zone": tz,
            "since": filters.since.isoformat() if filters.since else None,
            "until": filters.until.isoformat() if filters.until else None,
            "place_id": filters.place_id,
        },
    )
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None, "a new workbook has one sheet"
        sheet.title = "cases"
        for row in rows:
            _xlsx_append(sheet, row)
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()
    out = io.StringIO()
    csv.writer(out).writerows(_csv_row(row) for row in rows)
    return out.getvalue().encode("utf-8-sig")
