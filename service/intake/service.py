"""The one intake dialogue, shared by every channel.

A message arrives as an `InboundMessage`; `receive` stores it idempotently, moves
the reporter's conversation on, and returns the `Reply` for the channel to render.
The first free-text message is a report at once; then at most three questions
(category, place, follow-up consent), each skippable with 0, then the receipt code.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import bindparam, insert
from sqlmodel import Session, col, delete, select

from service.config import Settings, get_settings
from service.inbox.models import InboundMessage as InboundRow
from service.intake import fee_question, keywords, texts, withdrawal
from service.kit import ratelimit
from service.intake import language as languages
from service.intake.models import Conversation
from service.intake.questions import try_answer
from service.intake.reading import TextReading
from service.intake.reading import read as read_text
from service.intake.schemas import InboundMessage, Option, Reply
from service.intake.vault import erase_for_reporter, store_contact
from service.kit import receipts, zones
from service.kit.clock import as_utc, now
from service.kit.crypto import pseudonym, seal, unseal
from service.kit.fastsql import FastStatement
from service.kit.i18n import N_, gettext
from service.kit.masking import mask
from service.kit.models import require_id, table_of
from service.orgs.zones import org_zone
from service.places.models import Place
from service.places.service import match_place
from service.reports import service as reports
from service.triage import service as triage
from service.reports.models import Report, Reporter

log = logging.getLogger(__name__)
_INBOX = table_of(InboundRow)
_CONVERSATION = table_of(Conversation)
# Built once, compiled once per dialect, run on the DBAPI cursor (service/kit/fastsql.py).
_SELECT_STORED = FastStatement(
    select(_INBOX.c.reply_sealed, _INBOX.c.kind, _INBOX.c.report_id).where(
        _INBOX.c.channel == bindparam("channel"), _INBOX.c.external_id == bindparam("external_id")
    )
)
_INSERT_INBOX = FastStatement(insert(_INBOX).returning(_INBOX.c.id))
_INSERT_CONVERSATION = FastStatement(insert(_CONVERSATION))

STEPS = ("category", "place", "consent")
_CATEGORY_LABELS = (
    N_("Poor service"),
    N_("Stigma or discrimination"),
    N_("Fees or money"),
    N_("Rights abuse or police"),
    N_("Other"),
)


def receive(session: Session, message: InboundMessage, *, settings: Settings | None = None) -> Reply:
    """Store one inbound message exactly once and answer it. Redelivery returns the first answer.

    If another process stores the same (channel, external id) at the same moment, the
    inbox's unique constraint makes this raise IntegrityError; the caller rolls back and
    calls again, and the second call returns the stored answer (the writer does this).
    """
    stored = _stored_reply(session, message)
    if stored is not None:
        return stored
    return _handle(session, message, settings or get_settings())


def _stored_reply(session: Session, message: InboundMessage) -> Reply | None:
    row = _SELECT_STORED.first(session.connection(), {"channel": message.channel, "external_id": message.external_id})
    if row is None:
        return None
    reply_sealed, kind, report_id = row
    text = unseal(reply_sealed) if reply_sealed else ""
    return Reply(text=text, kind=kind, duplicate=True, report_id=report_id)


def _handle(session: Session, message: InboundMessage, settings: Settings) -> Reply:
    text = message.text.strip()
    reading = message.reading
    if reading is None or not reading.matches(text, message.language_hint):
        reading = read_text(text, message.language_hint)
    reporter = reports.reporter_ref(
        session,
        channel=message.channel,
        address=message.address,
        language_if_new=lambda: _first_report_language(message, reading),
    )
    # A reporter seen for the first time has no conversation and no recent reports: skip the queries.
    conversation = None if reporter.new else _open_conversation(session, reporter, now())
    language = _language(reading, reporter, conversation)
    ctx = _Context(session, message, settings, reporter, conversation, language, reading)
    reply = ctx.dispatch()
    session.flush()  # the dialogue's ORM changes first: the inbox row refers to them
    row_id = _INSERT_INBOX.scalar(
        session.connection(),
        {
            "channel": message.channel,
            "external_id": message.external_id,
            "reporter_id": reporter.id,
            "body_masked": ctx.masked_text,
            "spooled": message.spooled,
            "received_at": message.received_at,
            "kind": reply.kind,
            "report_id": reply.report_id,
            "reply_sealed": seal(reply.text),
        },
    )
    # Ids and kinds only: never the address, the provider's message id or the text.
    log.info("inbound %s message #%s: %s (report #%s)", message.channel, row_id, reply.kind, reply.report_id)
    return reply


def _first_report_language(message: InboundMessage, reading: TextReading) -> str | None:
    """The language a new sender keeps from this message, stored with their new row (one statement
    fewer than setting it after the report). A new sender has no conversation and no open question,
    so a message that is not a command and not empty becomes their first report (`_Context.dispatch`,
    `new_report`), and the first report's language, when the text shows it, is kept with the
    reporter. An outreach worker's report keeps none; a command keeps none (a language keyword sets
    it itself)."""
    if message.assisted or reading.command is not None or not reading.text:
        return None
    return reading.evident_language


def _open_conversation(session: Session, reporter: reports.ReporterRef, at) -> Conversation | None:
    conversation = session.exec(select(Conversation).where(Conversation.reporter_id == reporter.id)).first()
    if conversation is not None and conversation.expires_at is not None and as_utc(conversation.expires_at) <= at:
        # Idle too long: the report keeps what was given; a new message starts afresh.
        session.delete(conversation)
        session.flush()
        return None
    return conversation


def _language(reading: TextReading, reporter: reports.ReporterRef, conversation: Conversation | None) -> str:
    """The kept language (conversation, then reporter) wins over the script of this message;
    a language keyword (KH, EN, PT) changes it in cmd_language (service/intake/language.py)."""
    kept = conversation.language if conversation is not None else reporter.language
    keyword_language = reading.command.language if reading.command else None
    return languages.choose(kept=kept, keyword_language=keyword_language, shown=lambda: reading.evident_language)


class _Context:
    """One message being handled: everything the dialogue steps need."""

    def __init__(
        self,
        session: Session,
        message: InboundMessage,
        settings: Settings,
        reporter: reports.ReporterRef,
        conversation: Conversation | None,
        language: str,
        reading: TextReading,
    ) -> None:
        self.session, self.message, self.settings = session, message, settings
        self.reporter, self.conversation, self.language = reporter, conversation, language
        self.reading, self.text, self.command = reading, reading.text, reading.command

    @property
    def masked_text(self) -> str:
        """The message with numbers, emails and ids masked."""
        return self.reading.masked

    def t(self, msgid: str, **params: object) -> str:
        return gettext(self.language, msgid, **params)

    def reply(
        self, msgid: str, *, kind: str, report_id: int | None = None, step: str | None = None, **params: object
    ) -> Reply:
        options = _options(self.language, step)
        return Reply(
            text=self.t(msgid, **params),
            language=self.language,
            kind=kind,
            step=step,
            options=options,
            report_id=report_id,
        )

    # -- routing -------------------------------------------------------------------------
    def dispatch(self) -> Reply:
        command = self.command
        if command is not None:
            return getattr(self, f"cmd_{command.name}")(command.argument)
        if self.conversation is not None and self.conversation.step in STEPS:
            return self.answer(self.conversation)
        if not self.reporter.new:  # escalation: an open question (e.g. "resolved?") first
            answered = try_answer(self.session, reporter_id=self.reporter.id, text=self.text, language=self.language)
            if answered is not None:
                return answered
        return self.new_report()

    # -- keywords ------------------------------------------------------------------------
    def cmd_help(self, _arg: str) -> Reply:
        return self.reply(texts.HELP, kind="help")

    def cmd_language(self, language: str) -> Reply:
        self.language = language
        reports.update_reporter(self.session, self.reporter, language=language)
        if self.conversation is not None:
            self.conversation.language = language
            self.session.add(self.conversation)
            return self.ask(self.conversation, kind="language")
        return self.reply(texts.HELP if language == "km" else texts.LANGUAGE_SET, kind="language")

    def cmd_stop(self, _arg: str) -> Reply:
        reports.update_reporter(self.session, self.reporter, opted_out_at=now())
        erase_for_reporter(self.session, self.reporter.id)
        if self.conversation is not None:
            self.session.delete(self.conversation)
        return self.reply(texts.STOPPED, kind="stop")

    def cmd_start(self, _arg: str) -> Reply:
        reports.update_reporter(self.session, self.reporter, opted_out_at=None)
        return self.reply(texts.STARTED, kind="start")

    def cmd_status(self, argument: str) -> Reply:
        found = self._lookup(argument, texts.STATUS_USAGE, kind="status")
        if isinstance(found, Reply):
            return found
        report, code = found
        label = self.t(texts.STATUS_LABELS.get(report.status, texts.STATUS_LABELS["received"]))
        return self.reply(
            texts.STATUS_REPLY,
            kind="status",
            code=receipts.display(code),
            status=label,
            date=zones.local_date(report.updated_at, org_zone(self.session, report.org_id)),
        )

    def cmd_delete(self, argument: str) -> Reply:
        found = self._lookup(argument, texts.DELETE_USAGE, kind="delete")
        if isinstance(found, Reply):
            return found
        report, code = found
        try:
            withdrawal.withdraw(self.session, report)
        except reports.AlreadyWithdrawn:
            return self.reply(texts.ALREADY_WITHDRAWN, kind="delete", code=receipts.display(code))
        if self.conversation is not None and self.conversation.report_id == report.id:
            self.session.delete(self.conversation)
        return self.reply(texts.WITHDRAWN, kind="delete", code=receipts.display(code))

    def _lookup(self, argument: str, usage: str, *, kind: str) -> tuple[Report, str] | Reply:
        """Find a report by receipt code, counting failed guesses per sender and platform-wide."""
        code = receipts.parse(argument)
        if code is None:
            return self.reply(usage, kind=kind)
        sender_bucket = f"lookup-fail:{self.reporter.pseudonym}"
        failed = ratelimit.count(self.session, sender_bucket, timedelta(hours=1))
        # Per sender: a few wrong guesses an hour. Platform-wide, under a flood of wrong codes, only
        # senders who already guessed wrong wait: anyone else's lookup (a valid code above all) still
        # works, so a flood denies nobody, and guessing needs a new number per guess.
        if failed >= self.settings.lookups_per_sender_hour or (
            failed
            and ratelimit.count(self.session, "lookup-fail:*", timedelta(minutes=1))
            >= self.settings.lookups_global_minute
        ):
            return self.reply(texts.RATE_LIMITED, kind=kind)
        report = reports.find_by_code(self.session, code)
        if report is None:
            ratelimit.hit(self.session, sender_bucket)
            ratelimit.hit(self.session, "lookup-fail:*")
            return self.reply(texts.NOT_FOUND, kind=kind, code=receipts.display(code))
        return report, code

    # -- a new report ----------------------------------------------------------------------
    def new_report(self) -> Reply:
        """The first free-text message is a report at once (Core statements: the hot path)."""
        if not self.text:
            return self.reply(texts.EMPTY, kind="empty")
        recent, oldest = (
            (0, None)
            if self.reporter.new
            else reports.recent_report_count(
                self.session, reporter_id=self.reporter.id, since=now() - timedelta(hours=1)
            )
        )
        silent = self.reporter.opted_out_at is not None
        # Triage runs in the worker, seconds after the report is stored (the webhook stays lean);
        # only a sender over the hourly limit is triaged here, because an urgent report is never
        # held back. Never dropped: the others above the limit are stored and held back an hour.
        triaged = triage.classify(self.text) if not silent and recent >= self.settings.reports_per_hour else None
        deferred_until = (
            as_utc(oldest or now()) + timedelta(hours=1)
            if (triaged is not None and triaged.urgency != "urgent")
            else None
        )
        report_id, code = reports.insert_report(
            self.session,
            channel=self.message.channel,
            # An outreach worker's report never links to anyone: no reporter row.
            reporter_id=None if self.message.assisted else self.reporter.id,
            narrative=self.text,
            language=self.language,
            at=self.message.received_at,
            masked=self.masked_text,
            deferred_until=deferred_until,
            assisted=self.message.assisted,
            events=triage.report_events(triaged) if triaged else (),
            **(triage.report_fields(triaged) if triaged else {}),
        )
        if self.reporter.language is None and not self.message.assisted:
            # The first report's language, when the text shows it, is kept with the reporter from now on
            # (a new sender's is stored with their row already: _first_report_language).
            shown = self.reading.evident_language
            if shown is not None:
                reports.update_reporter(self.session, self.reporter, language=shown)
        if silent:
            # They asked for no messages: keep the report, send nothing (Twilio would block it too).
            return Reply(text="", language=self.language, kind="report_silent", report_id=report_id)
        if deferred_until is not None:
            return replace(
                self.reply(texts.DEFERRED, kind="report_deferred", report_id=report_id, code=receipts.display(code)),
                receipt_code=receipts.display(code),
            )
        stamp = now()
        _INSERT_CONVERSATION.execute(
            self.session.connection(),
            {
                "reporter_id": self.reporter.id,
                "channel": self.message.channel,
                "report_id": report_id,
                "step": "category",
                "language": self.language,
                "reasks": 0,
                "code_sealed": seal(code),
                "updated_at": stamp,
                "expires_at": stamp + timedelta(minutes=self.settings.conversation_idle_minutes),
            },
        )
        return self.reply(texts.ASK_CATEGORY, kind="report", report_id=report_id, step="category")

    # -- answers ---------------------------------------------------------------------------
    def answer(self, conversation: Conversation) -> Reply:
        report = self.session.get(Report, conversation.report_id) if conversation.report_id else None
        if report is None or report.status == "withdrawn":
            self.session.delete(conversation)
            self.session.flush()
            self.conversation = None
            return self.new_report()
        step = conversation.step
        skip = keywords.is_skip(self.text)
        if step == "category":
            category = None if skip else keywords.category_answer(self.text)
            if category is not None:
                if report.category_source == "triage" and report.category not in (None, category):
                    report.secondary_category = report.category  # triage's reading stays visible
                report.category, report.category_source = category, "reporter"
            elif not skip:
                # Not a menu answer: more of the story. Keep it, triage the whole again (urgency
                # only goes up), and ask once more.
                reports.append_narrative(self.session, report, self.text)
                if report.narrative_sealed is not None:
                    triage.apply_triage(self.session, report, unseal(report.narrative_sealed))
                if conversation.reasks == 0:
                    conversation.reasks = 1
                    self._touch(conversation)
                    return self.reply(texts.ASK_CATEGORY_AGAIN, kind="answer", report_id=report.id, step="category")
            return self._advance(conversation, report, "place")
        if step == "place":
            if self.message.place_id is not None and self.session.get(Place, self.message.place_id) is not None:
                report.place_id = self.message.place_id
            elif not skip:
                place = match_place(self.session, self.text)
                if place is not None:
                    report.place_id = place.id
                else:
                    report.place_text_masked = mask(self.text)[:300]
            return self._advance(conversation, report, "consent")
        # consent
        if skip:
            report.consent_followup = None
        elif keywords.is_yes(self.text):
            report.consent_followup = True
            store_contact(
                self.session,
                reporter_id=self.reporter.id,
                report_id=require_id(report),
                channel=self.message.channel,
                address=self.message.address,
            )
        elif keywords.is_no(self.text):
            report.consent_followup = False
        elif conversation.reasks == 0:
            conversation.reasks = 1
            self._touch(conversation)
            return self.reply(texts.ASK_CONSENT_AGAIN, kind="answer", report_id=report.id, step="consent")
        return self._finish(conversation, report)

    def _advance(self, conversation: Conversation, report: Report, step: str) -> Reply:
        report.updated_at = now()
        self.session.add(report)
        conversation.step = step
        conversation.reasks = 0
        self._touch(conversation)
        return self.ask(conversation, kind="answer")

    def ask(self, conversation: Conversation, *, kind: str) -> Reply:
        msgid = {"category": texts.ASK_CATEGORY, "place": texts.ASK_PLACE, "consent": texts.ASK_CONSENT}[
            conversation.step
        ]
        return self.reply(msgid, kind=kind, report_id=conversation.report_id, step=conversation.step)

    def _finish(self, conversation: Conversation, report: Report) -> Reply:
        code = unseal(conversation.code_sealed) if conversation.code_sealed else ""
        report.updated_at = now()
        self.session.add(report)
        reports.add_event(self.session, report, "intake_completed")
        self.session.delete(conversation)
        self.conversation = None
        # A report about fees or money: "how much?", in a message of its own, to a reporter who agreed
        # to be contacted (a "no" or a skipped answer gets nothing more: docs/channels.md).
        if not self.message.assisted and report.consent_followup is True:
            fee_question.ask_about_fee(
                self.session, report, channel=self.message.channel, address=self.message.address, language=self.language
            )
        return replace(
            self.reply(texts.DONE, kind="answer", report_id=report.id, code=receipts.display(code)),
            receipt_code=receipts.display(code),
        )

    def _touch(self, conversation: Conversation) -> None:
        conversation.updated_at = now()
        conversation.expires_at = conversation.updated_at + timedelta(minutes=self.settings.conversation_idle_minutes)
        conversation.language = self.language
        self.session.add(conversation)
        self.conversation = conversation


@functools.lru_cache(maxsize=32)
def _options(language: str, step: str | None) -> tuple[Option, ...]:
    """Answers a button channel can offer for the question being asked (immutable: built once)."""
    if step == "category":
        return tuple(Option(str(i + 1), gettext(language, label)) for i, label in enumerate(_CATEGORY_LABELS))
    if step == "consent":
        return (Option("YES", gettext(language, N_("Yes"))), Option("NO", gettext(language, N_("No"))))
    return ()


def expire_conversations(session: Session) -> int:
    """Delete idle conversations (their reports stay). Returns how many."""
    result = session.exec(delete(Conversation).where(col(Conversation.expires_at) <= now()))
    return int(result.rowcount or 0)


def end_conversation(session: Session, *, channel: str, address: str) -> int | None:
    """End the sender's open conversation (a channel's "cancel"); the report keeps what was given.

    Returns the report id of the conversation that ended, or None when none was open.
    """
    reporter = session.exec(select(Reporter).where(Reporter.pseudonym == pseudonym(channel, address))).first()
    if reporter is None:
        return None
    conversation = session.exec(select(Conversation).where(Conversation.reporter_id == reporter.id)).first()
    if conversation is None:
        return None
    report_id = conversation.report_id
    session.delete(conversation)
    session.flush()
    return report_id
