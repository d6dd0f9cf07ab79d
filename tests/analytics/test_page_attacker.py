"""The whole public page against an exact attacker: every figure's table (reports over time, open and
resolved, the province table and map, urgency, channel, population, response times, satisfaction) is
published together, and the attacker combines all of them — each table's rows and columns adding up,
and every quantity that two figures both publish (the page's report total, a month's total, the
open/resolved/other totals, the resolved reports that satisfaction counts) being one number.
No count under the threshold may be pinned down by any combination."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from service.analytics import publish
from service.analytics.suppression import Published
from tests.support.attacker import can_pin

T = 5  # the page's threshold in these tests (settings.suppression_threshold)


def _attacker_can_pin(pubs: dict[str, Published], links, target, value: int, cap: int) -> bool:  # type: ignore[no-untyped-def]
    """Is `target` (key, (i, j)) forced to `value` by every table on the page and the links between them?"""
    return can_pin(pubs, target, value, cap, threshold=T, links=links)


# One report: category, month, province, status group (open, resolved, other), urgency, channel,
# population, satisfaction answer (when resolved), response-time bucket.
report = st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2),
                   st.integers(0, 1), st.integers(0, 1), st.integers(0, 1), st.integers(0, 2), st.integers(0, 2))
reports = st.lists(st.tuples(report, st.sampled_from([1, 1, 2, 3, 6])), min_size=1, max_size=14)


def _raw(data: list[tuple[tuple[int, ...], int]]) -> dict[str, tuple[list[list[int]], list[str], list[str]]]:
    def grid(rows: int, cols: int) -> list[list[int]]:
        return [[0] * cols for _ in range(rows)]

    over, ovr, prov = grid(3, 3), grid(3, 3), grid(3, 3)
    urg, chan, pop, first, sat = grid(2, 1), grid(2, 1), grid(2, 1), grid(2, 1), grid(3, 1)
    for (c, m, p, s, u, ch, po, a, b), n in data:
        over[c][m] += n
        ovr[s][m] += n
        prov[p][s] += n
        urg[u][0] += n
        chan[ch][0] += n
        pop[po][0] += n
        if b < 2:  # 2: no first response yet (not in that chart)
            first[b][0] += n
        if s == 1:
            sat[a][0] += n
    names = lambda k, n: [f"{k}{i}" for i in range(n)]  # noqa: E731
    months = ["2026-01", "2026-02", "2026-03"]
    return {"over_time": (over, names("cat", 3), months), "open_resolved": (ovr, ["open", "resolved", "other"], months),
            "provinces": (prov, names("prov", 3), ["open", "resolved", "other"]),
            "urgency": (urg, names("u", 2), ["n"]), "channel": (chan, names("ch", 2), ["n"]),
            "population": (pop, names("pop", 2), ["n"]), "first_response": (first, names("b", 2), ["n"]),
            "satisfaction": (sat, ["yes", "partly", "no"], ["n"])}


def _leak(pubs: dict[str, Published], raw) -> tuple | None:  # type: ignore[no-untyped-def]
    shape = {key: (len(rows), len(cols)) for key, (_t, rows, cols) in raw.items()}
    links = publish.page_links(shape)
    total = pubs["over_time"].values[-1][-1]
    for key, pub in pubs.items():
        for (i, j) in pub.hidden:
            value = pub.values[i][j]
            if 0 < value < T and _attacker_can_pin(pubs, links, (key, (i, j)), value, total + T):
                return key, (i, j)
    return None


# Found by the attacker when each figure was suppressed on its own: the month totals the category chart
# shows, and the status totals the province table shows, pin an "other" count the status chart hides.
EXAMPLE = [((1, 2, 1, 2, 0, 0, 0, 1, 1), 1), ((2, 1, 0, 1, 1, 0, 1, 1, 1), 3), ((1, 0, 0, 1, 1, 0, 0, 0, 1), 2),
           ((2, 2, 2, 1, 1, 0, 0, 0, 1), 1), ((2, 2, 1, 1, 0, 1, 1, 2, 1), 6)]


def test_figures_suppressed_together_close_a_leak_between_them(settings) -> None:  # type: ignore[no-untyped-def]
    from service.analytics.suppression import suppress

    settings.suppression_threshold = T
    raw = _raw(EXAMPLE)
    alone = {key: suppress(table, row_labels=rows, col_labels=cols, threshold=T) for key, (table, rows, cols) in raw.items()}
    assert _leak(alone, raw) is not None  # the attacker finds it when figures are suppressed one by one
    assert _leak(publish.public_tables(raw), raw) is None


def _check_page(data, settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    raw = _raw(data)
    pubs = publish.public_tables(raw)
    shape = {key: (len(rows), len(cols)) for key, (_t, rows, cols) in raw.items()}
    links = publish.page_links(shape)
    # The links are true of the data: each group is one number in every table that shows it.
    for group in links:
        assert len({pubs[key].values[i][j] for key, (i, j) in group}) == 1, group
    total = sum(n for _r, n in data)
    for key, pub in pubs.items():
        for (i, j), kind in pub.hidden.items():
            value = pub.values[i][j]
            if 0 < value < T:
                assert not _attacker_can_pin(pubs, links, (key, (i, j)), value, total + T), (
                    key, (i, j), value, {k: p.grid() for k, p in pubs.items()})
        for i in range(pub.n_rows + 1):
            for j in range(pub.n_cols + 1):
                if 0 < pub.values[i][j] < T:
                    assert (i, j) in pub.hidden, (key, (i, j))


_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]


# Every suite run: a bounded search (the page's suppression runs the combined attacker itself, so two
# figures that bound a shared hidden number differently no longer pin it together).
@hsettings(max_examples=30, deadline=None, suppress_health_check=_HEALTH)
@given(data=reports)
def test_no_small_count_on_the_page_is_recoverable_from_all_figures_together(data, settings) -> None:  # type: ignore[no-untyped-def]
    _check_page(data, settings)


# The long search, on purpose (SAMLENG_TEST_PAGE_ATTACKER=1; about ten minutes on a loaded machine).
@pytest.mark.skipif(not os.environ.get("SAMLENG_TEST_PAGE_ATTACKER"),
                    reason="long search; set SAMLENG_TEST_PAGE_ATTACKER=1 to run it")
@hsettings(max_examples=1000, deadline=None, suppress_health_check=_HEALTH)
@given(data=reports)
def test_no_small_count_is_recoverable_long_search(data, settings) -> None:  # type: ignore[no-untyped-def]
    _check_page(data, settings)
