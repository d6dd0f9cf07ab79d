"""The reporter's language: Portuguese beside Khmer and English, and kept with the reporter.

Real HTTP, real Twilio signatures. A reporter is answered in the language stored with
their pseudonym (set by their first report or by a language keyword), whatever script
a later keyword, code or menu number is typed in; only KH, EN or PT changes it.
"""

from __future__ import annotations

import re

from sqlmodel import Session, select

from service.escalation import reporter_updates
from service.reports.models import Report, Reporter
from tests.support.twilio_fake import Phone

CODE = re.compile(r"([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})")
KHMER = re.compile("[\u1780-\u17ff]")
PORTUGUESE_REPORT = ("O enfermeiro no centro de saude de Xai-Xai disse que eu tenho de pagar 500 meticais "
                     "para receber os medicamentos da tuberculose")


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no receipt code in reply: {text!r}"
    return match.group(1)


def khmer(text: str) -> bool:
    return KHMER.search(text) is not None


def whole_report(phone: Phone, first: str, answers: tuple[str, str, str]) -> tuple[list[str], str]:
    replies = [phone.text(first)] + [phone.text(a) for a in answers]
    return replies, code_in(replies[-1])


def test_portuguese_report_is_answered_in_portuguese(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.number = "+258841234567"
    replies, code = whole_report(phone, PORTUGUESE_REPORT, ("3", "Xai-Xai", "SIM"))
    assert "De que se trata" in replies[0] and "Mau atendimento" in replies[0]
    assert "Onde aconteceu" in replies[1]
    assert "Podemos falar consigo" in replies[2]
    assert f"ESTADO {code}" in replies[3] and f"APAGAR {code}" in replies[3]
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.language == "pt"
        assert report.category == "financial_hardship" and report.consent_followup is True
        assert s.get(Reporter, report.reporter_id).language == "pt"  # type: ignore[union-attr]


def test_portuguese_keywords(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.number = "+258841234568"
    _, code = whole_report(phone, PORTUGUESE_REPORT, ("0", "0", "NAO"))
    assert "Queixa " + code in phone.text(f"ESTADO {code}")
    assert "Queixa " + code in phone.text(f"estado {code.lower()}")
    assert "PARAR" in phone.text("AJUDA")
    assert "PARAR" in phone.text("ajuda")
    assert "Envie ESTADO e o seu codigo" in phone.text("ESTADO")
    assert "foi retirada" in phone.text(f"APAGAR {code}")
    assert "ja tinha sido retirada" in phone.text(f"apagar {code}")
    assert "Nao vai receber mais mensagens" in phone.text("PARAR")
    with Session(engine) as s:
        reporter = s.exec(select(Reporter)).one()
        assert reporter.opted_out_at is not None
    assert "Pode voltar a receber" in phone.text("COMEÇAR")
    with Session(engine) as s:
        assert s.exec(select(Reporter)).one().opted_out_at is None


def test_a_new_sender_typing_a_portuguese_keyword_is_answered_in_portuguese(phone: Phone) -> None:  # type: ignore[no-untyped-def]
    phone.number = "+258841234569"
    assert "Envie APAGAR" in phone.text("APAGAR")
    assert "Nenhuma queixa tem o codigo" in phone.text("ESTADO 7K3M-9QXZ")


def test_a_new_sender_typing_a_khmer_keyword_is_answered_in_khmer(phone: Phone) -> None:  # type: ignore[no-untyped-def]
    assert khmer(phone.text("ស្ថានភាព 7K3M-9QXZ"))


def test_an_english_reporter_keeps_english_whatever_the_keyword(phone: Phone) -> None:  # type: ignore[no-untyped-def]
    _, code = whole_report(phone, "The nurse asked me for money for my ARV", ("3", "0", "0"))
    assert phone.text(f"ស្ថានភាព {code}").startswith(f"Report {code}:")
    assert phone.text(f"ESTADO {code}").startswith(f"Report {code}:")


def test_a_message_starting_with_a_keyword_word_is_still_a_report(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.number = "+258841234572"
    first = phone.text("Estado do centro de saude muito mau, ninguem atende os doentes de TB")
    assert "De que se trata" in first
    with Session(engine) as s:
        assert len(s.exec(select(Report)).all()) == 1


def test_portuguese_on_whatsapp(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.channel_prefix, phone.number = "whatsapp:", "+258841234570"
    replies, code = whole_report(phone, PORTUGUESE_REPORT, ("2", "0", "nao"))
    assert "De que se trata" in replies[0] and f"ESTADO {code}" in replies[-1]
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.channel == "whatsapp" and report.language == "pt"


def test_khmer_reporter_typing_latin_keywords_and_numbers_gets_khmer(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    replies, code = whole_report(phone, "ពេទ្យនៅមណ្ឌលសុខភាពសុំលុយខ្ញុំ", ("3", "0", "YES"))
    assert all(khmer(r) for r in replies), "menu numbers and YES typed in Latin letters keep Khmer"
    status = phone.text(f"STATUS {code}")
    assert code in status and khmer(status), "STATUS <code> in Latin letters, as the Khmer text says: Khmer"
    assert khmer(phone.text("HELP"))
    assert khmer(phone.text("STATUS"))

    # The case is closed: the satisfaction question and the answer "1" are in Khmer.
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        report.status = "closed"
        assert reporter_updates.announce(s, report, "closed")
        s.commit()
    thanks = phone.text("1")
    assert khmer(thanks)
    with Session(engine) as s:
        assert s.exec(select(Report)).one().satisfaction == "yes"


def test_only_a_switch_keyword_changes_the_kept_language(phone: Phone) -> None:  # type: ignore[no-untyped-def]
    _, code = whole_report(phone, "ពេទ្យនៅមណ្ឌលសុខភាពស្រែកដាក់ខ្ញុំ", ("2", "0", "0"))
    assert phone.text("EN") == "OK, we will write in English."
    assert phone.text(f"STATUS {code}").startswith(f"Report {code}:")
    assert phone.text("PT") == "OK, vamos escrever em portugues."
    assert phone.text(f"STATUS {code}").startswith(f"Queixa {code}:")
    assert phone.text("ajuda").startswith("Samleng: queixas")
    assert khmer(phone.text("KH"))
    assert khmer(phone.text(f"ESTADO {code}")), "a Portuguese keyword does not switch a Khmer reporter"


def test_portuguese_reporter_answering_in_english_words_stays_portuguese(phone: Phone) -> None:  # type: ignore[no-untyped-def]
    phone.number = "+258841234571"
    _, code = whole_report(phone, PORTUGUESE_REPORT, ("1", "0", "YES"))
    assert phone.text(f"STATUS {code}").startswith(f"Queixa {code}:")
    assert phone.text("HELP").startswith("Samleng: queixas")


def test_portuguese_reporter_gets_updates_and_the_satisfaction_question_in_portuguese(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    from service.outbox.models import OutboundMessage
    from tests.escalation.factories import text_of

    phone.number = "+258841234573"
    whole_report(phone, PORTUGUESE_REPORT, ("3", "0", "SIM"))
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        report.status = "closed"
        assert reporter_updates.announce(s, report, "closed")
        s.commit()
        # The fee question (500 meticais, a report about fees) went first; then the update.
        fee_question, update = s.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()  # type: ignore[arg-type]
        assert text_of(fee_question).startswith("Disse que pagou 500 meticais.")
        assert "foi fechada. O problema foi resolvido? Responda 1 sim, 2 nao, 3 em parte" in text_of(update)
    assert phone.text("em parte") == "Obrigado. Vamos usar a sua resposta para acompanhar o caso."
    with Session(engine) as s:
        assert s.exec(select(Report)).one().satisfaction == "partly"
