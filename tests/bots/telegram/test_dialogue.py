"""A whole report by buttons and one by typing, in English and Khmer, through the real PTB and HTTP."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from service.places.models import Place
from service.reports.models import Report
from service.kit import receipts
from service.reports.service import find_by_code


def receipt(texts: list[str]) -> str:
    for text in reversed(texts):
        found = re.search(r"\b([0-9A-Z]{4}-[0-9A-Z]{4})\b", text)
        if found:
            return found.group(1)
    raise AssertionError("no receipt code sent")


def test_report_by_buttons_in_english(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.send("/start")
    greeting = bot_api.last_sent()
    assert "anonymous" in greeting.params["text"]
    assert tg.buttons(greeting) == ["ខ្មែរ", "English", "Português"]

    tg.send("The nurse at the health centre asked me for 20000 riel before giving my ARV")
    question = bot_api.last_sent()
    assert "What is it about" in question.params["text"]
    assert tg.buttons(question)[:5] == ["Poor service", "Stigma or discrimination", "Fees or money",
                                       "Rights abuse or police", "Other"]
    tg.press("Fees or money")
    edited = bot_api.of("editMessageText")[-1]
    assert "Your answer: Fees or money" in edited.params["text"]
    assert "reply_markup" not in edited.params or not edited.params["reply_markup"]
    assert bot_api.of("answerCallbackQuery")

    place_question = bot_api.last_sent()
    assert "Where did it happen" in place_question.params["text"]
    assert "Battambang" in tg.buttons(place_question)
    tg.press("Battambang")
    districts = tg.buttons(bot_api.of("editMessageText")[-1])
    assert "All of Battambang" in districts and "Back" in districts
    with Session(engine) as s:
        province = s.exec(select(Place).where(Place.code == "KH-2")).one()
        od = s.exec(select(Place).where(Place.parent_id == province.id).order_by(Place.name_en)).first()
        facility = s.exec(select(Place).where(Place.parent_id == od.id).order_by(Place.name_en)).first()
    tg.press(od.name_en)
    tg.press(facility.name_en)
    consent = bot_api.last_sent()
    assert "May we contact you" in consent.params["text"]
    assert tg.buttons(consent) == ["Yes", "No", "Skip"]
    tg.press("No")

    texts = bot_api.sent_texts()
    code = receipt(texts)
    assert "Your receipt code is" in texts[-2]
    assert "delete this conversation" in texts[-1]
    with Session(engine) as s:
        report = find_by_code(s, receipts.parse(code))
        assert report is not None
        assert report.channel == "telegram"
        assert report.category == "financial_hardship"
        assert report.place_id == facility.id
        assert report.consent_followup is False
        assert report.assisted is False
        assert "20000 riel" in report.narrative_masked


def test_report_by_typing_in_khmer(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.language_code = "km"
    tg.send("/start")
    assert "អនាមិក" in bot_api.last_sent().params["text"], "the greeting is in Khmer for a Khmer Telegram"
    tg.send("គិលានុបដ្ឋាយិកាបានសុំលុយ ២០០០០ រៀល មុនពេលឱ្យថ្នាំ ARV")
    first = bot_api.last_sent().params["text"]
    assert "1" in first and "What is it about" not in first
    tg.send("៣")  # Khmer digit three: Fees or money
    tg.send("បាត់ដំបង")  # Battambang, typed
    tg.send("ទេ")  # no
    texts = bot_api.sent_texts()
    code = receipt(texts)
    with Session(engine) as s:
        report = find_by_code(s, receipts.parse(code))
        assert report is not None and report.language == "km"
        assert report.category == "financial_hardship"
        province = s.exec(select(Place).where(Place.code == "KH-2")).one()
        assert report.place_id == province.id
        assert report.consent_followup is False


def test_typed_answers_work_beside_buttons_in_english(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.send("They shouted at me because I am trans")
    tg.send("2")
    tg.send("0")  # skip the place
    tg.press("Yes")
    code = receipt(bot_api.sent_texts())
    with Session(engine) as s:
        report = find_by_code(s, receipts.parse(code))
        assert report.category == "stigma_discrimination" and report.place_id is None
        assert report.consent_followup is True


def test_khmer_buttons_and_language_switch(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.send("No condoms at the clinic for a month")
    tg.send("/language")
    tg.press("ខ្មែរ")
    question = bot_api.last_sent()
    assert "What is it about" not in question.params["text"], "the question is asked again in Khmer"
    labels = tg.buttons(question)
    assert labels[0] == "សេវាមិនល្អ" and labels[-1] == "រំលង"
    tg.press(labels[0])  # first category, in Khmer
    tg.press(tg.buttons(bot_api.last_sent())[-1])  # skip the place (last button)
    tg.press(tg.buttons(bot_api.last_sent())[0])  # yes
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.category == "service_quality" and report.consent_followup is True


def test_old_buttons_do_not_answer_a_later_question(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.send("Clinic closed all week")
    category_question = bot_api.last_sent()
    tg.press("Poor service")
    tg.press("Other", message=category_question)  # an old keyboard, pressed again
    answers = bot_api.of("answerCallbackQuery")
    assert answers[-1].params.get("text") == "This question was already answered."
    with Session(engine) as s:
        assert s.exec(select(Report)).one().category == "service_quality"
