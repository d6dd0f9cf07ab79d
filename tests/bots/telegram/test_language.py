"""Portuguese on Telegram, and the reporter's kept language, through the real PTB and HTTP."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from service.reports.models import Report, Reporter
from tests.bots.telegram.test_dialogue import receipt

KHMER = re.compile("[\u1780-\u17ff]")


def khmer(text: str) -> bool:
    return KHMER.search(text) is not None


def test_portuguese_telegram_is_greeted_and_answered_in_portuguese(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.language_code = "pt-BR"
    tg.send("/start")
    greeting = bot_api.last_sent()
    assert "anónimo" in greeting.params["text"], "a Portuguese Telegram is greeted in Portuguese"
    assert tg.buttons(greeting) == ["ខ្មែរ", "English", "Português"]
    tg.send("Fui ao hospital e a enfermeira disse que nao ha medicamentos da TB ha duas semanas")
    question = bot_api.last_sent()
    assert "De que se trata" in question.params["text"]
    assert tg.buttons(question)[:2] == ["Mau atendimento", "Estigma ou discriminação"]
    assert tg.buttons(question)[-1] == "Passar"
    tg.press("Mau atendimento")
    assert "A sua resposta: Mau atendimento" in bot_api.of("editMessageText")[-1].params["text"]
    tg.press("Passar")
    consent = bot_api.last_sent()
    assert "Podemos falar consigo" in consent.params["text"]
    assert tg.buttons(consent) == ["Sim", "Não", "Passar"]
    tg.press("Não")
    texts = bot_api.sent_texts()
    code = receipt(texts)
    assert f"ESTADO {code}" in texts[-2]
    assert "Quer que apaguemos esta conversa" in texts[-1]
    tg.send(f"/status {code}")
    assert bot_api.last_sent().params["text"].startswith(f"Queixa {code}:")
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.language == "pt" and report.category == "service_quality"
        assert s.exec(select(Reporter)).one().language == "pt"


def test_telegram_client_language_answers_a_text_that_says_nothing(tg, bot_api) -> None:  # type: ignore[no-untyped-def]
    tg.language_code = "pt"
    tg.send("ARV 0")
    assert "De que se trata" in bot_api.last_sent().params["text"]


def test_switching_to_portuguese_by_button(tg, bot_api) -> None:  # type: ignore[no-untyped-def]
    tg.send("No condoms at the clinic for a month")
    tg.send("/language")
    tg.press("Português")
    question = bot_api.last_sent()
    assert "De que se trata" in question.params["text"], "the question is asked again in Portuguese"


def test_khmer_reporter_typing_latin_gets_khmer(tg, bot_api) -> None:  # type: ignore[no-untyped-def]
    tg.language_code = "en"  # an English phone: the kept language still wins
    tg.send("គិលានុបដ្ឋាយិកាបានសុំលុយ ២០០០០ រៀល មុនពេលឱ្យថ្នាំ")
    tg.send("3")
    assert khmer(bot_api.last_sent().params["text"]), "a menu number in Latin digits: Khmer"
    tg.send("0")
    tg.send("NO")
    code = receipt(bot_api.sent_texts())
    tg.send(f"STATUS {code}")
    reply = bot_api.last_sent().params["text"]
    assert code in reply and khmer(reply)
    tg.send(f"/status {code}")
    reply = bot_api.last_sent().params["text"]
    assert code in reply and khmer(reply)
    tg.send("/help")
    assert khmer(bot_api.last_sent().params["text"])
