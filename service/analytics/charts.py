"""Server-rendered SVG charts (pygal) and the province map, with Khmer-capable fonts.

The charts are drawn by pygal, configured for readability (docs/analytics.md "Chart conventions"),
with no script and no external resource (`js=[]`, pygal's inline <script> stripped), so they work
offline, in the PDF and on the public page alike:

* value axes start at 0 with "nice" ticks (`nice_ticks`: steps of 1, 2 or 5 × 10^k, about 4–6 of
  them, integers for counts) handed to pygal as `y_labels`, and light solid gridlines (the Style);
* colours from the Okabe–Ito palette (safe for the common colour-vision deficiencies), and every
  line series also has its own dash pattern and dot size;
* x labels are short (Jul 2026, Aug, Sep …), never rotated: when they do not fit, every k-th one
  is written (`x_labels_major_every`);
* a chart with nothing to show draws one clear empty state ("No reports yet.", `empty_chart`);
* every chart SVG is `role="img"` with an `aria-label` and a `<title>`.

A value of None is a suppressed count: the chart leaves a gap (no mark, no number) and the
table under the chart says "<10" or "x". The chart functions never receive a hidden count.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import pygal
from pygal.style import Style

FONT_STACK = "'Noto Sans Khmer', 'Khmer OS', 'Khmer OS System', 'Noto Sans', 'DejaVu Sans', sans-serif"
# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, vermillion, reddish purple,
# sky blue, black, yellow; grey last (used for a ninth series such as "not known").
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442", "#999999")
# Dash patterns for line series, in the same order as the colours.
DASHES = ("", "7 4", "2 3", "10 3 2 3")
GEOJSON = Path(__file__).parent / "data" / "kh_provinces.geojson"

INK, MUTED, AXIS, GRID = "#222", "#555", "#888", "#e6e6e6"
TITLE_SIZE, TEXT_SIZE, LEGEND_SIZE = 16, 13, 13

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "km": ("មករា", "កុម្ភៈ", "មីនា", "មេសា", "ឧសភា", "មិថុនា", "កក្កដា", "សីហា", "កញ្ញា", "តុលា", "វិច្ឆិកា", "ធ្នូ"),
    "pt": ("Jan", "Fev", "Mar", "Abr", "Mai", "Jun", "Jul", "Ago", "Set", "Out", "Nov", "Dez"),
}


# The words an empty chart shows: per request/thread (a context variable), in the page's language.
_NO_DATA: ContextVar[str] = ContextVar("samleng_chart_no_data", default="No data")
_ALL_HIDDEN: ContextVar[str] = ContextVar(
    "samleng_chart_all_hidden", default="Every count here is too small to publish: see the table."
)


def no_data_text(text: str, *, hidden: str | None = None) -> None:
    """Set what empty charts drawn from here on (in this context) say: `text` when there is nothing to
    show, `hidden` when every count there is is suppressed."""
    _NO_DATA.set(text)
    if hidden is not None:
        _ALL_HIDDEN.set(hidden)


# -- axes -----------------------------------------------------------------------------------------


def nice_ticks(top: float, *, integer: bool = True, most: int = 6) -> list[float]:
    """Ticks from 0 to at least `top` in steps of 1, 2 or 5 × 10^k, at most `most` of them.

    The smallest such step that covers `top` in `most - 1` intervals is taken, so a chart gets
    about 4–6 ticks. With `integer` (counts) the step is at least 1. `top` <= 0 gives [0, 1].
    """
    if not top or top <= 0 or not math.isfinite(top):
        return [0, 1]
    if integer:
        top = math.ceil(top)
    intervals = max(1, most - 1)
    magnitude = 10.0 ** math.floor(math.log10(top / intervals))
    step = 0.0
    for base in (1, 2, 5, 10, 20):
        step = base * magnitude
        if integer and step < 1:
            continue
        if math.ceil(top / step - 1e-9) <= intervals:
            break
    n = max(1, math.ceil(top / step - 1e-9))
    if integer:
        step = int(round(step))
        return [i * step for i in range(n + 1)]
    digits = max(0, -math.floor(math.log10(step)))
    return [round(i * step, digits) for i in range(n + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def period_label(period: str, language: str = "en", *, previous: str | None = None) -> str:
    """A short x label: "2026-07" → "Jul 2026" (the year only on the first and on January),
    "2026-07-06" (a week's Monday) → "6 Jul", "2026-Q3" → "Q3 2026"; anything else as it is."""
    months = MONTHS.get(language, MONTHS["en"])
    parts = period.split("-")
    try:
        if len(parts) == 2 and parts[1].startswith("Q"):
            return f"{parts[1]} {parts[0]}"
        if len(parts) == 2:
            year, month = int(parts[0]), int(parts[1])
            new_year = previous is None or not previous.startswith(parts[0])
            return f"{months[month - 1]} {year}" if new_year else months[month - 1]
        if len(parts) == 3:
            return f"{int(parts[2])} {months[int(parts[1]) - 1]}"
    except (ValueError, IndexError):
        pass
    return period


def period_labels(periods: list[str], language: str = "en") -> list[str]:
    return [period_label(p, language, previous=periods[i - 1] if i else None) for i, p in enumerate(periods)]


def _text_width(text: str, size: float) -> float:
    """A rough rendered width: Latin ~0.58 em a character; Khmer's combining signs take no room."""
    width = 0.0
    for ch in text:
        code = ord(ch)
        if 0x17B4 <= code <= 0x17D3 and code not in (0x17B6, 0x17C4, 0x17C5):  # Khmer signs, subscripts
            continue
        width += 0.75 if 0x1780 <= code <= 0x17FF else (0.3 if ch in " .,:;'|il" else 0.58)
    return width * size


def _truncate(text: str, size: float, room: float) -> str:
    if _text_width(text, size) <= room:
        return text
    while text and _text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


# -- the empty states (a message, not a chart) ----------------------------------------------------------


def _open(title: str, width: int, height: int, kind: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
        f'font-family="{escape(FONT_STACK)}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text class="title" x="{width / 2:.0f}" y="24" text-anchor="middle" font-size="{TITLE_SIZE}" '
        f'font-weight="bold" fill="{INK}">{escape(title)}</text>',
    ]


def empty_chart(title: str, *, width: int = 560, height: int = 140, hidden: bool = False) -> str:
    """The one empty state every chart uses: its title and "No reports yet." (in the page's language),
    or, when there are counts but every one is suppressed, "… too small to publish: see the table"."""
    kind, message = ("empty hidden", _ALL_HIDDEN.get()) if hidden else ("empty", _NO_DATA.get())
    parts = _open(title, width, height, kind)
    # Centred, so a line wider than the chart would be cut off at both ends (a Khmer sentence lost its
    # first syllables): the message is wrapped to the chart's width, one <tspan> a line.
    size, line_height = 18, 26
    lines = wrap(message, size, width - 48)
    top = height / 2 + 16 - (len(lines) - 1) * line_height / 2
    spans = "".join(
        f'<tspan x="{width / 2:.0f}" y="{top + i * line_height:.0f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    parts.append(
        f'<text class="no-data" x="{width / 2:.0f}" y="{top:.0f}" text-anchor="middle" '
        f'font-size="{size}" fill="{MUTED}">{spans}</text></svg>'
    )
    return "".join(parts)


def _clusters(word: str) -> list[str]:
    """A word cut where a line may break inside it: never before a Khmer vowel sign or subscript,
    never after the subscript mark (coeng) — so no syllable is split."""
    out: list[str] = []
    for ch in word:
        code = ord(ch)
        joins = out and (0x17B6 <= code <= 0x17D3 or 0x17DD == code or ord(out[-1][-1]) == 0x17D2)
        if joins:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap(text: str, size: float, room: float) -> list[str]:
    """`text` in lines no wider than `room` (by `_text_width`): at spaces, and inside a word that alone
    is too wide (Khmer writes most sentences without spaces) between syllables."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if _text_width(candidate, size) <= room:
            line = candidate
            continue
        if line:
            lines.append(line)
            line = ""
        for piece in _clusters(word):
            if line and _text_width(line + piece, size) > room:
                lines.append(line)
                line = ""
            line += piece
    if line:
        lines.append(line)
    return lines or [""]


def _flat(values: list) -> list:
    return [v for vs in values for v in (vs if isinstance(vs, list) else [vs])]


def _empty(title: str, values: list, width: int) -> str | None:
    """The empty state when nothing can be drawn (no positive count shown), else None."""
    flat = _flat(values)
    if any(v for v in flat):
        return None
    return empty_chart(title, width=width, hidden=any(v is None for v in flat))


def _x_labels(labels: list[str], slot: float) -> int:
    """Write every k-th label so that none overlaps its neighbour (labels are never rotated)."""
    widest = max((_text_width(s, TEXT_SIZE) for s in labels), default=0) + 8
    return max(1, math.ceil(widest / slot)) if slot > 0 else 1


# -- pygal ----------------------------------------------------------------------------------------------

STYLE = Style(
    font_family=FONT_STACK,
    background="white",
    plot_background="white",
    foreground=MUTED,
    foreground_strong=INK,
    foreground_subtle=GRID,
    colors=PALETTE,
    opacity="1",
    opacity_hover="1",
    stroke_opacity="1",
    stroke_opacity_hover="1",
    stroke_width="2.5",
    stroke_width_hover="3.5",
    title_font_size=TITLE_SIZE,
    label_font_size=TEXT_SIZE,
    major_label_font_size=TEXT_SIZE,
    legend_font_size=LEGEND_SIZE,
    value_font_size=TEXT_SIZE,
    tooltip_font_size=TEXT_SIZE,
    no_data_font_size=18,
    # Light, solid gridlines (pygal's default is a dark dashed grid).
    guide_stroke_dasharray="none",
    major_guide_stroke_dasharray="none",
    guide_stroke_color=GRID,
    major_guide_stroke_color=GRID,
)
# Added to pygal's own CSS (scoped to its charts): a bold title, bars without pygal's see-through fill.
_CSS = "inline:.pygal-chart .title{font-weight:bold}.pygal-chart .text-overlay text.value{font-weight:bold}"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)
_ROOT = re.compile(r'<svg\b([^>]*?)\bclass="pygal-chart"')


def _chart(kind: type, title: str, *, width: int, height: int, **config: object) -> pygal.graph.graph.Graph:
    config = {
        "style": STYLE,
        "width": width,
        "height": height,
        "explicit_size": True,
        "js": [],
        "disable_xml_declaration": True,
        "no_data_text": _NO_DATA.get(),
        "x_label_rotation": 0,
        "y_label_rotation": 0,
        "truncate_legend": -1,
        "truncate_label": -1,
        "legend_box_size": 14,
        "formatter": _fmt,
        "value_formatter": _fmt,
        "margin": 12,
        "spacing": 12,
        "css": ("file://style.css", "file://graph.css", _CSS),
        **config,
    }
    chart = kind(**config)
    chart.title = title
    return chart


def _render(chart: pygal.graph.graph.Graph, title: str, kind: str) -> str:
    """pygal's SVG, without its inline <script> (no JS is loaded: `js=[]`, so it is dead weight, and a page
    with no script at all is simpler to trust and to print), as an image with a name for screen readers."""
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    label = escape(title, {'"': "&quot;"})
    return _ROOT.sub(
        lambda m: f'<svg{m.group(1)}class="pygal-chart chart {kind}" role="img" aria-label="{label}"', svg, count=1
    )


class _StackedBar(pygal.StackedBar):
    """pygal's stacked bars, but a suppressed count (None) stays None: pygal's own StackedBar turns it into
    0 (its `none_to_zero` adapter), which would draw a "0" tooltip for a count that is really "<10". Without
    the adapter pygal skips the segment, as its plain Bar does."""

    _adapters: list = []


def _value_axis(top_value: float) -> dict[str, object]:
    """pygal's value axis from 0 with our nice ticks (and nothing in between)."""
    ticks = nice_ticks(top_value)
    return {"y_labels": ticks, "range": (0, ticks[-1]), "min_scale": 2, "max_scale": len(ticks)}


def _time_axis(periods: list[str], width: int, language: str) -> dict[str, object]:
    labels = period_labels(periods, language)
    every = _x_labels(labels, (width - 80) / max(1, len(labels)))
    return {
        "x_labels": labels,
        "x_labels_major_every": every,
        "show_minor_x_labels": every == 1,
        "show_x_guides": False,
    }


def _legend(names: list[str], width: int) -> dict[str, object]:
    """pygal's legend under the plot, in as many columns as the longest name leaves room for (so no
    name runs into the next: pygal gives every column the same width)."""
    widest = max((_text_width(n, LEGEND_SIZE) for n in names), default=0) + 14 + 5 + 16
    columns = max(1, min(len(names), int((width - 24) // widest)))
    # pygal reserves room for floor(n / columns) rows of legend, one too few when the last row is partly
    # filled: add that row's height (1.5 × the box) to the bottom margin, else the last row is cut off.
    short = math.ceil(len(names) / columns) - len(names) // columns
    return {
        "legend_at_bottom": True,
        "legend_at_bottom_columns": columns,
        "margin_bottom": 12 + short * 1.5 * max(LEGEND_SIZE, 14),
    }


def line_chart(
    title: str,
    periods: list[str],
    series: Mapping[str, Sequence[int | None]],
    *,
    width: int = 560,
    height: int = 360,
    language: str = "en",
) -> str:
    """Counts over time, one line per value (colour, dot size and dash pattern); None = suppressed gap."""
    if (empty := _empty(title, list(series.values()) if periods else [], width)) is not None:
        return empty
    top_value = max((v for vs in series.values() for v in vs if v is not None), default=0)
    chart = _chart(
        pygal.Line,
        title,
        width=width,
        height=height,
        allow_interruptions=True,
        include_x_axis=True,
        show_dots=True,
        **_value_axis(top_value),
        **_time_axis(periods, width, language),
        **_legend(list(series), width),
    )
    dots = 5 if len(periods) <= 40 else 3
    for i, (name, values) in enumerate(series.items()):
        dash = DASHES[i % len(DASHES)]
        chart.add(
            name,
            values,
            dots_size=dots - (i % 3) * 0.8,
            stroke_style={"width": 2.5, "dasharray": dash or "none", "linejoin": "round"},
        )
    return _render(chart, title, "line-chart")


def stacked_bar(
    title: str,
    periods: list[str],
    series: Mapping[str, Sequence[int | None]],
    *,
    width: int = 560,
    height: int = 360,
    language: str = "en",
) -> str:
    """Counts per period stacked by value (first series at the bottom); None = a hidden, undrawn segment."""
    if (empty := _empty(title, list(series.values()) if periods else [], width)) is not None:
        return empty
    top_value = max(sum(vs[j] or 0 for vs in series.values()) for j in range(len(periods)))
    chart = _chart(
        _StackedBar,
        title,
        width=width,
        height=height,
        **_value_axis(top_value),
        **_time_axis(periods, width, language),
        **_legend(list(series), width),
    )
    for name, values in series.items():
        chart.add(name, values)
    return _render(chart, title, "stacked-bar")


def bar_chart(
    title: str, values: Mapping[str, int | None], *, width: int = 560, height: int = 320, horizontal: bool = True
) -> str:
    """One bar per label, its number written at its end; None = suppressed (no bar, no number: the table
    under the chart says "<10"). Horizontal charts grow with the number of bars (30 px a bar)."""
    if (empty := _empty(title, list(values.values()), width)) is not None:
        return empty
    top_value = max((v for v in values.values() if v is not None), default=0)
    names = list(values)
    if horizontal:
        height = int(60 + 30 * len(names) + 30)
        names = names[::-1]  # pygal draws the first bar at the bottom: the first label goes on top
    chart = _chart(
        pygal.HorizontalBar if horizontal else pygal.Bar,
        title,
        width=width,
        height=height,
        show_legend=False,
        print_values=True,
        print_values_position="top",
        **_value_axis(top_value),
    )
    chart.x_labels = [_truncate(n, TEXT_SIZE, width * 0.34) for n in names] if horizontal else names
    chart.add(title, [values[n] for n in names])
    return _render(chart, title, "bar-chart " + ("horizontal" if horizontal else "vertical"))


def pie_chart(title: str, values: Mapping[str, int | None], *, width: int = 560, height: int = 260) -> str:
    """A ring of shares; the legend beside it gives each slice's number and percentage (so colour is
    never the only key), and each slice carries its percentage."""
    shown = {k: v for k, v in values.items() if v}
    if not shown:  # hidden slices (None) are left out; if that is all there is, say so
        return empty_chart(title, width=width, hidden=any(v is None for v in values.values()))
    total = sum(shown.values())
    # With a hidden slice the shown ones do not add up to the whole: numbers only, no percentages.
    whole = not any(v is None for v in values.values())
    height = max(height, int(60 + 24 * len(shown)))
    share = (lambda v: f"{v / total:.0%}") if whole else _fmt
    chart = _chart(
        pygal.Pie,
        title,
        width=width,
        height=height,
        inner_radius=0.5,
        legend_at_bottom=False,
        print_values=whole,
        formatter=share,
    )
    for name, v in shown.items():
        chart.add(f"{name}: {_fmt(v)}" + (f" ({v / total:.0%})" if whole else ""), v)
    return _render(chart, title, "pie-chart")


@lru_cache(maxsize=1)
def province_points() -> dict[str, tuple[float, float, str, str]]:
    """code -> (lon, lat, name_en, name_km) from the shipped schematic GeoJSON."""
    doc = json.loads(GEOJSON.read_text(encoding="utf-8"))
    out = {}
    for f in doc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        out[f["properties"]["code"]] = (lon, lat, f["properties"]["name_en"], f["properties"]["name_km"])
    return out


SHAPES = Path(__file__).parent / "data" / "cambodia_provinces.geojson"
# Sequential blues (ColorBrewer "Blues"), light to dark; zero and hidden provinces get their own fills.
BINS = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
ZERO_FILL = "#f4f4f4"
HATCH_ID = "samleng-map-hatch"


@dataclass(frozen=True)
class ProvinceShape:
    code: str
    name_en: str
    name_km: str
    kind: str  # "boundary" (polygons) or "point" (no boundary in the source: drawn as a marked circle)
    polygons: tuple  # ((ring, ...), ...) of (lon, lat) for boundaries; () for points
    label: tuple[float, float]  # (lon, lat) where the value is written
    inside: str | None = None  # for a point: the province whose shape still covers it


@lru_cache(maxsize=1)
def province_shapes() -> dict[str, ProvinceShape]:
    """code -> shape, from the shipped GeoJSON (tools/build_province_geojson.py; Natural Earth, public domain)."""
    doc = json.loads(SHAPES.read_text(encoding="utf-8"))
    out = {}
    for f in doc["features"]:
        props, geom = f["properties"], f["geometry"]
        if geom["type"] == "Point":
            polygons: tuple = ()
        else:
            raw = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
            polygons = tuple(tuple(tuple((x, y) for x, y in ring) for ring in poly) for poly in raw)
        out[props["code"]] = ProvinceShape(
            props["code"],
            props["name_en"],
            props["name_km"],
            props["shape"],
            polygons,
            tuple(props["label"]),
            props.get("inside"),
        )
    return out


def map_covers(codes: Iterable[str]) -> bool:
    """Whether any of these province codes is on the map (a Southern-Africa-only deployment has none)."""
    shapes = province_shapes()
    return any(code in shapes for code in codes)


def legend_bins(values: list[int]) -> list[tuple[int, int]]:
    """Up to five classes (low, high) from the *shown* non-zero values, by quantiles of the distinct values."""
    distinct = sorted(set(v for v in values if v > 0))
    if not distinct:
        return []
    k = min(len(BINS), len(distinct))
    starts = sorted({distinct[(i * len(distinct)) // k] for i in range(k)})
    return [(lo, (starts[i + 1] - 1) if i + 1 < len(starts) else distinct[-1]) for i, lo in enumerate(starts)]


def _width_px(shape: ProvinceShape, px_per_degree: float) -> float:
    xs = [x for poly in shape.polygons for x, _ in poly[0]]
    return (max(xs) - min(xs)) * px_per_degree if xs else 0.0


def _shade(index: int, bins: list[tuple[int, int]]) -> int:
    """The palette entry of class `index`: spread over the whole ramp when there are fewer classes."""
    if len(bins) <= 1:
        return len(BINS) // 2
    return round(index * (len(BINS) - 1) / (len(bins) - 1))


def _bin_of(value: int, bins: list[tuple[int, int]]) -> int:
    for i, (lo, hi) in enumerate(bins):
        if lo <= value <= hi:
            return i
    return len(bins) - 1


def province_map(
    title: str,
    shown: dict[str, str],
    counts: Mapping[str, int | None],
    *,
    language: str = "en",
    links: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    width: int = 640,
) -> str:
    """Choropleth of reports per province from the shipped boundaries, as inline SVG (no script).

    `shown` is the text per province code ("<10", "x", "-" or the number); `counts` the number the
    shading may use: None for a hidden count. A hidden province gets the hatched fill and its shown
    text ("<10") only, in its class, title and attributes alike: its value is never passed in. The
    classes are cut from the shown values only. `links` (code -> href) makes each province a link
    (the dashboard's drill-down). `labels` translates "zero" / "hidden" for the legend. The notes
    (source, Tboung Khmum) go in the figure's HTML caption, where long lines wrap.
    """
    labels = labels or {}
    shapes = province_shapes()
    lon0, lon1, lat0, lat1 = 102.30, 107.70, 10.30, 14.75
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    pad, top = 12, 34
    scale = (width - 2 * pad) / ((lon1 - lon0) * kx)
    map_h = (lat1 - lat0) * scale
    height = int(top + map_h + pad)

    def xy(lon: float, lat: float) -> str:
        return f"{pad + (lon - lon0) * kx * scale:.1f},{top + (lat1 - lat) * scale:.1f}"

    visible = [v for code, v in counts.items() if code in shapes and v]
    bins = legend_bins([v for v in visible if v is not None])
    any_hidden = any(counts.get(code, 0) is None for code in shapes)
    title_id = "province-map-title"  # one map per page
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="province-map" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="group" aria-labelledby="{title_id}" '
        f'font-family="{escape(FONT_STACK)}">',
        f'<defs><pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="6" height="6" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fafafa"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/></pattern></defs>',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text id="{title_id}" x="{width / 2}" y="22" text-anchor="middle" font-size="16" fill="#111">'
        f"{escape(title)}</text>",
    ]
    marks, texts = [], []
    # Boundaries first, then the provinces drawn as circles (on top of the shape that covers them).
    for code, shape in sorted(shapes.items(), key=lambda kv: kv[1].kind != "boundary"):
        name = shape.name_km if language == "km" else shape.name_en
        value = counts.get(code, 0)
        text = shown.get(code, "0")
        if value is None:
            css, fill = "province hidden", f"url(#{HATCH_ID})"
        elif value == 0:
            css, fill = "province zero", ZERO_FILL
        else:
            k = _bin_of(value, bins)
            css, fill = f"province bin-{k}", BINS[_shade(k, bins)]
        tip = f"{name}: {text}"
        if shape.kind == "boundary":
            d = " ".join(
                "M" + " L".join(xy(x, y) for x, y in ring[:-1]) + " Z" for poly in shape.polygons for ring in poly
            )
            mark = (
                f'<path class="{css}" data-code="{escape(code)}" d="{d}" fill="{fill}" fill-rule="evenodd" '
                f'stroke="#555" stroke-width="0.7" stroke-linejoin="round"><title>{escape(tip)}</title></path>'
            )
        else:
            cx, cy = xy(*shape.label).split(",")
            mark = (
                f'<circle class="{css} no-boundary" data-code="{escape(code)}" cx="{cx}" cy="{cy}" r="9" '
                f'fill="{fill}" stroke="#111" stroke-width="1.2" stroke-dasharray="3 2">'
                f"<title>{escape(tip)}</title></circle>"
            )
        if links and code in links:
            mark = f'<a href="{escape(links[code])}" aria-label="{escape(tip)}">{mark}</a>'
        marks.append(mark)
        if text != "0":
            lx, ly = (float(v) for v in xy(*shape.label).split(","))
            anchor, dark = "middle", bool(value) and _shade(_bin_of(value or 0, bins), bins) >= 3
            if shape.kind != "boundary":  # a circle's value sits to its right
                lx, ly, anchor, dark = lx + 12, ly + 4, "start", False
            elif _width_px(shape, kx * scale) < 28:  # too small to hold its number: a short leader line
                texts.append(
                    f'<line x1="{lx:.1f}" y1="{ly:.1f}" x2="{lx - 20:.1f}" y2="{ly + 14:.1f}" '
                    f'stroke="#333" stroke-width="0.8" aria-hidden="true"/>'
                )
                lx, ly, anchor, dark = lx - 22, ly + 22, "end", False
            else:
                ly += 4
            paint = (
                'fill="#fff" stroke="#08306b" stroke-width="2" paint-order="stroke"'
                if dark
                else 'fill="#111" stroke="#fff" stroke-width="2.5" paint-order="stroke"'
            )
            texts.append(
                f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="10" '
                f'font-weight="bold" {paint} aria-hidden="true">{escape(text)}</text>'
            )
    parts += marks + texts
    # Legend, in the empty corner east of the Mekong delta.
    lx, ly = width - 150, top + map_h - 18 * (len(bins) + 1 + any_hidden) - 4
    rows = [(ZERO_FILL, labels.get("zero", "0"))]
    rows += [(BINS[_shade(i, bins)], f"{lo}" if lo == hi else f"{lo}–{hi}") for i, (lo, hi) in enumerate(bins)]
    if any_hidden:
        rows.append((f"url(#{HATCH_ID})", labels.get("hidden", "<10")))
    parts.append(f'<g class="legend" transform="translate({lx:.0f},{ly:.0f})">')
    for i, (fill, text) in enumerate(rows):
        parts.append(
            f'<rect x="0" y="{i * 18}" width="16" height="12" fill="{fill}" stroke="#555" '
            f'stroke-width="0.6"/><text x="22" y="{i * 18 + 10}" font-size="11" fill="#222">'
            f"{escape(text)}</text>"
        )
    parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
