"""Urgent cases must reach a person at once: an email to the handling organisation's people.

The email names the case number, its category and a link into the review queue; never the
narrative or anything about the reporter (the case is read behind the login). It goes
through the outbox like every other message, with a dedupe key per case and person, so a
retry never mails twice. Without SMTP (`SAMLENG_SMTP_URL`) nothing is queued: the queue
itself still puts urgent cases on top.
"""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from service.config import Settings
from service.kit.clock import as_utc, now
from service.kit.crypto import seal
from service.kit.i18n import N_, gettext
from service.kit.models import require_id
from service.orgs.models import Organisation, User
from service.outbox.models import OutboundMessage
from service.reports.models import Report
from service.reports.service import add_event

SUBJECT = N_("Urgent case #{case} in your queue")
TEXT = N_("An urgent report ({category}) has reached your organisation's queue. Open it: {url}")


def alert_urgent(session: Session, report: Report, settings: Settings) -> int:
    """Queue an alert email to each active handler and supervisor of the case's organisation.

    The alert follows the case: called again after the case was routed to another organisation,
    it alerts the new organisation's people (each person once per case, ever) and withdraws the
    alerts to the previous organisation's people that have not gone out yet. One already sent
    stays sent; its link then no longer opens the case for them (docs/escalation.md)."""
    if report.org_id is None:
        return 0
    people = session.exec(
        select(User).where(
            User.org_id == report.org_id,
            col(User.is_active).is_(True),
            col(User.role).in_(("handler", "supervisor")),
        )
    ).all()
    withdrawn = _withdraw_others(session, report, keep={require_id(u) for u in people})
    if report.urgency != "urgent" or not settings.smtp_url:
        return 0
    org = session.get(Organisation, report.org_id)
    url = f"{settings.public_url.rstrip('/')}/cases/{report.id}"
    queued = 0
    for user in people:
        key = f"urgent-alert:{report.id}:{user.id}"
        if session.exec(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == key)).first() is not None:
            continue
        subject, text = alert_text(report, url, reader_languages(user, org))
        session.add(
            OutboundMessage(
                kind="email",
                channel="email",
                report_id=report.id,
                dedupe_key=key,
                to_sealed=seal(user.email),
                body_sealed=seal(json.dumps({"subject": subject, "text": text}, ensure_ascii=False)),
                next_attempt_at=now(),
            )
        )
        queued += 1
    if queued or withdrawn:
        add_event(
            session, report, "urgent_alert", detail={"people": queued, "org_id": report.org_id, "withdrawn": withdrawn}
        )
    return queued


LANGUAGES = ("km", "en", "pt")


def reader_languages(user: User, org: Organisation | None) -> tuple[str, ...]:
    """The language(s) one person's alert is written in: theirs (the one they last chose for the
    pages), else their organisation's, else English and Khmer together."""
    for chosen in (user.language, org.language if org is not None else None):
        if chosen in LANGUAGES:
            return (chosen,)
    return ("en", "km")


def alert_text(report: Report, url: str, languages: tuple[str, ...]) -> tuple[str, str]:
    """The subject and text of an urgent alert in these languages (several: one after the other),
    the category named in each language (docs/escalation.md)."""

    def params(lang: str) -> dict:
        category = gettext(lang, f"category:{report.category}") if report.category else "-"
        return {"case": report.id, "category": category, "url": url}

    subject = " / ".join(gettext(lang, SUBJECT, **params(lang)) for lang in languages)
    text = "\n\n".join(gettext(lang, TEXT, **params(lang)) for lang in languages)
    return subject, text


def _withdraw_others(session: Session, report: Report, *, keep: set[int]) -> int:
    """Cancel this case's alerts still waiting in the outbox for people not in `keep` (a row a
    worker is sending right now, under its lease, is left alone)."""
    prefix = f"urgent-alert:{report.id}:"
    stamp = now()
    rows = session.exec(
        select(OutboundMessage).where(
            OutboundMessage.report_id == report.id,
            OutboundMessage.status == "pending",
            col(OutboundMessage.dedupe_key).startswith(prefix),
        )
    ).all()
    withdrawn = 0
    for row in rows:
        user_id = int((row.dedupe_key or "").rsplit(":", 1)[1])
        leased = row.claimed_until is not None and as_utc(row.claimed_until) > stamp
        if user_id in keep or leased:
            continue
        row.status, row.to_sealed, row.body_sealed, row.last_error = "cancelled", None, None, "case routed elsewhere"
        session.add(row)
        withdrawn += 1
    return withdrawn
