"""The retaliation watch (docs/retaliation.md).

1. `schedule`: a case whose escalation names a facility or an authority gets one check-in per
   configured day (7 and 30 by default) after that escalation — one row each, unique per case and day.
2. `send_due`: a check-in that is due goes to a reporter who consented to follow-up, through the outbox
   and their channel, once (claimed row, one dedupe key); otherwise it is skipped with its reason.
   `mark_undelivered`: a check-in whose message was given up (a dead letter) or that the carrier
   reported undelivered is not sent again automatically: it is marked `undelivered`, its question closed,
   and the case page tells the handler to follow up. `send_again`: the case's handler or a supervisor
   asks for it to be sent again (once per press, audited), when the reporter may still be asked.
3. `answer_checkin` (the intake hook for the question, looked up by name): "1"/"no" is recorded; "2"/"yes"
   opens an urgent case linked to the first, routed to the legal-aid organisation by the retaliation
   routing rule (else to the first case's organisation), and the reporter is told in one short reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from service.alerts.service import alert_urgent
from service.audit.service import record
from service.auth.principal import Principal
from service.bodies.models import GrievanceBody
from service.config import Settings, get_settings
from service.escalation.models import Escalation
from service.intake import keywords
from service.intake.questions import PendingQuestion, ask
from service.intake.schemas import Reply
from service.intake.vault import contact_for_report, store_contact
from service.kit import receipts, zones
from service.kit.clock import now
from service.kit.crypto import receipt_hash
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.i18n import gettext
from service.kit.models import require_id
from service.orgs.models import SUPERVISING
from service.orgs.zones import org_zone
from service.outbox.models import OutboundMessage
from service.outbox.service import enqueue_message
from service.places.models import Place
from service.reports.models import Report, ReportEvent, Reporter
from service.reports.service import add_event
from service.retaliation import texts
from service.retaliation.models import RetaliationCheckin
from service.routing import service as routing

KIND = "retaliation"  # the pending question's kind (service/intake/questions.py HANDLERS)
# What names a facility or an authority (docs/retaliation.md, "Which cases are watched"):
FACILITY_KINDS = ("health_centre", "mine")  # the report's place is a facility
FACILITY_LEVELS = ("facility",)  # the escalation's body is a facility's own office
AUTHORITY_NETWORKS = ("drug_control", "human_rights")  # police, detention, drug-control and rights bodies
RIGHTS_CATEGORY = "human_rights_violation"
_NO = {"1", "no", "nao", "គ្មាន", "អត់មាន"}
_YES = {"2", "yes", "sim", "មាន"}


def checkin_days(settings: Settings) -> list[int]:
    """SAMLENG_RETALIATION_CHECKIN_DAYS ("7,30") as whole days, each once, in order."""
    return sorted({int(part) for part in settings.retaliation_checkin_days.split(",") if part.strip()})


# -- 1. which cases, and when ------------------------------------------------------------------------
def names_facility_or_authority(session: Session, report: Report, body: GrievanceBody | None) -> bool:
    """The case names a facility or an authority: its place is a facility, its category is a human-rights
    violation, or the escalation's body is a facility or an authority (drug control, human rights)."""
    if report.category == RIGHTS_CATEGORY:
        return True
    if body is not None and (body.level in FACILITY_LEVELS or body.network in AUTHORITY_NETWORKS):
        return True
    place = session.get(Place, report.place_id) if report.place_id is not None else None
    return place is not None and place.kind in FACILITY_KINDS


def schedule(session: Session, *, days: Sequence[int], limit: int = 200) -> int:
    """Check-ins for the consented cases escalated in the last max(days) days that have none yet,
    `day` days after their first escalation that names a facility or an authority. Returns how many
    check-ins were added. Safe to repeat: a case that has its check-ins is not looked at again."""
    if not days:
        return 0
    watched = select(RetaliationCheckin.report_id)
    rows = session.exec(
        select(Escalation, Report)
        .join(Report, col(Report.id) == col(Escalation.report_id))
        .where(
            col(Escalation.report_id).not_in(watched),
            col(Report.consent_followup).is_(True),
            col(Report.reporter_id).is_not(None),
            Report.status != "withdrawn",
            col(Escalation.status) != "cancelled",
            Escalation.created_at >= now() - timedelta(days=max(days)),
        )
        .order_by(col(Escalation.id))
        .limit(limit)
    ).all()
    added, seen = 0, set()
    for escalation, report in rows:
        if report.id in seen:
            continue  # its first qualifying escalation is already scheduled
        if not names_facility_or_authority(session, report, session.get(GrievanceBody, escalation.body_id)):
            continue
        seen.add(report.id)
        for day in days:
            session.add(
                RetaliationCheckin(
                    report_id=require_id(report),
                    escalation_id=escalation.id,
                    place_id=report.place_id,
                    day=day,
                    due_at=escalation.created_at + timedelta(days=day),
                )
            )
            added += 1
    session.flush()
    return added


# -- 2. asking --------------------------------------------------------------------------------------
def why_not(session: Session, report: Report | None) -> str | None:
    """Why a check-in cannot be sent (None: it can)."""
    if report is None or report.status == "withdrawn":
        return "withdrawn"
    if not report.consent_followup or report.reporter_id is None:
        return "no_consent"
    reporter = session.get(Reporter, report.reporter_id)
    if reporter is None or reporter.opted_out_at is not None:
        return "opted_out"
    if contact_for_report(session, require_id(report)) is None:
        return "no_contact"  # erased: STOP, DELETE, or closed + the grace period
    return None


def send_due(session: Session, *, answer_days: float, postgresql: bool, limit: int = 100) -> dict[str, int]:
    """Send the check-ins that are due (each once: the rows are claimed, on PostgreSQL with SKIP LOCKED,
    and each message has the dedupe key `retaliation-<check-in id>`)."""
    query = (
        select(RetaliationCheckin)
        .where(RetaliationCheckin.status == "scheduled", RetaliationCheckin.due_at <= now())
        .order_by(col(RetaliationCheckin.due_at), col(RetaliationCheckin.id))
        .limit(limit)
    )
    if postgresql:
        query = query.with_for_update(skip_locked=True)
    sent = skipped = 0
    for checkin in session.exec(query).all():
        report = session.get(Report, checkin.report_id)
        reason = why_not(session, report)
        if reason is not None:
            checkin.status, checkin.skip_reason = "skipped", reason
            session.add(checkin)
            skipped += 1
            continue
        assert report is not None
        ask_reporter(session, checkin, report, answer_days=answer_days)
        sent += 1
    session.flush()
    return {"retaliation_sent": sent, "retaliation_skipped": skipped}


def ask_reporter(
    session: Session,
    checkin: RetaliationCheckin,
    report: Report,
    *,
    answer_days: float,
    key: str | None = None,
    language: str | None = None,
    event: str = "retaliation_checkin",
    actor: str = "system",
) -> OutboundMessage:
    """The question through the outbox, by the channel the reporter used, in their language (`language`:
    the one it was first asked in, when it is sent again). Returns the message queued."""
    reporter = session.get_one(Reporter, report.reporter_id)
    contact = contact_for_report(session, require_id(report))
    if contact is None:  # erased since the caller looked (STOP, DELETE): nobody to ask
        raise NotFound("no contact kept for this report")
    channel, address = contact
    language = language or reporter.language or report.language or "en"
    day = zones.local_date(report.created_at, org_zone(session, report.org_id))
    row = enqueue_message(
        session,
        channel=channel,
        to=address,
        body=gettext(language, texts.CHECKIN, date=day),
        reporter_id=reporter.id,
        report_id=report.id,
    )
    row.dedupe_key = key or dedupe_key(checkin)
    # An earlier check-in of this case left unanswered: only the newest question stays open.
    _close_open_questions(session, require_id(report))
    ask(
        session,
        reporter_id=require_id(reporter),
        report_id=require_id(report),
        kind=KIND,
        language=language,
        ttl=timedelta(days=answer_days),
    )
    checkin.status, checkin.sent_at = "sent", now()
    session.add(checkin)
    detail: dict[str, object] = {"day": checkin.day, "channel": channel}
    if event != "retaliation_checkin":
        detail["checkin"] = checkin.id
    add_event(session, report, event, actor=actor, detail=detail)
    session.flush()
    return row


def dedupe_key(checkin: RetaliationCheckin) -> str:
    """The outbox key of a check-in's message: one message per check-in, whatever the workers."""
    return f"retaliation-{checkin.id}"


def again_key(checkin: RetaliationCheckin, attempt: int) -> str:
    """The outbox key of the `attempt`-th time a handler had the check-in sent again: one message per press."""
    return f"{dedupe_key(checkin)}-again-{attempt}"


def _checkin_of(key: str | None) -> int | None:
    """The check-in a message's key names (`retaliation-<id>` or `retaliation-<id>-again-<n>`)."""
    parts = (key or "").split("-")
    return int(parts[1]) if len(parts) >= 2 and parts[0] == "retaliation" and parts[1].isdigit() else None


# The carrier's own word that a message accepted by Twilio never reached the phone (status callback).
UNDELIVERED_PROVIDER_STATUSES = ("undelivered", "failed")


def mark_undelivered(session: Session, *, answer_days: float, limit: int = 200) -> int:
    """Check-ins still waiting for their answer whose message did not arrive: the outbox gave it up (a
    dead letter, after its retries with backoff or at once on a permanent refusal), or the carrier said
    "undelivered"/"failed". Only a check-in's newest message counts (a handler may have had it sent
    again). Each becomes `undelivered` (not sent again automatically: docs/retaliation.md, "A check-in
    that does not arrive"), its question is closed, and the case's timeline says so. Returns how many."""
    waiting = session.exec(
        select(RetaliationCheckin)
        .where(
            RetaliationCheckin.status == "sent",
            col(RetaliationCheckin.sent_at) >= now() - timedelta(days=answer_days),
        )
        .order_by(col(RetaliationCheckin.id))
        .limit(limit)
    ).all()
    by_id = {require_id(c): c for c in waiting}
    if not by_id:
        return 0
    newest: dict[int, OutboundMessage] = {}
    for row in session.exec(
        select(OutboundMessage)
        .where(
            col(OutboundMessage.report_id).in_({c.report_id for c in waiting}),
            col(OutboundMessage.dedupe_key).startswith("retaliation-"),
        )
        .order_by(col(OutboundMessage.id))
    ).all():
        checkin_id = _checkin_of(row.dedupe_key)
        if checkin_id in by_id:
            newest[checkin_id] = row  # in order of id: the last one is the newest
    failed = [
        (by_id[checkin_id], row)
        for checkin_id, row in newest.items()
        if row.status == "dead" or row.provider_status in UNDELIVERED_PROVIDER_STATUSES
    ]
    for checkin, row in failed:
        checkin.status = "undelivered"
        session.add(checkin)
        report = session.get(Report, checkin.report_id)
        if report is None:
            continue
        if (
            _later_checkin(session, checkin) is None
        ):  # its question is the open one: a reply cannot answer a question that never came
            _close_open_questions(session, require_id(report))
        add_event(
            session,
            report,
            "retaliation_undelivered",
            actor="outbox",
            detail={"day": checkin.day, "channel": row.channel},
        )
    session.flush()
    return len(failed)


# -- 2b. sending it again, at a handler's request ---------------------------------------------------
class CannotSendAgain(DomainError):
    """The check-in may not be sent again now (answered 409, with the reason the handler reads)."""

    http_status = 409


class NotPermitted(DomainError):
    http_status = 403


def may_send_again(user: Principal, report: Report) -> bool:
    """The case's handler (the one it is assigned to), its organisation's supervisors, an administrator."""
    return user.role in SUPERVISING or (report.assigned_user_id is not None and report.assigned_user_id == user.id)


def times_sent_again(session: Session, checkin: RetaliationCheckin) -> int:
    """How many times handlers had the check-in sent again (one message, with its own key, per press)."""
    prefix = f"{dedupe_key(checkin)}-again-"
    return len(
        session.exec(
            select(OutboundMessage.id).where(
                OutboundMessage.report_id == checkin.report_id, col(OutboundMessage.dedupe_key).startswith(prefix)
            )
        ).all()
    )


def _first_language(session: Session, checkin: RetaliationCheckin) -> str | None:
    """The language the check-in was asked in: its question's (asked with the message it was sent in)."""
    return session.exec(
        select(PendingQuestion.language)
        .where(
            PendingQuestion.report_id == checkin.report_id,
            PendingQuestion.kind == KIND,
            col(PendingQuestion.asked_at) <= checkin.sent_at,
        )
        .order_by(col(PendingQuestion.asked_at).desc(), col(PendingQuestion.id).desc())
    ).first()


def send_again(
    session: Session, *, user: Principal, report: Report, checkin_id: int, after: int, answer_days: float
) -> tuple[OutboundMessage, bool]:
    """Send an undelivered check-in again, as `user` (the case page's button, the API): through the outbox
    like the first time, by the same channel, in the language it was first asked in; its answer is read
    as the first one's would have been. `after`: how many times the caller saw it sent again already
    (the page's form carries it), so a form submitted twice sends one message: the repeat returns that
    message (`False`: nothing new). Audited; refused (`CannotSendAgain`, its reason readable) when the
    reporter withdrew, said STOP, gave no consent or lost their contact, or the check-in was answered, was
    not undelivered, or a later one was sent since."""
    if not may_send_again(user, report):
        raise NotPermitted(texts.ONLY_HANDLER)
    # Locked (PostgreSQL: FOR UPDATE; SQLite's writes are serialised): two presses at once send once.
    checkin = session.exec(
        select(RetaliationCheckin)
        .where(RetaliationCheckin.id == checkin_id, RetaliationCheckin.report_id == report.id)
        .with_for_update()
    ).first()
    if checkin is None:
        raise NotFound("no such check-in")
    if after < 0:
        raise InvalidInput("after must be 0 or more")
    key = again_key(checkin, after + 1)
    done = session.exec(select(OutboundMessage).where(OutboundMessage.dedupe_key == key)).first()
    if done is not None:
        return done, False  # the same press again (a form submitted twice): already sent
    if checkin.status == "answered":
        raise CannotSendAgain(texts.REFUSED_ANSWERED)
    if checkin.status != "undelivered":
        raise CannotSendAgain(texts.REFUSED_NOT_UNDELIVERED)
    if after != times_sent_again(session, checkin):
        raise InvalidInput(texts.STALE)
    if _later_checkin(session, checkin) is not None:
        raise CannotSendAgain(texts.REFUSED_LATER)
    reason = why_not(session, report)
    if reason is not None:
        raise CannotSendAgain(texts.REFUSED[reason])
    row = ask_reporter(
        session,
        checkin,
        report,
        answer_days=answer_days,
        key=key,
        language=_first_language(session, checkin),
        event="retaliation_resent",
        actor=user.email,
    )
    record(
        session,
        actor=user.email,
        action="retaliation.send_again",
        object_type="report",
        object_id=report.id,
        detail={"checkin": checkin.id, "day": checkin.day, "attempt": after + 1, "outbound_id": row.id},
    )
    return row, True


@dataclass
class Card:
    """What the case page's retaliation card shows: the newest check-in that did not arrive or was sent
    again, when it was sent again and by whom, and how many times (the button's `after`)."""

    checkin: RetaliationCheckin
    undelivered: bool
    sent_again: list[tuple[datetime, str]]

    @property
    def after(self) -> int:
        return len(self.sent_again)


Event = tuple[datetime, str, str, dict | None]  # a case event as the card reads it: at, kind, actor, detail


def card(session: Session, report_id: int, events: Sequence[Event] | None = None) -> Card | None:
    """The card, when the case's newest check-in sent is undelivered or was sent again and waits for its
    answer (None otherwise: a later check-in sent or answered makes it give way). `events`: the case's
    events when the caller has read them already (the case page's timeline): they are not read again,
    and a case whose events hold no check-in sent costs no query."""
    if events is not None and not any(kind == "retaliation_checkin" for _, kind, _, _ in events):
        return None  # every check-in sent writes that event (ask_reporter)
    newest = session.exec(
        select(RetaliationCheckin)
        .where(RetaliationCheckin.report_id == report_id, col(RetaliationCheckin.sent_at).is_not(None))
        .order_by(col(RetaliationCheckin.sent_at).desc(), col(RetaliationCheckin.id).desc())
    ).first()
    if newest is None or newest.status not in ("undelivered", "sent"):
        return None
    if events is None:
        events = [
            (e.created_at, e.kind, e.actor, e.detail)
            for e in session.exec(
                select(ReportEvent)
                .where(ReportEvent.report_id == report_id, ReportEvent.kind == "retaliation_resent")
                .order_by(col(ReportEvent.id))
            ).all()
        ]
    again = [
        (at, actor)
        for at, kind, actor, detail in events
        if kind == "retaliation_resent" and (detail or {}).get("checkin") == newest.id
    ]
    if newest.status == "sent" and not again:
        return None
    return Card(checkin=newest, undelivered=newest.status == "undelivered", sent_again=again)


# -- 3. the answer ----------------------------------------------------------------------------------
def parse_answer(text: str) -> str | None:
    """ "no", "yes" or None (not an answer) — 1/2, or a yes/no word in Khmer, English or Portuguese."""
    cleaned = keywords.normalise(text)  # case, spaces, Khmer digits, Portuguese accents
    if cleaned in _NO or keywords.is_no(cleaned):
        return "no"
    if cleaned in _YES or keywords.is_yes(cleaned):
        return "yes"
    return None


def answer_checkin(session: Session, question: PendingQuestion, text: str, language: str) -> Reply | None:
    """The intake hook for "has anyone treated you worse?". None: not an answer (the dialogue goes on)."""
    answer = parse_answer(text)
    if answer is None:
        return None
    report = session.get(Report, question.report_id)
    checkin = session.exec(
        select(RetaliationCheckin)
        .where(
            RetaliationCheckin.report_id == question.report_id,
            RetaliationCheckin.status == "sent",
        )
        .order_by(col(RetaliationCheckin.id).desc())
    ).first()
    question.answered_at = now()
    session.add(question)
    if report is None or report.status == "withdrawn" or checkin is None:
        return None
    lang = language or question.language
    checkin.status, checkin.answer, checkin.answered_at = "answered", answer, now()
    session.add(checkin)
    if answer == "no":
        add_event(session, report, "retaliation_answer", actor="reporter", detail={"answer": "no", "day": checkin.day})
        return Reply(text=gettext(lang, texts.THANKS_NO), language=lang, kind=KIND, report_id=report.id)
    case, code = open_linked_case(session, report, checkin, lang)
    return Reply(
        text=gettext(lang, texts.THANKS_YES, code=receipts.display(code)),
        language=lang,
        kind=KIND,
        report_id=case.id,
        receipt_code=receipts.display(code),
    )


def open_linked_case(
    session: Session, report: Report, checkin: RetaliationCheckin, language: str, settings: Settings | None = None
) -> tuple[Report, str]:
    """The urgent case a "yes" opens: linked both ways on the timelines, routed, its handlers alerted."""
    settings = settings or get_settings()
    code = receipts.new_code()
    case = Report(
        receipt_hash=receipt_hash(code),
        channel=report.channel,
        reporter_id=report.reporter_id,
        narrative_masked=gettext(language, texts.NARRATIVE, case=report.id),
        language=language,
        category=RIGHTS_CATEGORY,
        category_source="reporter",
        urgency="urgent",
        place_id=report.place_id,
        population=report.population,
        consent_followup=report.consent_followup,
        # No narrative of the reporter's to read: triage leaves it as it is (urgent, human rights).
        status="triaged",
        triage_language=language,
    )
    session.add(case)
    session.flush()
    add_event(session, case, "received", detail={"channel": case.channel})
    add_event(session, case, "retaliation_of", actor="reporter", detail={"case": report.id, "day": checkin.day})
    add_event(
        session,
        report,
        "retaliation_answer",
        actor="reporter",
        detail={"answer": "yes", "day": checkin.day, "case": case.id},
    )
    checkin.followup_report_id = case.id
    session.add(checkin)
    # The reporter may be reached about this case as about the first (same consent, same channel).
    contact = contact_for_report(session, require_id(report))
    if contact is not None and report.reporter_id is not None:  # a check-in went only to a reporter
        store_contact(
            session,
            reporter_id=report.reporter_id,
            report_id=require_id(case),
            channel=contact[0],
            address=contact[1],
        )
    route(session, case, first=report, rule_key=settings.retaliation_rule)
    alert_urgent(session, case, settings)
    return case, code


def route(session: Session, case: Report, *, first: Report, rule_key: str) -> None:
    """By the retaliation rule (its organisation: the legal-aid CSO), else to the first case's organisation.
    Routed by a rule chosen on purpose, not by matching: the worker never routes it again."""
    rule = routing.current_rule(session, rule_key)
    if rule is None or not rule.active or not rule.org_slug:
        rule = None
    routing.set_route(session, case, rule=rule, actor="routing")
    if case.org_id is None:  # no rule, or its organisation does not exist here
        case.org_id = first.org_id
        session.add(case)
    session.flush()


def linked_cases(session: Session, report_id: int) -> list[int]:
    """The cases linked to this one by the retaliation watch (either way)."""
    rows = session.exec(
        select(RetaliationCheckin.report_id, RetaliationCheckin.followup_report_id).where(
            col(RetaliationCheckin.followup_report_id).is_not(None),
            or_(
                col(RetaliationCheckin.report_id) == report_id, col(RetaliationCheckin.followup_report_id) == report_id
            ),
        )
    ).all()
    return sorted({other for a, b in rows for other in (a, b) if other is not None and other != report_id})


def _close_open_questions(session: Session, report_id: int) -> None:
    """Close the case's unanswered check-in question, so a later reply is not read as its answer."""
    for question in session.exec(
        select(PendingQuestion).where(
            PendingQuestion.report_id == report_id,
            PendingQuestion.kind == KIND,
            col(PendingQuestion.answered_at).is_(None),
            col(PendingQuestion.expires_at) > now(),
        )
    ).all():
        question.expires_at = now()
        session.add(question)


def _later_checkin(session: Session, checkin: RetaliationCheckin) -> int | None:
    """A check-in of the same case sent after this one (its question is then the open one), or None."""
    return session.exec(
        select(RetaliationCheckin.id).where(
            RetaliationCheckin.report_id == checkin.report_id,
            col(RetaliationCheckin.id) != checkin.id,
            col(RetaliationCheckin.sent_at) > checkin.sent_at,
        )
    ).first()
