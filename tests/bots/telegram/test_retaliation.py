"""The retaliation watch on Telegram, through the real webhook and python-telegram-bot against the fake
Bot API: the check-in goes out by the worker's Telegram driver, the typed "2" opens the urgent linked
case and the bot answers with the acknowledgement."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from service.escalation import service as esc
from service.flows.routing import route_report
from service.orgs.models import Organisation
from service.reports.models import Report
from service.retaliation.models import RetaliationCheckin
from service.worker import Worker
from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)


def test_a_checkin_by_telegram_and_the_answer_2_open_an_urgent_case(  # type: ignore[no-untyped-def]
        seeded, controlled_clock, tg, bot_api, engine, settings) -> None:
    tg.send("The police came to the drop-in centre and took our condoms, retaliation-tg")
    tg.press("Rights abuse or police")
    tg.send("Chrey")
    tg.press("Yes")
    with Session(engine) as s:
        report = s.exec(select(Report).where(Report.narrative_masked.contains("retaliation-tg"))).one()  # type: ignore[attr-defined]
        route_report(s, report)
        esc.escalate(s, report, actor="handler@legalaid.demo")
        s.commit()
        first_id = report.id
    worker = Worker(engine, settings)
    assert worker.run("retaliation")["retaliation_scheduled"] == 2
    controlled_clock.advance(timedelta(days=7, hours=1))
    assert worker.run("retaliation")["retaliation_sent"] == 1
    before = len(bot_api.of("sendMessage"))
    worker.run("deliver")
    sent = [c for c in bot_api.of("sendMessage")[before:] if int(c.params["chat_id"]) == tg.user_id]
    assert any("has anyone treated you worse" in str(c.params["text"]) for c in sent), [c.params for c in sent]

    before = len(bot_api.of("sendMessage"))
    tg.send("2")
    answers = [str(c.params["text"]) for c in bot_api.of("sendMessage")[before:]]
    assert any(text.startswith("Thank you for telling us. We opened an urgent case") for text in answers), answers
    with Session(engine) as s:
        checkin = s.exec(select(RetaliationCheckin).where(RetaliationCheckin.report_id == first_id,
                                                          RetaliationCheckin.day == 7)).one()
        assert checkin.answer == "yes" and checkin.followup_report_id is not None
        case = s.get(Report, checkin.followup_report_id)
        legal = s.exec(select(Organisation).where(Organisation.slug == "legal-aid-demo")).one()
        assert case is not None and case.urgency == "urgent" and case.channel == "telegram"
        assert case.org_id == legal.id
