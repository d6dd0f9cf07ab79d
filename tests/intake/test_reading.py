"""A message's text is read once (masked, keyword, language), before the writer where the SMS
webhook can; a reading that is not of the message's own text is never used."""

from __future__ import annotations

from sqlmodel import Session, select

from service.inbox.models import InboundMessage as InboundRow
from service.intake.reading import read
from service.intake.schemas import InboundMessage
from service.intake.service import receive
from service.reports.models import Report, Reporter


def test_a_reading_of_another_text_is_not_used(engine, settings, places) -> None:  # type: ignore[no-untyped-def]
    stale = read("HELP").complete()  # a keyword, had it been this message's reading
    story = "The clinic asked me for 20000 riel, call me on 012 345 678"
    with Session(engine) as s:
        reply = receive(s, InboundMessage(channel="sms", external_id="SMreading0001", address="+85512000111",
                                          text=story, reading=stale), settings=settings)
        s.commit()
    assert reply.kind == "report", "the message's own text decides: a report, not the HELP answer"
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        row = s.exec(select(InboundRow)).one()
    assert "345 678" not in (report.narrative_masked or "") and "345 678" not in (row.body_masked or "")
    assert report.language == "en"


def test_the_webhooks_reading_is_the_one_the_dialogue_uses(engine, settings, places) -> None:  # type: ignore[no-untyped-def]
    text = "Muito obrigado, mas a enfermeira pediu dinheiro"
    reading = read(text).complete()
    with Session(engine) as s:
        receive(s, InboundMessage(channel="sms", external_id="SMreading0002", address="+85512000112",
                                  text=text, reading=reading), settings=settings)
        s.commit()
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        reporter = s.exec(select(Reporter)).one()
    assert report.narrative_masked == reading.masked
    assert report.language == reporter.language == reading.evident_language == "pt"


def test_a_returning_reporters_kept_language_spares_the_language_reading(engine, settings, places) -> None:  # type: ignore[no-untyped-def]
    address = "+85512000113"
    with Session(engine) as s:
        receive(s, InboundMessage(channel="sms", external_id="SMreading0003", address=address,
                                  text="The nurse shouted at me"), settings=settings)
        s.commit()
    later = read("1")  # the answer to the category question
    with Session(engine) as s:
        reply = receive(s, InboundMessage(channel="sms", external_id="SMreading0004", address=address,
                                          text="1", reading=later), settings=settings)
        s.commit()
    assert reply.language == "en"
    assert "evident_language" not in vars(later), "the kept language answered; the text was not read for one"
