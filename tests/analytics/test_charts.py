"""The SVG charts: nice ticks, one empty state, readable labels, no hidden count in any chart."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, strategies as st

from service.analytics import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def _y_ticks(root: ET.Element) -> list[str]:
    axis = next(g for g in root.iter(f"{SVG}g") if "y-axis" in (g.get("class") or ""))
    return [t.text or "" for t in axis.iter(f"{SVG}text")]


@pytest.mark.parametrize(("top", "ticks"), [
    (0, [0, 1]), (1, [0, 1]), (2, [0, 1, 2]), (3, [0, 1, 2, 3]), (5, [0, 1, 2, 3, 4, 5]), (7, [0, 2, 4, 6, 8]),
    (28, [0, 10, 20, 30]), (32, [0, 10, 20, 30, 40]), (100, [0, 20, 40, 60, 80, 100]),
    (999_999, [0, 200_000, 400_000, 600_000, 800_000, 1_000_000]),
])
def test_nice_ticks_known_values(top: int, ticks: list[int]) -> None:
    assert charts.nice_ticks(top) == ticks


@given(st.integers(min_value=1, max_value=10**9))
def test_nice_ticks_are_few_round_integers_covering_the_top(top: int) -> None:
    ticks = charts.nice_ticks(top)
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and ticks[-1] >= top and ticks[-2] < top  # covers the max, no spare tick above it
    assert 2 <= len(ticks) <= 6
    assert all(isinstance(t, int) for t in ticks) and all(b - a == step for a, b in zip(ticks, ticks[1:]))
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert mantissa in (1, 2, 5)


def test_nice_ticks_for_fractions() -> None:
    assert charts.nice_ticks(0.37, integer=False) == [0, 0.1, 0.2, 0.3, 0.4]
    assert charts.nice_ticks(0.37) == [0, 1]  # counts never get fractional ticks


def test_line_chart_has_few_solid_gridlines_and_short_month_labels() -> None:
    root = _parse(charts.line_chart("Reports", ["2026-07", "2026-08", "2026-09"],
                                    {"SMS": [32, 0, 0], "Telegram": [4, 1, 0]}))
    assert _y_ticks(root) == ["0", "10", "20", "30", "40"]
    grid = [el for el in root.iter(f"{SVG}line") if el.get("class") == "grid"]
    assert len(grid) == 4 and not any(el.get("stroke-dasharray") for el in grid)
    texts = _texts(root)
    assert {"Jul 2026", "Aug", "Sep"} <= set(texts) and "2026-07" not in texts
    assert not any(el.get("transform") for el in root.iter(f"{SVG}text"))  # nothing rotated
    # Each series: its own colour, marker shape and dash, the same in the legend as on the plot.
    series = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("series ")]
    assert len(series) == 2
    first, second = (s.find(f"{SVG}path") for s in series)
    assert first.get("stroke") != second.get("stroke")  # type: ignore[union-attr]
    assert first.get("stroke-dasharray") != second.get("stroke-dasharray")  # type: ignore[union-attr]
    assert series[0].find(f"{SVG}g/{SVG}circle") is not None and series[1].find(f"{SVG}g/{SVG}rect") is not None
    assert root.get("role") == "img" and root.get("aria-label") == "Reports"
    assert root.find(f"{SVG}title").text == "Reports"  # type: ignore[union-attr]


def test_labels_never_overlap_they_thin_out() -> None:
    weeks = [f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in (5, 12, 19, 26)]
    root = _parse(charts.line_chart("Weekly", weeks, {"a": list(range(len(weeks)))}))
    axis = next(g for g in root.iter(f"{SVG}g") if "x-axis" in (g.get("class") or ""))
    xs = [float(t.get("x")) for t in axis.iter(f"{SVG}text")]  # type: ignore[arg-type]
    assert 4 <= len(xs) < len(weeks)
    widest = max(charts._text_width(t.text or "", charts.TEXT_SIZE) for t in axis.iter(f"{SVG}text"))
    assert min(b - a for a, b in zip(xs, xs[1:])) > widest


def test_khmer_months() -> None:
    assert charts.period_labels(["2026-12", "2027-01", "2027-02"], "km") == ["ធ្នូ 2026", "មករា 2027", "កុម្ភៈ"]
    assert charts.period_label("2026-Q3") == "Q3 2026" and charts.period_label("2026-07-06") == "6 Jul"


@pytest.mark.parametrize("draw", [
    lambda: charts.line_chart("Time", ["2026-07", "2026-08"], {"a": [0, 0], "b": [0, 0]}),
    lambda: charts.stacked_bar("Time", ["2026-07"], {"a": [0]}),
    lambda: charts.line_chart("Time", [], {}),
    lambda: charts.bar_chart("Time", {"under 1 day": 0, "1-3 days": 0}, horizontal=False),
    lambda: charts.bar_chart("Time", {}),
    lambda: charts.pie_chart("Time", {}),
])
def test_every_empty_chart_shows_the_same_empty_state(draw) -> None:  # type: ignore[no-untyped-def]
    charts.no_data_text("No reports yet.")
    root = _parse(draw())
    assert root.get("class") == "chart empty"
    assert _texts(root) == ["Time", "No reports yet."]  # no axis, no 0–1 ticks
    assert root.get("role") == "img"


def test_a_chart_of_only_hidden_counts_says_so() -> None:
    charts.no_data_text("No reports yet.", hidden="Too small to publish.")
    root = _parse(charts.stacked_bar("Trend", ["2026-07", "2026-08"], {"a": [None, 0], "b": [None, None]}))
    assert root.get("class") == "chart empty hidden" and _texts(root)[-1] == "Too small to publish."
    assert _parse(charts.pie_chart("S", {"yes": None})).get("class") == "chart empty hidden"


def test_a_hidden_count_leaves_a_gap_and_no_number() -> None:
    root = _parse(charts.bar_chart("Urgency", {"urgent": 12, "high": None, "normal": 0}))
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["12", "0"]  # nothing written for the hidden bar
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [r.find(f"{SVG}title").text for r in bars] == ["urgent: 12"]  # type: ignore[union-attr]
    line = _parse(charts.line_chart("T", ["2026-07", "2026-08", "2026-09"], {"a": [12, None, 14]}))
    assert not [p for p in line.iter(f"{SVG}path") if p.get("fill") == "none"]  # no line across the gap
    assert len([g for g in line.iter(f"{SVG}g") if g.get("class") == "point"]) == 2


def test_pie_legend_carries_the_numbers() -> None:
    root = _parse(charts.pie_chart("Deadlines", {"met": 30, "missed": 10}))
    assert {"met: 30 (75%)", "missed: 10 (25%)"} <= set(_texts(root))
    # With a hidden slice, shares of the shown ones would mislead: numbers only.
    partial = _texts(_parse(charts.pie_chart("Deadlines", {"met": 30, "missed": None})))
    assert "met: 30" in partial and not any("%" in t for t in partial)
    whole = _parse(charts.pie_chart("All", {"met": 5}))  # one slice: a full ring, not a broken arc
    assert whole.find(f"{SVG}g/{SVG}circle") is not None
