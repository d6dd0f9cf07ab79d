"""A dossier escalated as one case: the single case's machinery (deadline, signed link, reminder, answer) on
the same escalation row, its contents as sent, the answer passed on to the linked cases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.escalation import dossiers
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.flows import deadlines
from service.flows import dossier as dossier_flow
from service.kit.errors import InvalidInput, NotFound
from service.reports.models import Report, ReportEvent
from tests.escalation.factories import make_case, outbox, payload, text_of

PHONE = "+85512777888"


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def _dossier(s: Session, n: int = 3, **kw):  # type: ignore[no-untyped-def]
    cases = [make_case(s, address=f"+8551277700{i}", **kw) for i in range(n)]
    made = dossiers.build(s, org_id=cases[0].org_id, title="ARV stock-outs, call 012 345 678", actor="sup",  # type: ignore[arg-type]
                          report_ids=[r.id for r in cases])  # type: ignore[misc]
    return made, cases


def test_a_dossier_goes_to_a_national_body_with_its_contents_as_sent_and_no_identifier(s: Session) -> None:
    made, cases = _dossier(s)
    before = len(outbox(s, kind="message"))
    sent = dossier_flow.escalate(s, made, body_slug="nacd", actor="sup@khana")  # a Khmer-speaking national body
    assert sent.dossier_id == made.id and sent.report_id is None and sent.status == "open"
    assert sent.due_at is not None and sent.remind_at is not None and made.status == "escalated"
    assert sent.dossier_contents["language"] == "km" and sent.dossier_contents["quotes_withheld"] is True  # type: ignore[index]
    (mail,) = outbox(s, kind="email")
    text = payload(mail)["text"]
    assert "ពាក្យបណ្ដឹងរួម" in payload(mail)["subject"] and "/respond/" in text and "<10" in text
    assert "012 345 678" not in text + payload(mail)["subject"]  # the title is masked too
    assert "No ARV at the health centre" not in text and "+855" not in text  # no narrative, no number
    assert "ករណី:" not in text  # no case number field (a case's email has one)
    # The linked cases keep their own status; their timelines say the dossier was sent.
    for report in cases:
        s.refresh(report)
        assert report.status != "escalated"
        (event,) = s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                    ReportEvent.kind == "dossier_escalated")).all()
        assert event.detail["body"] == "nacd" and event.detail["escalation"] == sent.id
    assert len(outbox(s, kind="message")) == before  # reporters hear when the body answers, not before
    # The same request again is the same escalation; a provincial body is not one a dossier goes to.
    assert dossier_flow.escalate(s, made, body_slug="nacd", actor="sup@khana", idempotency_key="after:0") is sent
    with pytest.raises(InvalidInput):
        dossier_flow.escalate(s, made, body_slug="nacd", actor="sup@khana")  # already waiting for it
    with pytest.raises(InvalidInput):
        dossier_flow.escalate(s, made, body_slug="battambang-phd", actor="sup@khana")
    with pytest.raises(NotFound):
        dossier_flow.escalate(s, made, body_slug="nobody", actor="sup@khana")


def test_exactly_one_of_case_and_dossier_is_set(s: Session) -> None:
    made, cases = _dossier(s, 2)
    for report_id, dossier_id in ((None, None), (cases[0].id, made.id)):
        with pytest.raises(IntegrityError), s.begin_nested():
            s.add(Escalation(report_id=report_id, dossier_id=dossier_id, body_id=1, idempotency_key=f"k{report_id}",
                             link_nonce="n"))
            s.flush()


def test_the_bodys_answer_through_its_link_reaches_every_linked_case_and_each_consenting_reporter_once(s: Session) -> None:
    cases = [make_case(s, address=PHONE), make_case(s, address=PHONE), make_case(s, address="+85512333444"),
             make_case(s)]
    made = dossiers.build(s, org_id=cases[0].org_id, title="ARV", actor="sup", report_ids=[r.id for r in cases])  # type: ignore[arg-type, misc]
    sent = dossier_flow.escalate(s, made, body_slug="nchads", actor="sup")
    found = esc.escalation_for_token(s, esc.response_url(sent).rsplit("/", 1)[1])
    assert found.id == sent.id and esc.holder_of(s, sent)[0] is True
    before = len(outbox(s, kind="message"))
    esc.record_response(s, sent, action="acknowledge")
    assert sent.status == "acknowledged" and len(outbox(s, kind="message")) == before
    esc.record_response(s, sent, action="action_taken", text="Stock sent to the district, call 012 999 888")
    esc.record_response(s, sent, action="action_taken", text="Stock sent to the district, call 012 999 888")
    assert sent.status == "responded" and made.status == "answered"
    assert "012 999 888" not in (sent.response_masked or "")
    told = outbox(s, kind="message")[before:]
    assert len(told) == 2 and all("joint complaint" in text_of(m) for m in told)  # two reporters, one each
    for report in cases:
        got = s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                               ReportEvent.kind == "dossier_response").order_by(col(ReportEvent.id))).all()
        assert [e.detail["action"] for e in got] == ["acknowledge", "action_taken"]
        assert "Stock sent to the district" in got[-1].detail["text"]
        assert s.get(Report, report.id).status != "responded"  # type: ignore[union-attr]  # each keeps its own
    esc.record_response(s, sent, action="resolved")
    assert sent.status == "resolved"
    with pytest.raises(esc.AlreadyAnswered):
        esc.record_response(s, sent, action="not_ours")


def test_a_reminder_then_a_missed_deadline_expires_the_dossiers_escalation_and_marks_the_cases(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    made, cases = _dossier(s, 2)
    sent = dossier_flow.escalate(s, made, body_slug="nchads", actor="sup")
    controlled_clock.advance(sent.remind_at - sent.created_at + timedelta(minutes=1))  # type: ignore[operator]
    counts = deadlines.check_deadlines(s)
    assert counts["reminded"] == 1
    assert [json.loads(json.dumps(payload(m)))["subject"].startswith("[Samleng] Reminder: joint complaint")
            for m in outbox(s, kind="email")] == [False, True]
    controlled_clock.advance(sent.due_at - sent.remind_at + timedelta(minutes=1))  # type: ignore[operator]
    counts = deadlines.check_deadlines(s)
    assert counts["dossier_expired"] == 1 and counts["moved_up"] == 0 and sent.status == "expired"
    for report in cases:
        assert s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                ReportEvent.kind == "dossier_deadline_missed")).one()
    # The supervisor sends it on; the expired body may still record what it did.
    nxt = dossier_flow.escalate(s, made, body_slug="cenat", actor="sup")
    assert nxt.rung == 1 and esc.holder_of(s, sent)[0] is False
    with pytest.raises(esc.NotCurrent):
        esc.record_response(s, sent, action="resolved")
    esc.record_response(s, sent, action="action_taken", text="We had sent stock")
    assert made.status == "escalated"  # only the body holding it answers for the dossier
