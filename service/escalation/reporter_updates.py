"""Closing the loop: tell a consented reporter when their case moves, and ask at closure if it was resolved."""

from __future__ import annotations

import logging
import uuid

from sqlmodel import Session, select

from service.escalation import texts
from service.intake import keywords
from service.intake.models import ContactVault
from service.intake.questions import PendingQuestion, ask
from service.intake.schemas import Reply
from service.intake.vault import contact_for_report
from service.kit import zones
from service.kit.clock import now
from service.kit.i18n import gettext
from service.kit.models import require_id
from service.orgs.zones import org_zone
from service.outbox.service import enqueue_message
from service.reports.models import Report, Reporter
from service.reports.service import add_event, change_status

log = logging.getLogger(__name__)
PUBLIC = tuple(texts.LOOP)
ANSWERS = {"1": "yes", "2": "no", "3": "partly"}
_PARTLY_WORDS = {
    "partly",
    "partially",
    "partial",
    "some",
    "ខ្លះ",
    "មួយផ្នែក",
    "em parte",
    "parte",
    "parcialmente",
    "mais ou menos",
}


def announce(session: Session, report: Report, status: str) -> bool:
    """Queue the short public-status message to the reporter, if they consented and can be reached."""
    if status not in PUBLIC or not report.consent_followup or report.reporter_id is None:
        return False
    reporter = session.get(Reporter, report.reporter_id)
    if reporter is None or reporter.opted_out_at is not None:
        return False
    contact = contact_for_report(session, require_id(report))
    if contact is None:
        return False
    channel, address = contact
    language = reporter.language or report.language or "en"
    # The day the reporter made the report, where the organisation handling it works.
    day = zones.local_date(report.created_at, org_zone(session, report.org_id))
    text = gettext(language, texts.LOOP[status], date=day)
    row = enqueue_message(session, channel=channel, to=address, body=text, reporter_id=reporter.id, report_id=report.id)
    row.dedupe_key = f"loop-{report.id}-{status}-{uuid.uuid4().hex[:12]}"
    if status == "closed":
        ask(
            session,
            reporter_id=require_id(reporter),
            report_id=require_id(report),
            kind="satisfaction",
            language=language,
        )
    add_event(session, report, "reporter_notified", detail={"status": status, "channel": channel})
    return True


def parse_satisfaction(text: str) -> str | None:
    cleaned = keywords.normalise(text)  # case, spaces, Khmer digits, Portuguese accents
    if cleaned in ANSWERS:
        return ANSWERS[cleaned]
    if cleaned in _PARTLY_WORDS:
        return "partly"
    if keywords.is_yes(cleaned):
        return "yes"
    if keywords.is_no(cleaned):
        return "no"
    return None


def answer_satisfaction(session: Session, question: PendingQuestion, text: str, language: str) -> Reply | None:
    """The intake hook for "was it resolved?": records report.satisfaction; "no" reopens the case."""
    answer = parse_satisfaction(text)
    if answer is None:
        return None  # not an answer: the message is a new report
    report = session.get(Report, question.report_id)
    question.answered_at = now()
    session.add(question)
    if report is None or report.status == "withdrawn":
        return None
    report.satisfaction = answer
    session.add(report)
    add_event(session, report, "satisfaction", actor="reporter", detail={"answer": answer})
    if answer == "no" and report.status == "closed":
        change_status(session, report, "in_progress", actor="reporter", reason="reporter says not resolved")
        add_event(session, report, "reopened", actor="reporter", detail={"for": "supervisor"})
        # The case is open again: keep the contact until it closes again.
        for entry in session.exec(select(ContactVault).where(ContactVault.report_id == report.id)).all():
            entry.erase_after = None
            session.add(entry)
    msgid = {"yes": texts.THANKS_YES, "no": texts.THANKS_NO, "partly": texts.THANKS_PARTLY}[answer]
    lang = language or question.language
    return Reply(text=gettext(lang, msgid), language=lang, kind="satisfaction", report_id=report.id)
