"""A dossier's missed deadline climbs its ladder like a case's: national, then regional. The next body gets the
contents computed again in its language with its own link, deadline and reminder; the body that missed it is
told; at the top (or with no body above) the dossier stays expired and its page says so; a closed dossier
does not climb."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from service.bodies.models import GrievanceBody
from service.escalation import dossiers
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.flows import deadlines
from service.flows import dossier as dossier_flow
from service.kit.clock import as_utc
from service.reports.models import ReportEvent
from tests.escalation.factories import make_case, outbox, payload


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def _dossier(s: Session, n: int = 2):  # type: ignore[no-untyped-def]
    cases = [make_case(s, address=f"+8551299900{i}") for i in range(n)]
    made = dossiers.build(s, org_id=cases[0].org_id, title="Police raids at the drop-in centre", actor="sup",  # type: ignore[arg-type]
                          report_ids=[r.id for r in cases])  # type: ignore[misc]
    return made, cases


def _events(s: Session, kind: str) -> list[ReportEvent]:
    return list(s.exec(select(ReportEvent).where(ReportEvent.kind == kind).order_by(col(ReportEvent.id))).all())


def _escalations(s: Session, dossier_id: int) -> list[Escalation]:
    return list(s.exec(select(Escalation).where(Escalation.dossier_id == dossier_id).order_by(col(Escalation.id))).all())


def _past(clock, escalation: Escalation) -> None:  # type: ignore[no-untyped-def]
    clock.advance(as_utc(escalation.due_at) - clock.now() + timedelta(minutes=1))  # type: ignore[arg-type]


def test_a_missed_deadline_sends_the_dossier_from_the_national_body_to_the_regional_one(
    s: Session, controlled_clock  # type: ignore[no-untyped-def]
) -> None:
    made, cases = _dossier(s)
    sent = dossier_flow.escalate(s, made, body_slug="kh-chrc", actor="sup")  # national, human rights, Khmer
    assert sent.dossier_contents["language"] == "km"  # type: ignore[index]
    _past(controlled_clock, sent)
    counts = deadlines.check_deadlines(s)
    assert counts["dossier_moved_up"] == 1 and counts["dossier_expired"] == 0 and counts["moved_up"] == 0
    first, nxt = _escalations(s, made.id)  # type: ignore[arg-type]
    regional = s.exec(select(GrievanceBody).where(GrievanceBody.slug == "aichr")).one()
    assert first.id == sent.id and first.status == "expired"
    # The next rung: the regional body of the same network, the same machinery as a supervisor's send.
    assert nxt.body_id == regional.id and nxt.status == "open" and nxt.rung == sent.rung + 1
    assert nxt.actor == "deadline" and nxt.idempotency_key == f"d{made.id}:deadline:{sent.id}"
    assert nxt.due_at is not None and nxt.remind_at is not None and nxt.due_at > controlled_clock.now()
    assert nxt.dossier_contents["language"] == "en"  # type: ignore[index]  # computed again for the new body
    assert esc.escalation_for_token(s, esc.response_url(nxt).rsplit("/", 1)[1]).id == nxt.id
    assert esc.holder_of(s, first) == (False, regional) and made.status == "escalated"
    # The regional body gets the dossier; the national one hears it has left it (in Khmer).
    emails = {m.dedupe_key: payload(m) for m in outbox(s, kind="email")}
    assert f"esc{nxt.id}-new-email" in emails and "/respond/" in emails[f"esc{nxt.id}-new-email"]["text"]
    moved = emails[f"esc{first.id}-moved-email"]
    assert regional.name_km in moved["subject"] and "ពាក្យបណ្ដឹងរួម" in moved["subject"]  # type: ignore[operator]
    assert "ត្រូវបានបញ្ជូនទៅ" in moved["text"]
    # Each linked case's timeline: the deadline missed, then the dossier sent on by the deadline.
    assert sorted(e.report_id for e in _events(s, "dossier_deadline_missed")) == sorted(r.id for r in cases)  # type: ignore[misc]
    escalated = [e for e in _events(s, "dossier_escalated") if e.detail["escalation"] == nxt.id]
    assert sorted(e.report_id for e in escalated) == sorted(r.id for r in cases)  # type: ignore[misc]
    assert all(e.actor == "deadline" and e.detail["body"] == "aichr" for e in escalated)
    assert not _events(s, "dossier_ladder_exhausted")
    # Once per missed deadline: the next run finds nothing to do, and the same key is the same escalation.
    assert deadlines.check_deadlines(s)["dossier_moved_up"] == 0
    again = dossier_flow.escalate(s, made, body_slug="aichr", actor="deadline", idempotency_key=f"deadline:{sent.id}")
    assert again.id == nxt.id and len(_escalations(s, made.id)) == 2  # type: ignore[arg-type]
    # The national body may still record what it did; only the regional one answers for the dossier.
    with pytest.raises(esc.NotCurrent):
        esc.record_response(s, first, action="resolved")

    # The regional body misses its deadline too: nothing above it, the dossier stays expired.
    _past(controlled_clock, nxt)
    counts = deadlines.check_deadlines(s)
    assert counts["dossier_moved_up"] == 0 and counts["dossier_expired"] == 1 and nxt.status == "expired"
    assert len(_escalations(s, made.id)) == 2  # type: ignore[arg-type]
    assert sorted(e.report_id for e in _events(s, "dossier_ladder_exhausted")) == sorted(r.id for r in cases)  # type: ignore[misc]
    assert f"esc{nxt.id}-moved-email" not in {m.dedupe_key for m in outbox(s, kind="email")}
    esc.record_response(s, nxt, action="resolved")  # the last body still holds it and may answer
    assert made.status == "answered"


def test_no_body_above_in_the_network_keeps_the_expiry_and_says_the_ladder_is_exhausted(
    s: Session, controlled_clock  # type: ignore[no-untyped-def]
) -> None:
    made, cases = _dossier(s)
    sent = dossier_flow.escalate(s, made, body_slug="nchads", actor="sup")  # national health: no regional one
    _past(controlled_clock, sent)
    counts = deadlines.check_deadlines(s)
    assert counts["dossier_expired"] == 1 and counts["dossier_moved_up"] == 0 and sent.status == "expired"
    assert [e.id for e in _escalations(s, made.id)] == [sent.id]  # type: ignore[arg-type]
    assert len(_events(s, "dossier_deadline_missed")) == len(_events(s, "dossier_ladder_exhausted")) == len(cases)
    assert all("moved" not in m.dedupe_key for m in outbox(s))


def test_a_closed_dossier_does_not_climb_and_its_waiting_body_may_still_answer(
    s: Session, controlled_clock  # type: ignore[no-untyped-def]
) -> None:
    made, cases = _dossier(s)
    sent = dossier_flow.escalate(s, made, body_slug="kh-chrc", actor="sup")
    dossiers.close(s, made, reason="The raids stopped", actor="sup")
    _past(controlled_clock, sent)
    counts = deadlines.check_deadlines(s)
    assert counts["dossier_moved_up"] == 0 and counts["dossier_expired"] == 1 and sent.status == "expired"
    assert [e.id for e in _escalations(s, made.id)] == [sent.id] and made.status == "closed"  # type: ignore[arg-type]
    assert len(_events(s, "dossier_deadline_missed")) == len(cases) and not _events(s, "dossier_ladder_exhausted")
    assert all("moved" not in m.dedupe_key for m in outbox(s))
    esc.record_response(s, sent, action="resolved")
    assert sent.status == "resolved" and made.status == "closed"
    assert len(_events(s, "dossier_response")) == len(cases)


def test_the_dossier_page_says_when_nobody_is_left_above(app, engine, world, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    from service.bodies.service import upsert_body
    from tests.support.review import bearer, sign_in

    a, a2 = world.cases["a"].id, world.cases["a2"].id
    with Session(engine, expire_on_commit=False) as session:
        upsert_body(session, slug="moh-national", name_en="Ministry of Health", level="national",
                    email="moh@example.org")
        session.commit()
    sup = bearer(app, "supervisor@a.test")
    dossier_id = app.post("/api/v1/dossiers", headers=sup, json={"title": "Fees", "case_ids": [a, a2]}).json()["id"]
    assert app.post(f"/api/v1/dossiers/{dossier_id}/escalate", headers=sup, json={"body": "moh-national"}).status_code == 201
    sign_in(app, "supervisor@a.test")
    assert 'id="dossier-ladder-exhausted"' not in app.get(f"/supervise/dossiers/{dossier_id}").text
    with Session(engine) as session:
        (sent,) = _escalations(session, dossier_id)
        _past(controlled_clock, sent)
        assert deadlines.check_deadlines(session)["dossier_expired"] == 1
        session.commit()
    sign_in(app, "supervisor@a.test")  # a sign-in of before the deadline has lapsed by now
    expected = {
        "en": "Ministry of Health did not answer by the deadline and no body is above it",
        "pt": "Ministry of Health não respondeu dentro do prazo",
        "km": "Ministry of Health មិនបានឆ្លើយតបត្រឹមថ្ងៃកំណត់ទេ",
    }
    for lang, words in expected.items():
        page = app.get(f"/supervise/dossiers/{dossier_id}?lang={lang}").text
        assert 'id="dossier-ladder-exhausted"' in page and words in page, lang
    case_page = app.get(f"/cases/{a}").text
    assert "ev-dossier_ladder_exhausted" in case_page
