"""A dossier's escalation in the grievance body's figures: counted in its escalations, the share answered by
the deadline, the median time to answer and the share "not ours" (the body had to answer it), never in
"solved after the answer" (no single reporter); the small-count suppression holds."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.analytics import escalations as em, queries as q, rollup
from service.bodies.service import get_body
from service.escalation import dossiers
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.flows import dossier as dossier_flow
from service.kit import clock
from service.orgs.models import Organisation
from service.places.models import Place
from tests.escalation.factories import make_case


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def _sent(s: Session, n: int = 2) -> Escalation:
    """A dossier of `n` fresh cases, sent to the national HIV programme (nchads)."""
    cases = [make_case(s) for _ in range(n)]
    made = dossiers.build(s, org_id=cases[0].org_id, title="ARV stock-outs", actor="sup",  # type: ignore[arg-type]
                          report_ids=[r.id for r in cases])  # type: ignore[misc]
    return dossier_flow.escalate(s, made, body_slug="nchads", actor="sup")


def _answer(s: Session, sent: Escalation, action: str, *, late: bool, hours: int = 3) -> int:
    """The body answers `hours` after it was sent, or an hour after its deadline; the clock comes back."""
    assert sent.due_at is not None
    step = sent.due_at - clock.now() + timedelta(hours=1) if late else timedelta(hours=hours)
    clock.advance(step)
    esc.record_response(s, sent, action=action, text="Stock sent" if action == "action_taken" else "")
    hours_taken = int((clock.now() - sent.created_at).total_seconds() // 3600)
    clock.advance(-step)
    return hours_taken


def test_a_dossier_the_body_answered_counts_in_its_deadline_hours_and_not_ours_but_not_in_solved(
    s: Session, controlled_clock  # type: ignore[no-untyped-def]
) -> None:
    on_time, late = _sent(s), _sent(s)
    body = get_body(s, "nchads").id
    first = _answer(s, on_time, "not_ours", late=False, hours=3)
    second = _answer(s, late, "resolved", late=True)
    for report in dossiers.cases(s, s.get(dossiers.Dossier, late.dossier_id)):  # type: ignore[arg-type]
        # Reporters of linked cases said "solved" after the body's answer: about their own cases, not the dossier.
        report.status, report.satisfaction, report.closed_at = "closed", "yes", clock.now() + timedelta(days=30)
        s.add(report)
    s.flush()

    def check(f: q.Filters) -> None:
        assert em.escalations_per_body(s, f)[body] == 2
        assert em.deadline_tally(s, f)[body] == [1, 1]
        assert em.not_ours_tally(s, f)[body] == [1, 1]
        assert em.answer_hours(s, f)[body] == {first: 1, second: 1}
        assert body not in em.solved_tally(s, f)

    check(q.Filters())
    check(q.Filters(org_id=s.get(dossiers.Dossier, on_time.dossier_id).org_id))  # type: ignore[union-attr]
    # Scoped by the dossier: its organisation, the window it was built in; none with a place or a category
    # (its cases span them).
    other = Organisation(slug="other", name="Other")
    s.add(other)
    s.flush()
    province = s.exec(select(Place).where(Place.kind == "province")).first()
    for f in (q.Filters(org_id=other.id), q.Filters(since=clock.now() + timedelta(days=1)),
              q.Filters(until=clock.now() - timedelta(days=1)), q.Filters(place_id=province.id),  # type: ignore[union-attr]
              q.Filters(category="service_quality")):
        assert body not in em.escalations_per_body(s, f), f
        assert body not in em.deadline_tally(s, f), f
    # The rollup (per report) holds no dossier: its figures come live beside it, the same.
    s.commit()
    rollup.rebuild(s)
    s.commit()
    start = clock.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    assert q._rollup_scope(s, q.Filters(since=start)) is not q._NO
    check(q.Filters(since=start))


def test_a_body_answering_a_dossier_late_moves_its_published_on_time_share(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    sent = [_sent(s) for _ in range(21)]
    for i, escalation in enumerate(sent[:20]):
        _answer(s, escalation, "acknowledge", late=i >= 10)

    def on_time_row() -> object:
        metrics = {m["key"]: m for m in em.body_metrics_of(s, q.Filters()) or []}
        (row,) = [r for r in metrics["answered_on_time"]["rows"] if r[0]["en"] == get_body(s, "nchads").name_en]
        return row[1]

    assert on_time_row() == {"msgid": "{share}% on time ({on_time} of {total})",
                             "params": {"share": 50, "on_time": 10, "total": 20}}
    _answer(s, sent[20], "acknowledge", late=True)
    assert on_time_row()["params"] == {"share": 48, "on_time": 10, "total": 21}  # type: ignore[index]


def test_a_body_with_few_dossiers_has_its_counts_hidden(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    for late in (True, True, False):
        _answer(s, _sent(s), "not_ours" if late else "acknowledge", late=late)
    name = get_body(s, "nchads").name_en
    metrics = {m["key"]: m for m in em.body_metrics_of(s, q.Filters()) or []}
    shown = []
    for key in ("escalations_by_body", "answered_on_time", "answered_not_ours", "median_hours"):
        rows = [r[1] for r in metrics[key]["rows"] if isinstance(r[0], dict) and r[0].get("en") == name]
        assert rows, key  # the body is listed: its dossiers count
        shown += rows
    text = " ".join(str(v) for v in shown)
    assert "<10" in text and "%" not in text and "share" not in text
    assert not [n for n in re.findall(r"(?<![<\d])\d+", text) if 0 < int(n) < 10], text
