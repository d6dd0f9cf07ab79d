"""Reports: creation, receipt-code lookup, withdrawal. Plain functions; callers commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from service.kit import receipts
from service.kit.clock import now
from service.kit.crypto import pseudonym, receipt_hash, seal, unseal
from service.kit.errors import DomainError
from service.kit.masking import mask
from service.reports.models import ALLOWED_TRANSITIONS, STATUS_STAMPS, Report, ReportEvent, Reporter


def find_or_create_reporter(session: Session, *, channel: str, address: str) -> tuple[Reporter, bool]:
    """The reporter behind a channel address, by keyed pseudonym only, and whether it is new."""
    key = pseudonym(channel, address)
    reporter = session.exec(select(Reporter).where(Reporter.pseudonym == key)).first()
    if reporter is not None:
        return reporter, False
    reporter = Reporter(pseudonym=key, channel=channel)
    session.add(reporter)
    session.flush()
    return reporter, True


def create_report(
    session: Session, *, channel: str, reporter_id: int | None, narrative: str, language: str,
    at: datetime | None = None, assisted: bool = False,
) -> tuple[Report, str]:
    """Store a new report; returns it and its receipt code (shown once, stored only as a hash)."""
    code = receipts.new_code()
    stamp = at or now()
    report = Report(
        receipt_hash=receipt_hash(code), channel=channel, reporter_id=reporter_id,
        narrative_sealed=seal(narrative), narrative_masked=mask(narrative), language=language,
        assisted=assisted, created_at=stamp, updated_at=stamp,
    )
    session.add(report)
    session.flush()
    add_event(session, report, "received", detail={"channel": channel})
    return report, code


def append_narrative(session: Session, report: Report, text: str) -> None:
    """Add a follow-up message to the report's narrative (as written, and masked)."""
    previous = unseal(report.narrative_sealed) if report.narrative_sealed else ""
    combined = f"{previous}\n{text}".strip()
    report.narrative_sealed = seal(combined)
    report.narrative_masked = mask(combined)
    report.updated_at = now()
    session.add(report)


def add_event(session: Session, report: Report, kind: str, *, actor: str = "system", detail: dict | None = None) -> None:
    session.add(ReportEvent(report_id=report.id, kind=kind, actor=actor, detail=detail or {}))


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


def withdraw(session: Session, report: Report, *, actor: str = "reporter") -> None:
    """Withdraw a report at the reporter's request: status withdrawn, text erased."""
    if report.status == "withdrawn":
        raise AlreadyWithdrawn("report already withdrawn")
    from service.intake.vault import erase_for_report

    report.status = "withdrawn"
    report.withdrawn_at = report.updated_at = now()
    report.narrative_sealed = None
    report.narrative_masked = ""
    report.place_text_masked = None
    session.add(report)
    erase_for_report(session, report.id)  # type: ignore[arg-type]
    from service.evidence.service import erase_for_report as erase_evidence

    erase_evidence(session, report.id)  # type: ignore[arg-type]
    add_event(session, report, "withdrawn", actor=actor)


class InvalidTransition(DomainError):
    pass


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
