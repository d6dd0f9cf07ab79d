"""Reports: creation, receipt-code lookup, withdrawal. Plain functions; callers commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, update
from sqlmodel import Session, col, select

from service.kit import receipts
from service.kit.clock import now
from service.kit.crypto import pseudonym, receipt_hash, seal, unseal
from service.kit.errors import DomainError
from service.kit.fastsql import FastStatement
from service.kit.masking import mask
from service.kit.models import require_id, table_of
from service.reports.models import ALLOWED_TRANSITIONS, STATUS_STAMPS, Report, ReportEvent, Reporter


@dataclass
class ReporterRef:
    """What the intake needs of a reporter, read with one Core query (no ORM object)."""

    id: int
    pseudonym: str
    language: str | None = None
    opted_out_at: datetime | None = None
    new: bool = False


_REPORTER = table_of(Reporter)
_REPORT = table_of(Report)
_EVENT = table_of(ReportEvent)
# Built once, compiled once per dialect, run on the DBAPI cursor (service/kit/fastsql.py): the hot
# path only binds parameters (building, compiling and executing through SQLAlchemy is most of the cost).
_SELECT_REPORTER = FastStatement(
    select(_REPORTER.c.id, _REPORTER.c.language, _REPORTER.c.opted_out_at).where(
        _REPORTER.c.pseudonym == bindparam("key")
    )
)
_INSERT_REPORTER = FastStatement(insert(_REPORTER).returning(_REPORTER.c.id))
_INSERT_REPORT = FastStatement(insert(_REPORT).returning(_REPORT.c.id))
_INSERT_EVENT = FastStatement(insert(_EVENT))


def reporter_ref(
    session: Session, *, channel: str, address: str, language_if_new: Callable[[], str | None] | None = None
) -> ReporterRef:
    """The reporter behind a channel address, by keyed pseudonym only; created if new, keeping
    `language_if_new()` as its language (asked only when the reporter is new).

    A second process creating the same pseudonym at the same moment makes this raise
    IntegrityError; run again (the writer does), it finds the other's row.
    """
    key = pseudonym(channel, address)
    conn = session.connection()
    row = _SELECT_REPORTER.first(conn, {"key": key})
    if row is not None:
        return ReporterRef(row[0], key, row[1], row[2])
    language = language_if_new() if language_if_new is not None else None
    new_id = _INSERT_REPORTER.scalar(
        conn, {"pseudonym": key, "channel": channel, "created_at": now(), "language": language}
    )
    return ReporterRef(new_id, key, language, new=True)


# One compiled UPDATE per set of columns changed (a handful of call sites: language, opt-out).
_UPDATE_REPORTER: dict[tuple[str, ...], FastStatement] = {}


def update_reporter(session: Session, ref: ReporterRef, **values: object) -> None:
    """Change a reporter's language or opt-out, keeping `ref` in step (a compiled statement: a
    new sender's first report sets the language on the writer's hot path)."""
    columns = tuple(sorted(values))
    statement = _UPDATE_REPORTER.get(columns)
    if statement is None:
        change = update(_REPORTER).where(_REPORTER.c.id == bindparam("reporter_id"))
        statement = _UPDATE_REPORTER[columns] = FastStatement(
            change.values({name: bindparam(f"new_{name}") for name in columns})
        )
    statement.execute(
        session.connection(), {"reporter_id": ref.id, **{f"new_{name}": value for name, value in values.items()}}
    )
    for name, value in values.items():
        setattr(ref, name, value)


def find_or_create_reporter(session: Session, *, channel: str, address: str) -> tuple[Reporter, bool]:
    """The reporter (ORM object) behind a channel address, and whether it is new."""
    ref = reporter_ref(session, channel=channel, address=address)
    return session.get_one(Reporter, ref.id), ref.new


def insert_report(
    session: Session,
    *,
    channel: str,
    reporter_id: int | None,
    narrative: str,
    language: str,
    at: datetime | None = None,
    assisted: bool = False,
    masked: str | None = None,
    deferred_until: datetime | None = None,
    events: Sequence[tuple[str, str, dict]] = (),
    **fields: object,
) -> tuple[int, str]:
    """Store a new report with Core statements (the intake's hot path); returns its id and receipt code.

    `masked` is the caller's `mask(narrative)` when it already has it; `fields` are
    further columns (e.g. triage results) written in the same INSERT, and `events` further
    timeline entries (kind, actor, detail) written with the "received" one.
    """
    code = receipts.new_code()
    stamp = at or now()
    conn = session.connection()
    report_id = _INSERT_REPORT.scalar(
        conn,
        {
            "receipt_hash": receipt_hash(code),
            "channel": channel,
            "reporter_id": reporter_id,
            "narrative_sealed": seal(narrative),
            "narrative_masked": mask(narrative) if masked is None else masked,
            "language": language,
            "assisted": assisted,
            "created_at": stamp,
            "updated_at": stamp,
            "deferred_until": deferred_until,
            **fields,
        },
    )
    rows = [
        {
            "report_id": report_id,
            "kind": "received",
            "actor": "system",
            "detail": {"channel": channel},
            "created_at": stamp,
        }
    ]
    rows += [
        {"report_id": report_id, "kind": kind, "actor": actor, "detail": detail, "created_at": stamp}
        for kind, actor, detail in events
    ]
    if deferred_until is not None:
        rows.append(
            {
                "report_id": report_id,
                "kind": "deferred",
                "actor": "system",
                "detail": {"reason": "reports_per_hour"},
                "created_at": stamp,
            }
        )
    _INSERT_EVENT.executemany(conn, rows)
    return report_id, code


def create_report(
    session: Session,
    *,
    channel: str,
    reporter_id: int | None,
    narrative: str,
    language: str,
    at: datetime | None = None,
    assisted: bool = False,
) -> tuple[Report, str]:
    """Store a new report; returns it (ORM object) and its receipt code (shown once, stored only as a hash)."""
    report_id, code = insert_report(
        session,
        channel=channel,
        reporter_id=reporter_id,
        narrative=narrative,
        language=language,
        at=at,
        assisted=assisted,
    )
    return session.get_one(Report, report_id), code


def append_narrative(session: Session, report: Report, text: str) -> None:
    """Add a follow-up message to the report's narrative (as written, and masked)."""
    previous = unseal(report.narrative_sealed) if report.narrative_sealed else ""
    combined = f"{previous}\n{text}".strip()
    report.narrative_sealed = seal(combined)
    report.narrative_masked = mask(combined)
    report.updated_at = now()
    session.add(report)


def add_event(
    session: Session, report: Report, kind: str, *, actor: str = "system", detail: dict | None = None
) -> None:
    session.add(ReportEvent(report_id=require_id(report), kind=kind, actor=actor, detail=detail or {}))


def recent_report_count(session: Session, *, reporter_id: int, since: datetime) -> tuple[int, datetime | None]:
    """How many reports this reporter made since `since`, and the oldest of them."""
    row = session.exec(
        select(func.count(), func.min(Report.created_at)).where(
            Report.reporter_id == reporter_id, Report.created_at >= since
        )
    ).one()
    return int(row[0]), row[1]


def find_by_code(session: Session, code: str) -> Report | None:
    """The report with this canonical receipt code, if any."""
    return session.exec(select(Report).where(Report.receipt_hash == receipt_hash(code))).first()


class AlreadyWithdrawn(DomainError):
    pass


# Timeline entries that hold the reporter's own words (masked): erased with the narrative on withdrawal.
REPORTER_WORDS = ("reporter_answer",)


def withdraw(session: Session, report: Report, *, actor: str = "reporter") -> None:
    """The report's own part of a withdrawal: status withdrawn, text erased, on the timeline.
    The whole withdrawal (contact, evidence, messages not yet sent too) is
    service/intake/withdrawal.py."""
    if report.status == "withdrawn":
        raise AlreadyWithdrawn("report already withdrawn")
    report.status = "withdrawn"
    report.withdrawn_at = report.updated_at = now()
    report.narrative_sealed = None
    report.narrative_masked = ""
    report.place_text_masked = None
    report.fee_reasons = None  # the words an amount was read from are the reporter's text too
    session.add(report)
    # The reporter's own words on the timeline (answers to a handler's question) go with the narrative.
    for event in session.exec(
        select(ReportEvent).where(col(ReportEvent.report_id) == report.id, col(ReportEvent.kind).in_(REPORTER_WORDS))
    ).all():
        event.detail = {**event.detail, "text": ""}
        session.add(event)
    add_event(session, report, "withdrawn", actor=actor)


class InvalidTransition(DomainError):
    http_status = 409


def change_status(
    session: Session, report: Report, to: str, *, actor: str = "system", reason: str | None = None
) -> None:
    """Move a case along an allowed edge; stamps its timestamp and appends a timeline event."""
    if to not in ALLOWED_TRANSITIONS.get(report.status, ()):
        raise InvalidTransition(f"{report.status} -> {to} is not allowed")
    before, stamp = report.status, now()
    report.status = to
    report.updated_at = stamp
    if to in STATUS_STAMPS:
        setattr(report, STATUS_STAMPS[to], stamp)
    session.add(report)
    detail: dict = {"from": before, "to": to}
    if reason:
        detail["reason"] = reason
    add_event(session, report, "status", actor=actor, detail=detail)
