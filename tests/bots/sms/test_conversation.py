"""Whole SMS conversations through real HTTP with real Twilio signatures."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, select

from service.triage.tasks import FullTriage
from service.inbox.models import InboundMessage
from service.intake.models import ContactVault, Conversation
from service.kit import receipts
from service.kit.crypto import receipt_hash, unseal
from service.places.models import Place
from service.reports.models import Report
from tests.support.twilio_fake import Phone

CODE = re.compile(r"([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})")


def all_reports(engine) -> list[Report]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(Report).order_by(Report.id)).all())


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no receipt code in reply: {text!r}"
    return match.group(1)


def test_english_conversation_ends_with_receipt_code(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    first = phone.text("The health centre had no ARV for two weeks and the nurse asked me for 5000 riel")
    assert "saved" in first and "1" in first
    assert len(all_reports(engine)) == 1, "the first message is a report at once"
    assert "Where" in phone.text("3")
    assert "contact" in phone.text("Chrey health centre")
    final = phone.text("no")
    code = code_in(final)
    assert f"STATUS {code}" in final
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.category == "financial_hardship" and report.category_source == "reporter"
        place = s.get(Place, report.place_id)
        assert place is not None and place.code == "KH-2-OD-THMORKOUL-HC-CHREY"
        assert report.consent_followup is False
        assert report.language == "en"
        assert report.receipt_hash == receipt_hash(receipts.parse(code))  # type: ignore[arg-type]
        assert "5000 riel" in report.narrative_masked
        assert unseal(report.narrative_sealed).startswith("The health centre had no ARV")  # type: ignore[arg-type]
        assert s.exec(select(Conversation)).first() is None
        assert s.exec(select(ContactVault)).first() is None
        assert len(s.exec(select(InboundMessage)).all()) == 4


def test_khmer_conversation_in_khmer_with_consent(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    first = phone.text("ពេទ្យនៅមណ្ឌលសុខភាពស្រែកដាក់ខ្ញុំ ព្រោះខ្ញុំជាអ្នកប្លែងភេទ")
    assert any("\u1780" <= ch <= "\u17ff" for ch in first), "a Khmer message gets a Khmer reply"
    second = phone.text("២")  # Khmer digit two
    third = phone.text("បាត់ដំបង")
    assert second != third
    final = phone.text("បាទ")
    code = code_in(final)
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.category == "stigma_discrimination"
        assert report.language == "km"
        assert s.get(Place, report.place_id).code == "KH-2"  # type: ignore[union-attr]
        assert report.consent_followup is True
        vault = s.exec(select(ContactVault)).one()
        assert vault.report_id == report.id
        assert unseal(vault.address_sealed) == phone.number
        assert report.receipt_hash == receipt_hash(receipts.parse(code))  # type: ignore[arg-type]


def test_skip_everything_still_gives_a_receipt(phone: Phone, engine, settings) -> None:  # type: ignore[no-untyped-def]
    phone.text("They turned me away at the clinic")
    phone.text("0")
    phone.text("SKIP")
    final = phone.text("0")
    code_in(final)
    (report,) = all_reports(engine)
    assert report.place_id is None and report.consent_followup is None
    assert report.category is None and report.status == "received"
    # Skipped by the reporter, the category is triage's own reading (the worker's next pass).
    assert FullTriage(engine).run() == 1
    (report,) = all_reports(engine)
    assert report.category_source == "triage" and report.category is not None and report.status == "triaged"


def test_khmer_skip_word_is_accepted(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("គ្មានថ្នាំ")
    phone.text("រំលង")
    phone.text("រំលង")
    code_in(phone.text("រំលង"))


def test_half_finished_conversation_keeps_the_report_and_expires(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("Police beat my friend at the drop-in centre")
    phone.text("4")
    (report,) = all_reports(engine)
    assert report.category == "human_rights_violation" and report.category_source == "reporter"
    # The person goes silent; the idle conversation expires.
    with Session(engine) as s:
        conversation = s.exec(select(Conversation)).one()
        conversation.expires_at = conversation.expires_at - timedelta(days=1)  # type: ignore[operator]
        s.add(conversation)
        s.commit()
    reply = phone.text("Another problem: no methadone today")
    assert "saved" in reply
    reports = all_reports(engine)
    assert len(reports) == 2, "after expiry a new message is a new report"
    assert reports[0].category == "human_rights_violation"
    assert reports[1].narrative_masked == "Another problem: no methadone today"


def test_free_text_instead_of_a_number_is_kept_and_asked_once_more(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("No test kits")
    again = phone.text("and the lab was closed all week")
    assert "1 to 5" in again
    where = phone.text("also they were rude")
    assert "Where" in where, "a second non-answer moves on rather than looping"
    (report,) = all_reports(engine)
    # Not a menu answer: triage reads the whole story (stock-out, closed lab) and names the category.
    assert report.category_source == "triage" and report.category == "service_quality"
    assert report.narrative_masked == "No test kits\nand the lab was closed all week\nalso they were rude"


def test_unknown_place_is_kept_as_masked_text(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("Long waits")
    phone.text("1")
    phone.text("the clinic behind the pagoda, call 012 345 678")
    (report,) = all_reports(engine)
    assert report.place_id is None
    assert report.place_text_masked is not None and "[phone]" in report.place_text_masked
    assert "345" not in report.place_text_masked


def test_language_switch_repeats_the_question(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("No condoms at the health centre")
    khmer = phone.text("KH")
    assert any("\u1780" <= ch <= "\u17ff" for ch in khmer)
    assert "1" in khmer and "5" in khmer, "the category question again, in Khmer"
    english = phone.text("EN")
    assert "What is it about" in english
    assert len(all_reports(engine)) == 1


def test_whatsapp_messages_are_recorded_as_whatsapp(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.channel_prefix = "whatsapp:"
    phone.text("The doctor told my family my HIV status")
    (report,) = all_reports(engine)
    assert report.channel == "whatsapp"
    with Session(engine) as s:
        assert s.exec(select(InboundMessage)).one().channel == "whatsapp"


def test_reports_over_the_hourly_limit_are_deferred_not_dropped(phone: Phone, engine, settings) -> None:  # type: ignore[no-untyped-def]
    for i in range(settings.reports_per_hour):
        phone.text(f"report number {i}")
        phone.text("0")
        phone.text("0")
        phone.text("0")
    reply = phone.text("one more report")
    assert "later" in reply
    code_in(reply)
    reports = all_reports(engine)
    assert len(reports) == settings.reports_per_hour + 1
    assert reports[-1].deferred_until is not None
    assert all(r.deferred_until is None for r in reports[:-1])


def test_an_urgent_report_over_the_hourly_limit_is_not_held_back(phone: Phone, engine, settings) -> None:  # type: ignore[no-untyped-def]
    for i in range(settings.reports_per_hour):
        phone.text(f"report number {i}")
        phone.text("0")
        phone.text("0")
        phone.text("0")
    reply = phone.text("The police are beating my friend right now outside the drop-in centre, help")
    assert "later" not in reply
    urgent = all_reports(engine)[-1]
    assert urgent.deferred_until is None
    assert urgent.urgency == "urgent" and urgent.status == "triaged"  # triaged at once, not by the worker
