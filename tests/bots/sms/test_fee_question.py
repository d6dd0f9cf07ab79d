"""The fee question over SMS (real HTTP, real Twilio signatures): after the dialogue of a report about
fees or money, the reporter is asked to confirm the amount read from their words, or how much."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.intake.questions import PendingQuestion
from service.outbox.models import OutboundMessage
from service.reports.models import Report, ReportEvent
from tests.escalation.factories import text_of
from tests.support.twilio_fake import Phone


def _report(engine) -> Report:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(Report).order_by(col(Report.id).desc())).first()  # type: ignore[return-value]


def _questions(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return [text_of(m) for m in s.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()]


def test_the_amount_read_is_confirmed_by_the_reporter(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("The nurse asked me for 20,000 riel before giving my ARV")
    phone.text("3")  # fees or money
    phone.text("0")
    done = phone.text("YES")  # they may be contacted: the fee question is a message of its own
    assert "receipt code" in done, "the dialogue itself is unchanged"
    assert _questions(engine) == ["You mentioned paying 20,000 riel. Is that right? Reply 1 Yes or 2 No. 0 to skip."]
    report = _report(engine)
    assert (report.fee_cents, report.fee_currency, report.fee_source) == (2_000_000, "KHR", "extracted")
    assert report.fee_reasons[0]["words"] == ["20,000", "riel"]  # type: ignore[index]
    assert phone.text("1") == "Thank you. We noted 20,000 riel."
    report = _report(engine)
    assert (report.fee_cents, report.fee_currency, report.fee_source) == (2_000_000, "KHR", "reporter")
    # Answered: a later "1" is a new report, not a second answer.
    phone.text("1")
    with Session(engine) as s:
        assert len(s.exec(select(Report)).all()) == 2
        assert s.exec(select(PendingQuestion)).one().answered_at is not None


def test_no_then_the_real_amount(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("The guard took 5000 riel from me at the TB ward")
    for answer in ("3", "0", "YES"):
        phone.text(answer)
    assert phone.text("2") == ("How much were you asked to pay? Write the amount and currency, for example "
                               "20000 riel. 0 to skip.")
    report = _report(engine)
    assert report.fee_cents is None and report.fee_source == "reporter", "the amount read was wrong"
    assert phone.text("10000 riel") == "Thank you. We noted 10,000 riel."
    report = _report(engine)
    assert (report.fee_cents, report.fee_currency, report.fee_source) == (1_000_000, "KHR", "reporter")
    with Session(engine) as s:
        fees = [e.detail for e in s.exec(select(ReportEvent).where(ReportEvent.kind == "fee")).all()]
    assert [f["to"]["source"] for f in fees] == ["extracted", "reporter", "reporter"]


def test_how_much_in_khmer_with_a_bare_number(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("បុគ្គលិកសុំលុយខ្ញុំ មុនពេលឱ្យថ្នាំ")  # asked for money, no amount
    for answer in ("3", "0", "បាទ"):
        phone.text(answer)
    (question,) = _questions(engine)
    assert "ប៉ុន្មាន" in question, question
    assert _report(engine).fee_cents is None
    thanks = phone.text("ម្ភៃពាន់")  # twenty thousand: riel, the Khmer reporter's currency
    assert "20,000 រៀល" in thanks
    report = _report(engine)
    assert (report.fee_cents, report.fee_currency, report.fee_source) == (2_000_000, "KHR", "reporter")


def test_portuguese_skip_and_other_categories_are_not_asked(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.number = "+258841234599"
    phone.text("Pediram 300 MT no centro de saude para a consulta")
    for answer in ("3", "0", "SIM"):
        phone.text(answer)
    (question,) = _questions(engine)
    assert question == "Disse que pagou 300 meticais. Esta certo? Responda 1 Sim ou 2 Nao. 0 para passar."
    assert phone.text("0") == "Obrigado. Nao voltaremos a perguntar o valor."
    report = _report(engine)
    assert (report.fee_cents, report.fee_currency, report.fee_source) == (30_000, "MZN", "extracted")
    # Stigma, with an amount in the words: no question, no amount stored.
    phone.number = "+258841234598"
    phone.text("A enfermeira gritou comigo por causa do HIV e pediu 100 meticais")
    for answer in ("2", "0", "SIM"):
        phone.text(answer)
    assert len(_questions(engine)) == 1
    assert _report(engine).fee_cents is None


def test_a_message_that_is_not_an_answer_is_a_new_report(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("They asked me to pay $5 for the blood test")
    for answer in ("3", "0", "YES"):
        phone.text(answer)
    reply = phone.text("Also the clinic was closed all week")
    assert "What is it about" in reply
    with Session(engine) as s:
        assert len(s.exec(select(Report)).all()) == 2
        assert s.exec(select(PendingQuestion)).one().answered_at is None, "still waiting for an answer"


def test_withdrawal_erases_the_words_the_amount_was_read_from(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("They asked me to pay 30000 riel for the test")
    for answer in ("3", "0"):
        phone.text(answer)
    code = phone.text("YES").split("receipt code is ")[1].split(".")[0]
    assert _report(engine).fee_reasons
    assert "withdrawn" in phone.text(f"DELETE {code}")
    report = _report(engine)
    assert report.fee_reasons is None and report.narrative_masked == ""
    assert phone.text("1") and len(_questions(engine)) == 1, "the question of a withdrawn report is no more"


def test_a_reporter_who_said_no_to_being_contacted_is_not_asked(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    """"May we contact you later?" NO (or skipped): no further message, not even the fee question, which
    could reach the phone hours later in an outage, in someone else's hands (triage still reads the amount)."""
    phone.text("The nurse asked me for 20,000 riel before giving my ARV")
    for answer in ("3", "0", "NO"):
        phone.text(answer)
    phone.number = "+85512777001"
    phone.text("They asked me to pay $5 for the blood test")
    for answer in ("3", "0", "0"):  # the consent question skipped
        phone.text(answer)
    assert _questions(engine) == []
    with Session(engine) as s:
        assert s.exec(select(PendingQuestion)).all() == []
        assert len(s.exec(select(Report)).all()) == 2
