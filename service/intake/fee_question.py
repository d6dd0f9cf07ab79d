"""The fee question: on a report about fees or money, once the dialogue is over, the reporter is asked
about the amount in a message of its own (service/intake/questions.py, like "was it resolved?").

* An amount was read from the text (service/triage/amounts.py): "You mentioned paying 20,000 riel.
  Is that right? 1 Yes 2 No". 1 (or yes) confirms it; 2 (or no) clears it and asks "how much?";
  an amount in the answer ("no, 30000 riel") replaces it.
* None was read: "How much were you asked to pay?". An amount answers it; in Khmer and Portuguese a
  bare number is in riel or meticais.

0 (or SKIP) leaves the amount as it is. Any other message is not an answer: it is a new report.
The question goes out through the outbox (the address sealed until delivered, as every reply the
worker sends); the answer is the reporter's (`report.fee_source` "reporter"), which triage never
overwrites; a handler's correction wins over both. docs/channels.md, "The amount of a fee".
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from service.intake import keywords, texts
from service.intake.questions import PendingQuestion, ask
from service.intake.schemas import Reply
from service.kit.clock import now
from service.kit.crypto import unseal
from service.kit.i18n import gettext
from service.kit.models import require_id
from service.outbox.service import enqueue_message
from service.reports import fees
from service.reports.models import Report
from service.triage import amounts
from service.triage.service import FEE_CATEGORY, suggest_fee

KINDS = ("fee_confirm", "fee_amount")
ASKED_FOR = timedelta(days=3)  # an answer after this is read as a new report
# A bare number answering "how much?" is in the currency of the reporter's language; in English the
# reporter writes the currency (riel, rand, $...), or the answer is not read as one.
ANSWER_CURRENCY = {"km": "KHR", "pt": "MZN"}


def ask_about_fee(session: Session, report: Report, *, channel: str, address: str, language: str) -> str | None:
    """Queue the fee question for a report about fees or money whose amount nobody has confirmed.
    Returns the kind asked, or None."""
    if report.category != FEE_CATEGORY or report.reporter_id is None or report.fee_source in ("reporter", "handler"):
        return None
    if report.fee_cents is None and report.narrative_sealed is not None:
        suggest_fee(session, report, unseal(report.narrative_sealed))
    kind = "fee_confirm" if report.fee_cents is not None else "fee_amount"
    ask(
        session,
        reporter_id=report.reporter_id,
        report_id=require_id(report),
        kind=kind,
        language=language,
        ttl=ASKED_FOR,
    )
    row = enqueue_message(
        session,
        channel=channel,
        to=address,
        body=question_text(report, kind, language),
        reporter_id=report.reporter_id,
        report_id=report.id,
    )
    row.dedupe_key = f"fee-question-{report.id}-{kind}"
    return kind


def question_text(report: Report, kind: str, language: str) -> str:
    if kind == "fee_confirm" and report.fee_cents is not None:
        return gettext(
            language, texts.ASK_FEE_CONFIRM, amount=fees.display(report.fee_cents, report.fee_currency, language)
        )
    return gettext(language, texts.ASK_FEE_AMOUNT)


def _reply(msgid: str, language: str, report: Report, **params: object) -> Reply:
    return Reply(text=gettext(language, msgid, **params), language=language, kind="fee", report_id=report.id)


def _answered(session: Session, question: PendingQuestion) -> None:
    question.answered_at = now()
    session.add(question)


def _noted(
    session: Session, question: PendingQuestion, report: Report, amount: amounts.Amount | None, language: str
) -> Reply:
    fees.set_fee(
        session,
        report,
        cents=amount.cents if amount else report.fee_cents,
        currency=amount.currency if amount else report.fee_currency,
        source="reporter",
        actor="reporter",
    )
    _answered(session, question)
    return _reply(
        texts.FEE_NOTED, language, report, amount=fees.display(report.fee_cents, report.fee_currency, language)
    )


def _report(session: Session, question: PendingQuestion) -> Report | None:
    report = session.get(Report, question.report_id)
    if report is None or report.status == "withdrawn" or report.fee_source == "handler":
        _answered(session, question)  # nothing left to ask about
        return None
    return report


def answer_fee_confirm(session: Session, question: PendingQuestion, text: str, language: str) -> Reply | None:
    """The intake hook for "you mentioned paying X: is that right?"."""
    answer = keywords.normalise(text)
    language = language or question.language
    skip, yes, no = (
        keywords.is_skip(answer),
        answer == "1" or keywords.is_yes(answer),
        answer == "2" or keywords.is_no(answer),
    )
    given = None if (skip or yes or no) else amounts.parse_answer(text, _currency_of(session, question))
    if not (skip or yes or no or given):
        return None  # not an answer: a new report
    report = _report(session, question)
    if report is None:
        return None
    if skip:
        _answered(session, question)
        return _reply(texts.FEE_SKIPPED, language, report)
    if yes or given:
        return _noted(session, question, report, given, language)
    # Not that amount: cleared (the reporter said so), and "how much?" asked at once.
    fees.set_fee(session, report, cents=None, currency=None, source="reporter", actor="reporter")
    _answered(session, question)
    ask(
        session,
        reporter_id=question.reporter_id,
        report_id=require_id(report),
        kind="fee_amount",
        language=language,
        ttl=ASKED_FOR,
    )
    return Reply(text=gettext(language, texts.ASK_FEE_AMOUNT), language=language, kind="fee", report_id=report.id)


def answer_fee_amount(session: Session, question: PendingQuestion, text: str, language: str) -> Reply | None:
    """The intake hook for "how much were you asked to pay?"."""
    language = language or question.language
    skip = keywords.is_skip(text)
    given = None if skip else amounts.parse_answer(text, ANSWER_CURRENCY.get(language))
    if not skip and given is None:
        return None  # not an amount: a new report
    report = _report(session, question)
    if report is None:
        return None
    if skip:
        _answered(session, question)
        return _reply(texts.FEE_SKIPPED, language, report)
    return _noted(session, question, report, given, language)


def _currency_of(session: Session, question: PendingQuestion) -> str | None:
    report = session.get(Report, question.report_id)
    return report.fee_currency if report is not None else None
