"""Suppression: no published table reveals a count under the threshold, even by subtraction."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from service.analytics.suppression import HIDDEN_COMPLEMENT, HIDDEN_SMALL, Published, ThresholdTooLow, suppress
from tests.support.attacker import can_pin


def _feasible_other_value(pub: Published, target: tuple[int, int], forbidden: int, cap: int) -> bool:
    """Is there any table consistent with everything published where target != forbidden?
    (tests/support/attacker.py: the exact attacker, here on one table.)"""
    return not can_pin({"table": pub}, ("table", target), forbidden, cap, threshold=pub.threshold)


counts = st.one_of(st.just(0), st.integers(1, 9), st.integers(10, 24))
tables = st.integers(1, 4).flatmap(
    lambda r: st.integers(1, 4).flatmap(lambda c: st.lists(st.lists(counts, min_size=c, max_size=c),
                                                           min_size=r, max_size=r)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, st.sampled_from([5, 10]))
def test_no_small_count_can_be_recovered(table: list[list[int]], threshold: int) -> None:
    pub = suppress(table, threshold=threshold)
    grand = pub.values[-1][-1]
    cap = grand + threshold
    for i in range(pub.n_rows + 1):
        for j in range(pub.n_cols + 1):
            value = pub.values[i][j]
            shown = pub.shown(i, j)
            if 0 < value < threshold:
                # Every small count is hidden as "<T" (or, in a table of tiny counts, withheld) ...
                assert shown in (f"<{threshold}", "-")
                # ... and no combination of published numbers pins it down.
                assert _feasible_other_value(pub, (i, j), value, cap), (table, threshold, pub.grid(), (i, j))
            else:
                assert shown in (str(value), "x", "-")


def test_example_row_with_one_small_cell_hides_a_partner() -> None:
    pub = suppress([[3, 40, 25], [12, 30, 18]], row_labels=["A", "B"], col_labels=["a", "b", "c"])
    assert pub.shown(0, 0) == "<10"
    hidden_row0 = [j for j in range(4) if (0, j) in pub.hidden]
    hidden_col0 = [i for i in range(3) if (i, 0) in pub.hidden]
    assert len(hidden_row0) >= 2 and len(hidden_col0) >= 2
    # The totals stay true and published where that is safe.
    assert pub.shown(2, 3) == "128"


def test_zero_is_published_and_large_counts_are_kept() -> None:
    pub = suppress([[0, 50], [20, 30]])
    assert pub.grid() == [["0", "50", "50"], ["20", "30", "50"], ["20", "80", "100"]]


def test_all_small_table_is_fully_hidden_where_needed() -> None:
    pub = suppress([[1, 2], [3, 1]])
    assert pub.shown(2, 2) == "<10"  # grand total 7
    assert all(kind in (HIDDEN_SMALL, HIDDEN_COMPLEMENT) for kind in pub.hidden.values())


def test_threshold_floor_is_enforced() -> None:
    with pytest.raises(ThresholdTooLow):
        suppress([[1]], threshold=4)
    assert suppress([[4]], threshold=5).shown(0, 0) == "<5"


def test_single_small_cell_in_a_series_cannot_be_subtracted_out() -> None:
    # One province with 4 reports, others large: the total must not give it away.
    pub = suppress([[120], [4], [55]], threshold=10)
    assert pub.shown(1, 0) == "<10"
    assert _feasible_other_value(pub, (1, 0), 4, pub.values[-1][-1] + 10)


def test_the_attacker_finds_a_naive_suppression() -> None:
    # Hiding only the small cell leaves it recoverable from its row total: the checker must say so.
    naive = Published(["A"], ["a", "b"], 10, [[3, 40, 43], [3, 40, 43]], {(0, 0): HIDDEN_SMALL})
    assert not _feasible_other_value(naive, (0, 0), 3, 60)
    # Two small cells hidden together with their totals shown: 3 + 4 = 7 pins neither by subtraction,
    # but the sums still bound them; the checker finds the other values.
    pair = Published(["A"], ["a", "b", "c"], 10, [[3, 4, 40, 47], [3, 4, 40, 47]],
                     {(0, 0): HIDDEN_SMALL, (0, 1): HIDDEN_SMALL, (1, 0): HIDDEN_SMALL, (1, 1): HIDDEN_SMALL})
    assert _feasible_other_value(pair, (0, 0), 3, 60)
