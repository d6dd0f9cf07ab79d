"""A scorecard against the exact attacker: its figures (top problems, the trend by category and month,
response and resolution times) leave the platform together on one printed sheet, so the attacker
combines them — each table's rows and columns adding up, and the numbers the card prints twice being
one number: the report total (top problems and trend) and each category's reports (its top-problems
row and its row total in the trend). No count under the threshold may be pinned down by any combination.

The links below are this test's own reading of the page, not the production code's."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlmodel import Session

from service.analytics import pages, publish, queries as q
from service.analytics.suppression import Published, suppress
from tests.analytics.factories import T0
from tests.support.attacker import can_pin
from tests.support.factories import make_report, place

T = 5  # the threshold of these tests (settings.suppression_threshold)
CATEGORIES = ["c0", "c1", "c2", "c3"]
MONTHS = ["2026-07", "2026-08", "2026-09"]


def _links(pubs: dict[str, Published]) -> list[list[tuple[str, tuple[int, int]]]]:
    """What a reader of the card knows is one number, from the labels as printed."""
    top, trend = pubs["top"], pubs["trend"]
    groups = [[("top", (top.n_rows, top.n_cols)), ("trend", (trend.n_rows, trend.n_cols))]]
    for i, name in enumerate(top.row_labels):
        groups.append([("top", (i, 0)), ("trend", (trend.row_labels.index(name), trend.n_cols))])
    return groups


def _pinned(pubs: dict[str, Published]) -> list[tuple[str, tuple[int, int], int]]:
    links = _links(pubs)
    cap = max(pub.values[-1][-1] for pub in pubs.values()) + T
    return [(key, pos, pub.values[pos[0]][pos[1]]) for key, pub in pubs.items() for pos in sorted(pub.hidden)
            if 0 < pub.values[pos[0]][pos[1]] < T
            and can_pin(pubs, (key, pos), pub.values[pos[0]][pos[1]], cap, threshold=T, links=links)]


def _raw(trend: list[list[int]], timing: list[list[int]]) -> tuple[dict, list[str]]:  # type: ignore[type-arg]
    totals = {c: sum(row) for c, row in zip(CATEGORIES, trend)}
    order = sorted(CATEGORIES, key=lambda c: -totals[c])  # top problems: most reported first
    return {"top": ([[totals[c]] for c in order], order, ["Reports"]),
            "trend": (trend, list(CATEGORIES), list(MONTHS)),
            "timing": (timing, ["first", "resolution"], ["<1d", "1-7d", ">7d"])}, order


def _one_by_one(raw: dict) -> dict[str, Published]:  # type: ignore[type-arg]
    return {key: suppress(table, row_labels=rows, col_labels=cols, threshold=T) for key, (table, rows, cols) in raw.items()}


# Found by the attacker with each table suppressed on its own: the trend prints category c3's 8 that the
# top problems hide as x, the top problems print the total 21 that the trend hides as x; with the
# trend's column total 18 that leaves exactly 3 for c1's reports in July, printed "<5".
EXAMPLE = [[0, 0, 10], [3, 0, 0], [0, 0, 0], [0, 0, 8]]
TIMING = [[0, 0, 0], [0, 0, 0]]


def test_a_category_count_the_trend_prints_gives_away_what_top_problems_hide(settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    raw, order = _raw(EXAMPLE, TIMING)
    assert _pinned(_one_by_one(raw))  # the leak between the tables, suppressed one by one
    assert _pinned(publish.scorecard_tables(raw, order, CATEGORIES)) == []


def _check(trend: list[list[int]], timing: list[list[int]], settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    raw, order = _raw(trend, timing)
    pubs = publish.scorecard_tables(raw, order, CATEGORIES)
    for group in _links(pubs):  # the links are true of the data
        assert len({pubs[key].values[i][j] for key, (i, j) in group}) == 1, group
    assert _pinned(pubs) == [], {k: p.grid() for k, p in pubs.items()}
    for key, pub in pubs.items():
        for i in range(pub.n_rows + 1):
            for j in range(pub.n_cols + 1):
                if 0 < pub.values[i][j] < T:
                    assert (i, j) in pub.hidden, (key, (i, j))


count = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 6, 8, 10, 12])
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]


@hsettings(max_examples=30, deadline=None, suppress_health_check=_HEALTH)
@given(trend=st.lists(st.lists(count, min_size=3, max_size=3), min_size=4, max_size=4),
       timing=st.lists(st.lists(count, min_size=3, max_size=3), min_size=2, max_size=2))
def test_no_small_count_on_a_scorecard_is_recoverable_from_all_figures_together(trend, timing, settings) -> None:  # type: ignore[no-untyped-def]
    _check(trend, timing, settings)


def test_the_scorecard_page_publishes_its_tables_suppressed_together(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    """The same leak, from reports in the database to the card's context (both databases)."""
    settings.suppression_threshold = T
    where = place(session, "KH-12")
    # July: 3 stigma; September: 10 service quality, 8 financial hardship (EXAMPLE, with the real categories).
    for n, month_start, category in ((3, T0, "stigma_discrimination"), (10, T0 + timedelta(days=62), "service_quality"),
                                     (8, T0 + timedelta(days=62), "financial_hardship")):
        for i in range(n):
            make_report(session, at=month_start + timedelta(hours=i), updated_at=month_start,
                        place_id=where.id, category=category)
    session.commit()
    since, until = q.quarter_window(2026, 3)
    ctx = pages._scorecard_context(session, place_id=where.id, filters=q.Filters(since, until), language="en")
    pubs = {"top": ctx["top"], "trend": ctx["trend"], "timing": ctx["timing"]}
    assert pubs["top"].values[-1][-1] == 21
    assert _pinned(pubs) == []  # type: ignore[arg-type]
