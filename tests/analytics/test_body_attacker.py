"""The grievance bodies' published figures against the exact attacker (tests/support/attacker.py):
random escalation histories over a few bodies, the four tables (escalations, answered on time or
late, answered "not ours" or otherwise, solved or not after the body's answer) suppressed as the
public page, Open311's bodies resource, the quarterly report and each body's response page publish
them. No count from 1 to the threshold minus one may be shown or worked out from the table's rows
and columns; a share is printed only from two published numbers, a median only over at least the
threshold of published answers."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from service.analytics import escalations as em
from tests.support.attacker import can_pin

T = 5

# One escalation: body (0-2), outcome on the deadline (on time, late, still running), its answer
# (none, not ours, other), and the reporter's closing answer after an action (none, solved, not solved).
escalation = st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2))
histories = st.lists(st.tuples(escalation, st.sampled_from([1, 1, 2, 3, 6])), min_size=1, max_size=12)


def _raw(history: list[tuple[tuple[int, int, int, int], int]]) -> tuple[dict, list[int]]:
    raw: dict[str, dict[int, list[int]]] = {key: {} for key in em.COLUMNS}
    for (body, deadline, answer, closing), n in history:
        raw["escalations"].setdefault(body, [0])[0] += n
        if deadline < 2:
            raw["deadline"].setdefault(body, [0, 0])[deadline] += n
        if answer:
            raw["answers"].setdefault(body, [0, 0])[answer - 1] += n
            if answer == 2 and closing:
                raw["solved"].setdefault(body, [0, 0])[closing - 1] += n
    return raw, sorted(raw["escalations"])


def _check(history) -> None:  # type: ignore[no-untyped-def]
    raw, order = _raw(history)
    tables = em.published_tables(raw, order, [f"body{b}" for b in order], T)
    figs = em.BodyFigures(order, {}, tables, {b: {1: 1} for b in order}, T)
    total = sum(n for _e, n in history)
    for key, pub in tables.items():
        for i in range(pub.n_rows + 1):
            for j in range(pub.n_cols + 1):
                value = pub.values[i][j]
                if 0 < value < T:
                    assert (i, j) in pub.hidden, (key, (i, j))
                    assert not can_pin({key: pub}, (key, (i, j)), value, total + T, threshold=T), (key, pub.grid())
    for i in range(len(order)):
        for key in ("deadline", "answers", "solved"):
            share = figs.share(key, i)
            if share["share"] is not None:
                assert isinstance(share["part"], int) and isinstance(share["total"], int)
                assert (share["part"] == 0 or share["part"] >= T) and share["total"] >= T
        median = figs.median(i)
        if median["hours"] is not None:
            assert isinstance(median["answers"], int) and median["answers"] >= T


_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]


@hsettings(max_examples=60, deadline=None, suppress_health_check=_HEALTH)
@given(history=histories)
def test_no_small_body_count_is_shown_or_recoverable(history) -> None:  # type: ignore[no-untyped-def]
    _check(history)


def test_one_small_not_ours_among_many_answers() -> None:
    """Three "not ours" of twelve answers: hidden, with the count beside it, and no share printed."""
    _check([((0, 0, 1, 0), 3), ((0, 0, 2, 0), 6), ((0, 0, 2, 0), 3)])
    raw, order = _raw([((0, 0, 1, 0), 3), ((0, 0, 2, 0), 9)])
    tables = em.published_tables(raw, order, ["body0"], T)
    assert tables["answers"].grid()[0][0] == "<5" and tables["answers"].grid()[0][2] == "12"
