"""The retaliation watch in the service layer, on both databases: check-ins scheduled at +7 and +30 days
after an escalation that names a facility or an authority, sent by the worker's task through the outbox
once, only to consented reporters; the answer "2" opens an urgent case linked to the first and routed to
the legal-aid organisation, "1" is recorded, anything else is the dialogue as usual."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from service.escalation import service as esc
from service.intake.questions import PendingQuestion, open_question
from service.intake.schemas import InboundMessage
from service.intake.service import receive
from service.intake.vault import contact_for_report
from service.orgs.models import Organisation
from service.outbox.models import OutboundMessage
from service.reports.models import Report, ReportEvent
from service.retaliation import texts
from service.retaliation.models import RetaliationCheckin
from service.routing import service as routing
from service.routing.models import ReportRoute
from service.worker import Worker
from tests.escalation.factories import make_case, outbox, text_of

PHONE = "+85512555111"
CHECKIN_EN = "has anyone treated you worse or threatened you? Reply 1 No, 2 Yes."


@pytest.fixture
def s(session: Session, seeded, controlled_clock) -> Session:  # type: ignore[no-untyped-def]
    return session


def watch(s: Session, engine, settings) -> dict:  # type: ignore[no-untyped-def]
    """The worker's retaliation task (the test's session lets go of the database first: SQLite has one writer)."""
    s.commit()
    return Worker(engine, settings).run("retaliation")


def events(session: Session, report_id: int, kind: str) -> list[ReportEvent]:
    return [e for e in session.exec(select(ReportEvent).where(ReportEvent.report_id == report_id)
                                    .order_by(col(ReportEvent.id))).all() if e.kind == kind]


def checkins(session: Session, report_id: int) -> list[RetaliationCheckin]:
    session.expire_all()
    return list(session.exec(select(RetaliationCheckin).where(RetaliationCheckin.report_id == report_id)
                             .order_by(col(RetaliationCheckin.day))).all())


def questions(session: Session) -> list[OutboundMessage]:
    return [row for row in outbox(session, kind="message") if (row.dedupe_key or "").startswith("retaliation-")]


def escalated_case(s: Session, **kw) -> Report:  # type: ignore[no-untyped-def]
    """A consented reporter's case at Chrey health centre (a facility), escalated to its HCMC."""
    kw.setdefault("address", PHONE)
    report = make_case(s, **kw)
    esc.escalate(s, report, actor="handler@khana.demo")
    s.commit()
    return report


def test_checkins_go_out_at_7_and_30_days_through_the_outbox_once(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = escalated_case(s)
    assert watch(s, engine, settings)["retaliation_scheduled"] == 2
    assert [(c.day, c.status) for c in checkins(s, report.id)] == [(7, "scheduled"), (30, "scheduled")]  # type: ignore[arg-type]
    assert questions(s) == []

    controlled_clock.advance(timedelta(days=6, hours=23))
    assert watch(s, engine, settings)["retaliation_sent"] == 0
    controlled_clock.advance(timedelta(hours=2))
    assert watch(s, engine, settings) == {"retaliation_scheduled": 0, "retaliation_sent": 1, "retaliation_skipped": 0,
                                      "retaliation_undelivered": 0}
    assert watch(s, engine, settings)["retaliation_sent"] == 0, "sent once"
    s.expire_all()
    (first,) = questions(s)
    assert CHECKIN_EN in text_of(first) and first.channel == "sms" and first.report_id == report.id
    assert first.dedupe_key == f"retaliation-{checkins(s, report.id)[0].id}"  # type: ignore[arg-type]
    assert open_question(s, report.reporter_id).kind == "retaliation"  # type: ignore[arg-type,union-attr]
    assert [e.detail["day"] for e in events(s, report.id, "retaliation_checkin")] == [7]  # type: ignore[arg-type]

    controlled_clock.advance(timedelta(days=23))
    assert watch(s, engine, settings)["retaliation_sent"] == 1
    s.expire_all()
    assert len(questions(s)) == 2
    assert [c.status for c in checkins(s, report.id)] == ["sent", "sent"]  # type: ignore[arg-type]
    # Only the newest question stays open: the +7 one (unanswered) was closed.
    open_ones = s.exec(select(PendingQuestion).where(PendingQuestion.kind == "retaliation",
                                                     col(PendingQuestion.expires_at) > controlled_clock.now())).all()
    assert len(open_ones) == 1


def test_the_checkin_is_in_the_reporters_language_and_channel(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = escalated_case(s, language="km")
    from service.reports.models import Reporter
    reporter = s.get(Reporter, report.reporter_id)
    reporter.language = "km"  # type: ignore[union-attr]
    s.add(reporter)
    s.commit()
    watch(s, engine, settings)
    controlled_clock.advance(timedelta(days=7, hours=1))
    watch(s, engine, settings)
    s.expire_all()
    (row,) = questions(s)
    assert "ឆ្លើយ 1 ទេ, 2 មាន" in text_of(row)


def test_no_checkin_without_consent(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = make_case(s)  # no address: the reporter did not agree to be contacted
    esc.escalate(s, report, actor="handler@khana.demo")
    s.commit()
    assert watch(s, engine, settings)["retaliation_scheduled"] == 0
    controlled_clock.advance(timedelta(days=31))
    assert watch(s, engine, settings)["retaliation_sent"] == 0
    assert checkins(s, report.id) == [] and questions(s) == []  # type: ignore[arg-type]


def test_no_checkin_after_withdrawal_or_stop(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    withdrawn = escalated_case(s)
    stopped = escalated_case(s, address="+85512555222")
    assert watch(s, engine, settings)["retaliation_scheduled"] == 4
    from service.intake.withdrawal import withdraw
    withdraw(s, s.get(Report, withdrawn.id))  # type: ignore[arg-type]
    s.commit()
    receive(s, InboundMessage(channel="sms", external_id="SMstop1", address="+85512555222", text="STOP"))
    s.commit()
    controlled_clock.advance(timedelta(days=7, hours=1))
    assert watch(s, engine, settings) == {"retaliation_scheduled": 0, "retaliation_sent": 0, "retaliation_skipped": 2,
                                      "retaliation_undelivered": 0}
    assert [(c.status, c.skip_reason) for c in checkins(s, withdrawn.id)] == [  # type: ignore[arg-type]
        ("skipped", "withdrawn"), ("scheduled", None)]
    assert checkins(s, stopped.id)[0].skip_reason in ("opted_out", "no_contact")  # type: ignore[arg-type]
    assert questions(s) == []


def test_a_case_that_names_no_facility_or_authority_is_not_watched(s, engine, settings) -> None:  # type: ignore[no-untyped-def]
    # A district-wide service problem, sent to the health centre management committee (not a facility).
    report = make_case(s, address=PHONE, place="KH-2-OD-THMORKOUL", population=None)
    esc.escalate(s, report, actor="handler@khana.demo")
    s.commit()
    assert watch(s, engine, settings)["retaliation_scheduled"] == 0
    # A human-rights violation is always watched, wherever it happened.
    rights = make_case(s, address="+85512555333", place="KH-2-OD-THMORKOUL", category="human_rights_violation",
                       population=None)
    esc.escalate(s, rights, actor="handler@legalaid.demo")
    s.commit()
    assert watch(s, engine, settings)["retaliation_scheduled"] == 2


def _sent_checkin(s, engine, settings, controlled_clock, **kw) -> Report:  # type: ignore[no-untyped-def]
    report = escalated_case(s, **kw)
    watch(s, engine, settings)
    controlled_clock.advance(timedelta(days=7, hours=1))
    assert watch(s, engine, settings)["retaliation_sent"] == 1
    return report


def test_yes_opens_an_urgent_case_linked_to_the_first_and_routed_to_legal_aid(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = _sent_checkin(s, engine, settings, controlled_clock)
    khana = s.exec(select(Organisation).where(Organisation.slug == "khana-demo")).one()
    assert s.get(Report, report.id).org_id == khana.id  # type: ignore[union-attr]

    reply = receive(s, InboundMessage(channel="sms", external_id="SMyes", address=PHONE, text="2"))
    s.commit()
    assert reply.kind == "retaliation" and reply.text.startswith("Thank you for telling us. We opened an urgent case")
    assert reply.receipt_code and reply.receipt_code in reply.text
    case = s.get(Report, reply.report_id)
    assert case is not None and case.id != report.id
    legal = s.exec(select(Organisation).where(Organisation.slug == "legal-aid-demo")).one()
    assert (case.urgency, case.category, case.org_id, case.status) == ("urgent", "human_rights_violation", legal.id,
                                                                      "triaged")
    assert case.place_id == report.place_id and case.reporter_id == report.reporter_id
    assert str(report.id) in case.narrative_masked
    route = s.exec(select(ReportRoute).where(ReportRoute.report_id == case.id)).one()
    assert routing.current_rule(s, "retaliation").id == route.rule_id  # type: ignore[union-attr]
    # Linked both ways, on both timelines.
    (answer,) = events(s, report.id, "retaliation_answer")  # type: ignore[arg-type]
    assert answer.detail == {"answer": "yes", "day": 7, "case": case.id} and answer.actor == "reporter"
    (link,) = events(s, case.id, "retaliation_of")  # type: ignore[arg-type]
    assert link.detail["case"] == report.id
    (checkin, _) = checkins(s, report.id)  # type: ignore[arg-type]
    assert (checkin.status, checkin.answer, checkin.followup_report_id) == ("answered", "yes", case.id)
    # The handler can reach the reporter about the new case, as about the first.
    assert contact_for_report(s, case.id) == ("sms", PHONE)  # type: ignore[arg-type]
    # Answered: a second "2" is a new report, not a second urgent case.
    again = receive(s, InboundMessage(channel="sms", external_id="SMyes2", address=PHONE, text="2"))
    s.commit()
    assert again.kind == "report"
    assert s.exec(select(func.count()).select_from(RetaliationCheckin)
                  .where(col(RetaliationCheckin.followup_report_id).is_not(None))).one() == 1
    # The worker's routing leaves it where the watch put it.
    s.commit()
    Worker(engine, settings).run("route")
    s.expire_all()
    assert s.get(Report, case.id).org_id == legal.id  # type: ignore[union-attr]


def test_the_same_yes_delivered_twice_opens_one_case(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    _sent_checkin(s, engine, settings, controlled_clock)
    first = receive(s, InboundMessage(channel="sms", external_id="SMdup", address=PHONE, text="yes"))
    s.commit()
    second = receive(s, InboundMessage(channel="sms", external_id="SMdup", address=PHONE, text="yes"))
    assert second.duplicate and second.report_id == first.report_id
    assert s.exec(select(func.count()).select_from(Report).where(Report.urgency == "urgent")).one() == 1


def test_without_the_retaliation_rule_the_case_goes_to_the_first_cases_organisation(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = _sent_checkin(s, engine, settings, controlled_clock)
    routing.retire_rule(s, key="retaliation", actor="admin")
    s.commit()
    reply = receive(s, InboundMessage(channel="sms", external_id="SMyes", address=PHONE, text="២"))  # Khmer digit
    s.commit()
    assert reply.kind == "retaliation"
    assert s.get(Report, reply.report_id).org_id == s.get(Report, report.id).org_id  # type: ignore[union-attr]


def test_no_is_recorded_and_anything_else_is_the_dialogue_as_usual(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = _sent_checkin(s, engine, settings, controlled_clock)
    other = receive(s, InboundMessage(channel="sms", external_id="SMother", address=PHONE,
                                      text="The nurse shouted at me again today"))
    s.commit()
    assert other.kind == "report" and other.report_id != report.id, "not an answer: a new report"
    for i, text in enumerate(("0", "0", "0")):  # that report's questions, skipped
        receive(s, InboundMessage(channel="sms", external_id=f"SMq{i}", address=PHONE, text=text))
    reply = receive(s, InboundMessage(channel="sms", external_id="SMno", address=PHONE, text="1"))
    s.commit()
    assert reply.kind == "retaliation" and reply.text == "Thank you. If anyone treats you worse, send us a message at any time."
    assert [(c.status, c.answer) for c in checkins(s, report.id)] == [("answered", "no"), ("scheduled", None)]  # type: ignore[arg-type]
    assert [e.detail["answer"] for e in events(s, report.id, "retaliation_answer")] == ["no"]  # type: ignore[arg-type]
    assert s.exec(select(func.count()).select_from(Report).where(Report.urgency == "urgent")).one() == 0


def test_two_workers_at_once_send_each_checkin_once(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        escalated_case(s, address=f"+8551255540{i}")
    controlled_clock.advance(timedelta(days=7, hours=1))
    s.commit()
    workers = [Worker(engine, settings), Worker(engine, settings)]
    start, errors = threading.Barrier(2), []

    def run(worker: Worker) -> None:
        start.wait()
        for _ in range(3):
            try:
                worker.run("retaliation")
            except Exception as exc:  # SQLite: the other writer held the lock; the next run goes on
                errors.append(type(exc).__name__)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    s.expire_all()
    rows = s.exec(select(RetaliationCheckin)).all()
    assert len(rows) == 12 and sorted(r.status for r in rows).count("sent") == 6, errors
    assert len(questions(s)) == 6
    assert len(s.exec(select(PendingQuestion).where(PendingQuestion.kind == "retaliation")).all()) == 6


def test_texts_fit_two_sms_and_are_translated() -> None:
    from service.kit import i18n, segments
    for language in i18n.LANGUAGES:
        for msgid in (texts.CHECKIN, texts.THANKS_NO, texts.THANKS_YES):
            text = i18n.gettext(language, msgid, date="2026-11-23", code="7K3M-9QXZ")
            count = segments.count(text)
            assert count.segments <= 2, (language, text)
            if language == "en":
                assert count.encoding == "GSM-7"
            if language == "km":
                assert i18n.has_khmer(text)
            if language == "pt":
                assert text != i18n.gettext("en", msgid, date="2026-11-23", code="7K3M-9QXZ")


def test_asking_a_reporter_whose_contact_was_erased_is_refused_not_a_crash(s, engine, settings, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    """The callers look first (`why_not`); a contact erased after that look (a STOP handled by another
    process) is a clear refusal, and nothing is queued."""
    from service.intake.vault import erase_for_reporter
    from service.kit.errors import NotFound
    from service.retaliation.service import ask_reporter

    report = escalated_case(s)
    watch(s, engine, settings)
    (checkin, _) = checkins(s, report.id)  # type: ignore[arg-type]
    erase_for_reporter(s, report.reporter_id)  # type: ignore[arg-type]
    s.flush()
    with pytest.raises(NotFound):
        ask_reporter(s, checkin, s.get_one(Report, report.id), answer_days=3)
    assert questions(s) == []
