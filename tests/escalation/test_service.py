"""Escalation in the service layer: the ladder, idempotency, answers, deadlines on a controlled clock."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from service.flows import deadlines
from service.escalation import links
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.kit.errors import InvalidInput
from service.reports.models import ReportEvent
from tests.escalation.factories import make_case, outbox, payload, text_of

PHONE = "+85512777888"


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def events(session: Session, report_id: int, kind: str | None = None) -> list[ReportEvent]:
    query = select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(col(ReportEvent.id))
    rows = session.exec(query).all()
    return [e for e in rows if kind is None or e.kind == kind]


def test_escalation_sends_an_actionable_masked_summary_to_the_first_body(s: Session) -> None:
    report = make_case(s, address=PHONE)
    escalation = esc.escalate(s, report, actor="handler@khana")
    assert report.status == "escalated" and report.due_at == escalation.due_at
    assert escalation.due_at - escalation.created_at == timedelta(hours=72)  # type: ignore[operator]
    (mail,) = outbox(s, kind="email")
    content = payload(mail)
    assert mail.dedupe_key == f"esc{escalation.id}-new-email" and mail.to_sealed is None
    # Khmer body: Khmer summary with the masked narrative, the place, the deadline and the link.
    assert "មណ្ឌលសុខភាពជ្រៃ" in content["text"] and "[phone]" in content["text"]
    assert "012 345 678" not in content["text"] and PHONE not in content["text"]
    # The deadline's day in the handling organisation's zone (the platform's: Phnom Penh).
    local_due = escalation.due_at.astimezone(ZoneInfo("Asia/Phnom_Penh"))  # type: ignore[union-attr]
    assert "/respond/" in content["text"] and f"{local_due:%Y-%m-%d %H:%M}" in content["subject"]
    (told,) = outbox(s, kind="message")
    assert "sent to the authority responsible" in text_of(told)
    assert [e.detail["body"] for e in events(s, report.id, "escalated")] == ["chrey-hc"]  # type: ignore[arg-type]


def test_the_same_escalation_twice_is_one_escalation_and_one_message(s: Session) -> None:
    report = make_case(s)
    first = esc.escalate(s, report, actor="handler")
    again = esc.escalate(s, report, actor="handler")  # double click: same page state, no key
    keyed = esc.escalate(s, report, actor="handler", idempotency_key="after:0")
    assert first.id == again.id == keyed.id
    assert len(s.exec(select(Escalation)).all()) == 1 and len(outbox(s, kind="email")) == 1
    # A deliberate second escalation (from the new state) climbs one rung.
    second = esc.escalate(s, report, actor="handler", idempotency_key=f"after:{first.id}")
    assert esc.escalate(s, report, actor="handler", idempotency_key=f"after:{first.id}").id == second.id
    assert second.id != first.id and second.rung == 1
    assert s.get(Escalation, first.id).status == "superseded"  # type: ignore[union-attr]
    assert len(outbox(s, kind="email")) == 2


def test_not_ours_hands_the_case_back_and_the_next_escalation_skips_that_body(s: Session) -> None:
    report = make_case(s)
    first = esc.escalate(s, report, actor="handler")
    esc.record_response(s, first, action="not_ours", text="This is the OD's matter")
    assert report.status == "in_progress" and report.due_at is None
    assert events(s, report.id, "needs_reroute")  # type: ignore[arg-type]
    with pytest.raises(esc.AlreadyAnswered):
        esc.record_response(s, first, action="resolved")
    nxt = esc.escalate(s, report, actor="handler", idempotency_key=f"after:{first.id}")
    assert s.get(type(nxt), nxt.id).body_id != first.body_id and nxt.rung == 1


def test_answers_move_the_case_and_are_masked(s: Session) -> None:
    report = make_case(s, address=PHONE)
    escalation = esc.escalate(s, report, actor="handler")
    esc.record_response(s, escalation, action="acknowledge")
    assert escalation.status == "acknowledged" and report.status == "escalated" and report.first_response_at
    with pytest.raises(InvalidInput):
        esc.record_response(s, escalation, action="action_taken", text="  ")
    esc.record_response(s, escalation, action="action_taken", text="Stock delivered; call 012999888 for info")
    assert report.status == "responded" and escalation.response_masked == "Stock delivered; call [phone] for info"
    esc.record_response(s, escalation, action="resolved")
    assert report.status == "resolved" and report.resolved_at is not None
    told = [text_of(r) for r in outbox(s, kind="message")]
    assert len(told) == 3 and "answered" in told[1] and "resolved" in told[2]


def test_missed_deadline_moves_one_rung_up_tells_the_previous_body_and_the_timeline(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = make_case(s, category="service_quality", population=None)  # hc-service: HCMC → OD
    first = esc.escalate(s, report, actor="handler")
    assert deadlines.check_deadlines(s) == {"resumed": 0, "reminded": 0, "moved_up": 0, "exhausted": 0, "dossier_moved_up": 0, "dossier_expired": 0}
    controlled_clock.advance(timedelta(hours=120) - timedelta(hours=23))  # inside the reminder window
    assert deadlines.check_deadlines(s)["reminded"] == 1
    assert deadlines.check_deadlines(s)["reminded"] == 0, "one reminder per rung"
    assert [r.dedupe_key for r in outbox(s, kind="email")] == [f"esc{first.id}-new-email", f"esc{first.id}-reminder-email"]
    controlled_clock.advance(timedelta(hours=24))
    assert deadlines.check_deadlines(s)["moved_up"] == 1
    second = esc.current_escalation(s, report)
    assert first.status == "expired" and second.rung == 1 and second.actor == "deadline"  # type: ignore[union-attr]
    kinds = [e.kind for e in events(s, report.id)]  # type: ignore[arg-type]
    assert kinds.count("deadline_missed") == 1 and kinds.count("escalated") == 2
    keys = [r.dedupe_key for r in outbox(s, kind="email")]
    assert f"esc{first.id}-moved-email" in keys and f"esc{second.id}-new-email" in keys  # type: ignore[union-attr]
    assert deadlines.check_deadlines(s)["moved_up"] == 0, "the same missed deadline does not climb twice"
    controlled_clock.advance(timedelta(hours=24 * 8))
    assert deadlines.check_deadlines(s)["exhausted"] == 1
    assert events(s, report.id, "ladder_exhausted") and report.status == "escalated"  # type: ignore[arg-type]


def test_response_link_refuses_tampering_revocation_and_expiry(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = make_case(s)
    escalation = esc.escalate(s, report, actor="handler")
    token = esc.response_url(escalation).rsplit("/", 1)[1]
    assert esc.escalation_for_token(s, token).id == escalation.id
    payload_part, sig = token.split(".")
    forged = links._b64(f"{escalation.id + 1}.9999999999.{escalation.link_nonce}".encode())
    for bad in (payload_part + "." + sig[:-2] + "AA", forged + "." + sig, "garbage", token + "x"):
        with pytest.raises(links.BadLink):
            esc.escalation_for_token(s, bad)
    escalation.link_nonce = "rotated"
    with pytest.raises(links.BadLink):
        esc.escalation_for_token(s, token)
    escalation.link_nonce = links.read_token(token)[1]
    controlled_clock.advance(timedelta(hours=72) + timedelta(days=31))
    with pytest.raises(links.ExpiredLink):
        esc.escalation_for_token(s, token)


def test_urgent_detention_rule_escalates_at_once(s: Session) -> None:
    report = make_case(s, narrative="They took him to the centre this morning", category="human_rights_violation",
                       place="KH-1", population="people_who_use_drugs", route=False)
    report.urgency = "urgent"
    from service.flows.routing import route_report

    route_report(s, report, actor="triage")
    (escalation,) = s.exec(select(Escalation)).all()
    assert report.status == "escalated" and escalation.actor == "rule:detention-urgent"
    assert [r.body_id for r in outbox(s, kind="email")] == [escalation.body_id]


def test_closed_or_withdrawn_cases_cannot_be_escalated(s: Session) -> None:
    report = make_case(s)
    escalation = esc.escalate(s, report, actor="handler")
    esc.record_response(s, escalation, action="resolved")
    esc.close_case(s, report, actor="handler")
    with pytest.raises(InvalidInput):
        esc.escalate(s, report, actor="handler", idempotency_key="again")


def test_a_withdrawn_case_is_not_chased_up_the_ladder(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    from service.intake.withdrawal import withdraw

    report = make_case(s)
    first = esc.escalate(s, report, actor="handler")
    withdraw(s, report)
    controlled_clock.advance(timedelta(hours=60))  # inside the reminder window: no reminder
    assert deadlines.check_deadlines(s)["reminded"] == 0
    controlled_clock.advance(timedelta(days=4))
    assert deadlines.check_deadlines(s) == {"resumed": 0, "reminded": 0, "moved_up": 0, "exhausted": 0, "dossier_moved_up": 0, "dossier_expired": 0}
    assert first.status == "cancelled" and len(s.exec(select(Escalation)).all()) == 1


def test_satisfaction_hook_only_takes_real_answers(s: Session) -> None:
    from service.intake.questions import open_question
    from service.intake.schemas import InboundMessage
    from service.intake.service import receive
    from service.reports.models import Report

    report = make_case(s, address=PHONE, population=None)
    escalation = esc.escalate(s, report, actor="handler")
    esc.record_response(s, escalation, action="resolved")
    esc.close_case(s, report, actor="handler")
    reporter_id = report.reporter_id
    story = receive(s, InboundMessage(channel="sms", external_id="SMq1", address=PHONE, text="Another problem: no condoms"))
    assert story.kind == "report" and story.report_id != report.id, "a non-answer is a new report"
    assert open_question(s, reporter_id) is not None  # type: ignore[arg-type]
    # Finish that new report's questions so the next message is not a dialogue answer.
    for i, text in enumerate(("0", "0", "0")):
        receive(s, InboundMessage(channel="sms", external_id=f"SMq2{i}", address=PHONE, text=text))
    answer = receive(s, InboundMessage(channel="sms", external_id="SMq3", address=PHONE, text="ចាស"))
    assert answer.kind == "satisfaction" and answer.language == "km" and answer.text.startswith("សូមអរគុណ")
    assert s.get(Report, report.id).satisfaction == "yes" and open_question(s, reporter_id) is None  # type: ignore[union-attr,arg-type]
