"""Retention: what an ended case keeps, and for how long.

A case has ended when it is closed, rejected, marked duplicate or withdrawn (`TERMINAL_STATUSES`);
every period below runs from that moment, whichever way it ended.

- contact details (vault): erased `SAMLENG_CONTACT_GRACE_DAYS` after closure;
- the raw narrative (`report.narrative_sealed`): purged `SAMLENG_NARRATIVE_RETENTION_DAYS`
  after closure; the masked copy, the category, place, dates and satisfaction stay for
  the statistics;
- outbox payloads and addresses: wiped once delivered or dead and older than
  `SAMLENG_OUTBOX_RETENTION_DAYS`, and at once for a closed case's unsent messages past the grace;
- evidence files under `SAMLENG_EVIDENCE_DIR/<report id>/` and rows of an `evidence` table
  with a `report_id` column, with the narrative; spool files that could not be replayed
  (`*.bad`, stale `*.tmp`) after the same period.

More purgers (a new table, a new folder) register with `register_purger`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from service.config import Settings, get_settings
from service.evidence.models import Evidence
from service.evidence.service import erase_for_report
from service.intake.models import ContactVault
from service.kit.clock import now
from service.kit.models import stored_ids
from service.outbox.models import OutboundMessage
from service.reports.models import Report

# Every way a case ends: each is purged on the same schedule (from the moment it ended).
TERMINAL_STATUSES = ("closed", "rejected", "duplicate", "withdrawn")

Purger = Callable[[Session, Settings, bool], int]
_PURGERS: dict[str, Purger] = {}


def register_purger(name: str, purger: Purger) -> None:
    """Add a purge step: `purger(session, settings, dry_run)` returns how many things it removed (or would)."""
    _PURGERS[name] = purger


def _closed_before(session: Session, cutoff: datetime) -> list[int]:
    """Cases that ended (any terminal status) before `cutoff`: closed at `closed_at`, withdrawn at
    `withdrawn_at`, rejected or marked duplicate at their last change (`updated_at`)."""
    ended_at = case(
        (col(Report.status) == "closed", Report.closed_at),
        (col(Report.status) == "withdrawn", func.coalesce(Report.withdrawn_at, Report.updated_at)),
        else_=Report.updated_at,
    )
    return stored_ids(
        session.exec(select(Report.id).where(col(Report.status).in_(TERMINAL_STATUSES), ended_at <= cutoff)).all()
    )


def _days(value: float) -> timedelta:
    return timedelta(days=value)


def purge_contacts(session: Session, settings: Settings, dry_run: bool) -> int:
    """Vault entries due for erasure, and those of cases closed longer than the grace period."""
    ids = _closed_before(session, now() - _days(settings.contact_grace_days))
    entries = session.exec(
        select(ContactVault).where(
            (col(ContactVault.erase_after) <= now()) | col(ContactVault.report_id).in_(ids or [-1])
        )
    ).all()
    if not dry_run:
        for entry in entries:
            session.delete(entry)
    return len(entries)


def purge_unsent(session: Session, settings: Settings, dry_run: bool) -> int:
    """Messages to the reporter of a case closed past the grace that never went out: cancelled, wiped."""
    ids = _closed_before(session, now() - _days(settings.contact_grace_days))
    rows = session.exec(
        select(OutboundMessage).where(
            col(OutboundMessage.report_id).in_(ids or [-1]),
            col(OutboundMessage.status).in_(("pending", "failed")),
            col(OutboundMessage.to_sealed).is_not(None),
        )
    ).all()
    if not dry_run:
        for row in rows:
            row.status, row.to_sealed, row.body_sealed = "cancelled", None, None
            session.add(row)
    return len(rows)


def purge_narratives(session: Session, settings: Settings, dry_run: bool) -> int:
    ids = _closed_before(session, now() - _days(settings.narrative_retention_days))
    reports = session.exec(
        select(Report).where(col(Report.id).in_(ids or [-1]), col(Report.narrative_sealed).is_not(None))
    ).all()
    if not dry_run:
        for report in reports:
            report.narrative_sealed = None
            session.add(report)
    return len(reports)


def purge_outbox_payloads(session: Session, settings: Settings, dry_run: bool) -> int:
    """Finished messages' texts and addresses (they may hold a case summary or a receipt code)."""
    cutoff = now() - _days(settings.outbox_retention_days)
    closed = _closed_before(session, now() - _days(settings.narrative_retention_days))
    rows = session.exec(
        select(OutboundMessage).where(
            col(OutboundMessage.status).in_(("sent", "delivered", "dead", "cancelled")),
            (col(OutboundMessage.body_sealed).is_not(None)) | (col(OutboundMessage.to_sealed).is_not(None)),
            (col(OutboundMessage.created_at) <= cutoff) | col(OutboundMessage.report_id).in_(closed or [-1]),
        )
    ).all()
    if not dry_run:
        for row in rows:
            row.body_sealed, row.to_sealed = None, None
            session.add(row)
    return len(rows)


def purge_evidence(session: Session, settings: Settings, dry_run: bool) -> int:
    """Evidence files and rows of cases closed before the narrative period (service/evidence)."""
    ids = _closed_before(session, now() - _days(settings.narrative_retention_days))
    if not ids:
        return 0
    count = int(
        session.execute(select(func.count()).select_from(Evidence).where(col(Evidence.report_id).in_(ids))).scalar()
        or 0
    )
    if not dry_run:
        for report_id in ids:
            erase_for_report(session, report_id, settings)
    return count


def purge_spool(session: Session, settings: Settings, dry_run: bool) -> int:
    """Spool files that can never be replayed (`.bad` and its `.reason`, stale `.tmp`) once past the
    narrative period."""
    folder = Path(settings.spool_dir)
    if not folder.is_dir():
        return 0
    limit = (now() - _days(settings.narrative_retention_days)).timestamp()
    stale = [p for p in folder.iterdir() if p.suffix in (".bad", ".reason", ".tmp") and p.stat().st_mtime <= limit]
    if not dry_run:
        for path in stale:
            path.unlink(missing_ok=True)
    return len(stale)


for _name, _fn in (
    ("contacts", purge_contacts),
    ("unsent_messages", purge_unsent),
    ("narratives", purge_narratives),
    ("outbox_payloads", purge_outbox_payloads),
    ("evidence", purge_evidence),
    ("spool", purge_spool),
):
    register_purger(_name, _fn)


def purge(session: Session, *, settings: Settings | None = None, dry_run: bool = False) -> dict[str, int]:
    """Run every purge step; with dry_run, only count. The caller commits."""
    settings = settings or get_settings()
    return {name: purger(session, settings, dry_run) for name, purger in _PURGERS.items()}
