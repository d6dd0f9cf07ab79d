"""A reporter withdraws a report (the DELETE command): the report's text goes, then everything
that could still carry anything about it.

This sequence crosses reports, the contact vault, evidence and the outbox. Its one caller is the
intake dialogue, so it lives here, below nothing that imports intake (reports no longer reaches
into the vault or the outbox).
"""

from __future__ import annotations

from sqlmodel import Session

from service.evidence.service import erase_for_report as erase_evidence
from service.intake.vault import erase_for_report as erase_contact
from service.outbox.service import cancel_for_report
from service.reports import service as reports
from service.reports.models import Report
from service.kit.models import require_id


def withdraw(session: Session, report: Report, *, actor: str = "reporter") -> None:
    """Raises reports.AlreadyWithdrawn for a report withdrawn before."""
    reports.withdraw(session, report, actor=actor)  # status withdrawn, text erased, on the timeline
    erase_contact(session, require_id(report))  # no way back to the reporter about it
    erase_evidence(session, require_id(report))  # photos and files
    cancel_for_report(session, require_id(report))  # nothing about it leaves after this
