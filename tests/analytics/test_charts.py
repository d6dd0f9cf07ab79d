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
    # A wrapped message is one <text> of several <tspan> lines: its lines, joined by a space.
    return [" ".join(s for s in el.itertext() if s) for el in root.iter(f"{SVG}text")]


def _axis_texts(root: ET.Element, axis: str) -> list[str]:
    """The labels pygal writes on one axis ("y", or "x"; a horizontal bar chart's value axis is "x")."""
    g = next(g for g in root.iter(f"{SVG}g") if (g.get("class") or "").split()[:2] == ["axis", axis])
    return [t.text or "" for t in g.iter(f"{SVG}text")]


def _y_ticks(root: ET.Element) -> list[str]:
    return _axis_texts(root, "y")


def _css(svg: str) -> str:
    return svg[svg.index("<style"):svg.index("</style>")]


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
    svg = charts.line_chart("Reports", ["2026-07", "2026-08", "2026-09"], {"SMS": [32, 0, 0], "Telegram": [4, 1, 0]})
    root = _parse(svg)
    assert root.get("class") == "pygal-chart chart line-chart"  # drawn by pygal
    assert _y_ticks(root) == ["0", "10", "20", "30", "40"] == [str(t) for t in charts.nice_ticks(32)]
    css = _css(svg)  # light solid guides, not pygal's dark dashed default
    assert ".axis .guide.line{stroke-dasharray:none;stroke:#e6e6e6}" in css
    assert "4,4" not in css and "6,6" not in css
    assert _axis_texts(root, "x") == ["Jul 2026", "Aug", "Sep"]
    assert not any(el.get("transform") for el in root.iter(f"{SVG}text"))  # nothing rotated
    assert not root.findall(f".//{SVG}script") and "<script" not in svg and "cdn" not in svg.lower()
    # Each series: its own colour and dash pattern (and dot size).
    assert ".color-0," in css and charts.PALETTE[0] in css and charts.PALETTE[1] in css
    assert ".serie-0{stroke-width:2.5;stroke-linejoin:round;stroke-dasharray:none}" in css
    assert ".serie-1{stroke-width:2.5;stroke-linejoin:round;stroke-dasharray:7 4}" in css
    radii = {s.get("class"): {c.get("r") for c in s.iter(f"{SVG}circle")} for s in root.iter(f"{SVG}g")
             if (s.get("class") or "").startswith("series ") and s.find(f".//{SVG}circle") is not None}
    assert len(radii) == 2 and len(set.union(*radii.values())) == 2
    legend = [t.text for g in root.iter(f"{SVG}g") if g.get("class") == "legends" for t in g.iter(f"{SVG}text")]
    assert legend == ["SMS", "Telegram"]
    assert root.get("role") == "img" and root.get("aria-label") == "Reports"
    assert root.find(f"{SVG}title").text == "Reports"  # type: ignore[union-attr]


@pytest.mark.parametrize("top", [1, 7, 28, 999])
def test_every_value_axis_has_exactly_the_nice_ticks(top: int) -> None:
    expected = [f"{t:,}" for t in charts.nice_ticks(top)]
    assert _y_ticks(_parse(charts.line_chart("L", ["2026-07", "2026-08"], {"a": [top, 1]}))) == expected
    assert _y_ticks(_parse(charts.stacked_bar("S", ["2026-07", "2026-08"], {"a": [top - 1, 1], "b": [1, 0]}))) \
        == expected
    assert _y_ticks(_parse(charts.bar_chart("B", {"a": top, "b": 1}, horizontal=False))) == expected
    assert _axis_texts(_parse(charts.bar_chart("H", {"a": top, "b": 1})), "x") == expected


def test_labels_never_overlap_they_thin_out() -> None:
    weeks = [f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in (5, 12, 19, 26)]
    root = _parse(charts.line_chart("Weekly", weeks, {"a": list(range(len(weeks)))}))
    axis = next(g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("axis x"))
    written = [t for t in axis.iter(f"{SVG}text") if t.text]
    xs = [float(t.get("x")) for t in written]  # type: ignore[arg-type]
    assert 4 <= len(xs) < len(weeks)
    widest = max(charts._text_width(t.text or "", charts.TEXT_SIZE) for t in written)
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
    svg = charts.bar_chart("Urgency", {"urgent": 12, "high": None, "normal": 0})
    root = _parse(svg)
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert sorted(values) == ["0", "12"]  # nothing written for the hidden bar
    tips = [d.text for d in root.iter(f"{SVG}desc") if d.get("class") == "value"]
    assert sorted(tips) == ["0", "12"]  # and no tooltip value for it
    assert _axis_texts(root, "y") == ["normal", "high", "urgent"]  # pygal stacks bottom-up: "urgent" on top
    assert "None" not in svg
    line_svg = charts.line_chart("T", ["2026-07", "2026-08", "2026-09"], {"a": [12, None, 14]})
    line = _parse(line_svg)
    assert not [p for g in line.iter(f"{SVG}g") if (g.get("class") or "").startswith("series ")
                for p in g.iter(f"{SVG}path")]  # no line drawn across the gap (and none of a single point)
    assert len([g for g in line.iter(f"{SVG}g") if g.get("class") == "dots"]) == 2
    assert "None" not in line_svg
    stacked = charts.stacked_bar("S", ["2026-07", "2026-08"], {"a": [3, None], "b": [12, 5]})
    assert sorted(d.text for d in _parse(stacked).iter(f"{SVG}desc") if d.get("class") == "value") \
        == ["12", "3", "5"] and "None" not in stacked


def test_pie_legend_carries_the_numbers() -> None:
    root = _parse(charts.pie_chart("Deadlines", {"met": 30, "missed": 10}))
    assert root.get("class") == "pygal-chart chart pie-chart"
    assert {"met: 30 (75%)", "missed: 10 (25%)", "75%", "25%"} <= set(_texts(root))
    # With a hidden slice, shares of the shown ones would mislead: numbers only.
    partial_svg = charts.pie_chart("Deadlines", {"met": 30, "missed": None})
    partial = _texts(_parse(partial_svg))
    assert "met: 30" in partial and not any("%" in t for t in partial) and "missed" not in partial_svg
    whole = _texts(_parse(charts.pie_chart("All", {"met": 5})))
    assert "met: 5 (100%)" in whole


@pytest.mark.parametrize("n", [1, 3, 5, 7, 9])
def test_the_whole_legend_fits_inside_the_chart(n: int) -> None:
    # Long names take fewer columns; a partly filled last row still fits (pygal alone reserves one row too few).
    names = {f"a rather long category name {i}": [i + 1, 2] for i in range(n)}
    for svg in (charts.stacked_bar("T", ["2026-07", "2026-08"], names, height=360),
                charts.line_chart("T", ["2026-07", "2026-08"], names, height=360)):
        root = _parse(svg)
        legends = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legends")
        dx, dy = (float(v) for v in legends.get("transform", "")[len("translate("):-1].split(","))  # type: ignore[union-attr]
        boxes = [(float(r.get("x")), float(r.get("y"))) for r in legends.iter(f"{SVG}rect")]  # type: ignore[arg-type]
        assert len(boxes) == n and max(y for _, y in boxes) + dy + 14 <= 360
        texts = [t.text for t in legends.iter(f"{SVG}text")]
        assert texts == list(names)  # never truncated
        columns = len({x for x, _ in boxes})
        widest = max(charts._text_width(t or "", charts.LEGEND_SIZE) for t in texts)
        assert columns == 1 or (560 - 2 * dx) / columns > widest + 14  # a column holds its longest name


def test_a_long_khmer_empty_state_wraps_between_syllables() -> None:
    """Centred text wider than the chart is cut off at both ends: the message wraps to the chart's width,
    at spaces and (Khmer has few) between syllables, never splitting one."""
    message = "ចំនួនទាំងអស់នៅទីនេះតូចពេកមិនអាចផ្សព្វផ្សាយបានទេ៖ សូមមើលតារាង។"
    lines = charts.wrap(message, 18, 200)
    assert len(lines) > 2 and "".join(lines) == message.replace(" ", "")
    assert all(charts._text_width(line, 18) <= 200 for line in lines)
    for line in lines[1:]:  # no line starts with a vowel sign or a subscript
        assert not 0x17B6 <= ord(line[0]) <= 0x17D3 and ord(lines[lines.index(line) - 1][-1]) != 0x17D2
