"""Server-rendered SVG charts and the province map, with Khmer-capable fonts.

Plain SVG written here (no charting library, no script, no external resource), so the charts
work offline, in the PDF and on the public page alike, and look the same everywhere. The
conventions (docs/analytics.md "Chart conventions"):

* value axes start at 0 with "nice" ticks (steps of 1, 2 or 5 × 10^k, about 4–6 of them,
  integers for counts) and light solid gridlines;
* colours from the Okabe–Ito palette (safe for the common colour-vision deficiencies), and
  every line series also has its own marker shape and dash pattern, shown in the legend;
* x labels are short (Jul 2026, Aug, Sep …), never rotated: when they do not fit, every
  k-th one is written;
* a chart with nothing to show draws one clear empty state ("No reports yet.");
* every SVG is `role="img"` with an `aria-label` and a `<title>`, and each mark has its own
  `<title>` tooltip ("series, period: value").

A value of None is a suppressed count: the chart leaves a gap (no mark, no number) and the
table under the chart says "<10" or "x". The chart functions never receive a hidden count.
"""

from __future__ import annotations

import json
import math
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

FONT_STACK = "'Noto Sans Khmer', 'Khmer OS', 'Khmer OS System', 'Noto Sans', 'DejaVu Sans', sans-serif"
# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, vermillion, reddish purple,
# sky blue, black, yellow; grey last (used for a ninth series such as "not known").
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442", "#999999")
# Marker shapes and dash patterns for line series, in the same order as the colours.
MARKERS = ("circle", "square", "triangle", "diamond", "triangle-down", "plus", "cross", "ring", "box")
DASHES = ("", "7 4", "2 3", "10 3 2 3")
GEOJSON = Path(__file__).parent / "data" / "kh_provinces.geojson"

INK, MUTED, AXIS, GRID = "#222", "#555", "#888", "#e6e6e6"
TITLE_SIZE, TEXT_SIZE, LEGEND_SIZE = 16, 13, 13

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "km": ("មករា", "កុម្ភៈ", "មីនា", "មេសា", "ឧសភា", "មិថុនា", "កក្កដា", "សីហា", "កញ្ញា", "តុលា", "វិច្ឆិកា",
           "ធ្នូ"),
}


# The words an empty chart shows: per request/thread (a context variable), in the page's language.
_NO_DATA: ContextVar[str] = ContextVar("samleng_chart_no_data", default="No data")
_ALL_HIDDEN: ContextVar[str] = ContextVar("samleng_chart_all_hidden",
                                          default="Every count here is too small to publish: see the table.")


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


# -- SVG pieces -------------------------------------------------------------------------------------

def _open(title: str, width: int, height: int, kind: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
            f'font-family="{escape(FONT_STACK)}">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="white"/>',
            f'<text class="title" x="{width / 2:.0f}" y="24" text-anchor="middle" font-size="{TITLE_SIZE}" '
            f'font-weight="bold" fill="{INK}">{escape(title)}</text>']


def empty_chart(title: str, *, width: int = 560, height: int = 140, hidden: bool = False) -> str:
    """The one empty state every chart uses: its title and "No reports yet." (in the page's language),
    or, when there are counts but every one is suppressed, "… too small to publish: see the table"."""
    kind, message = ("empty hidden", _ALL_HIDDEN.get()) if hidden else ("empty", _NO_DATA.get())
    parts = _open(title, width, height, kind)
    parts.append(f'<text class="no-data" x="{width / 2:.0f}" y="{height / 2 + 16:.0f}" text-anchor="middle" '
                 f'font-size="18" fill="{MUTED}">{escape(message)}</text></svg>')
    return "".join(parts)


def _flat(values: list) -> list:  # type: ignore[type-arg]
    return [v for vs in values for v in (vs if isinstance(vs, list) else [vs])]


def _empty(title: str, values: list, width: int) -> str | None:  # type: ignore[type-arg]
    """The empty state when nothing can be drawn (no positive count shown), else None."""
    flat = _flat(values)
    if any(v for v in flat):
        return None
    return empty_chart(title, width=width, hidden=any(v is None for v in flat))


def marker(shape: str, x: float, y: float, r: float, colour: str) -> str:
    """A marker shape centred on (x, y); a white edge keeps it apart from lines and other markers."""
    edge = f'stroke="{"#555" if colour == PALETTE[7] else "white"}" stroke-width="1"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}" {edge}/>'
    if shape == "ring":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r * 0.85:.1f}" fill="white" stroke="{colour}" stroke-width="2"/>'
    if shape == "square":
        s = r * 0.9
        return f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}" fill="{colour}" {edge}/>'
    if shape == "box":
        s = r * 0.8
        return (f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}" fill="white" '
                f'stroke="{colour}" stroke-width="2"/>')
    if shape in ("plus", "cross"):
        a = r * (1.0 if shape == "plus" else 0.8)
        d = (f"M{x - a:.1f},{y:.1f}H{x + a:.1f}M{x:.1f},{y - a:.1f}V{y + a:.1f}" if shape == "plus" else
             f"M{x - a:.1f},{y - a:.1f}L{x + a:.1f},{y + a:.1f}M{x - a:.1f},{y + a:.1f}L{x + a:.1f},{y - a:.1f}")
        return f'<path d="{d}" stroke="{colour}" stroke-width="2.5" fill="none"/>'
    points = {"triangle": ((0, -1.2), (1.1, 0.8), (-1.1, 0.8)), "triangle-down": ((0, 1.2), (1.1, -0.8), (-1.1, -0.8)),
              "diamond": ((0, -1.25), (1.1, 0), (0, 1.25), (-1.1, 0))}[shape]
    pts = " ".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in points)
    return f'<polygon points="{pts}" fill="{colour}" {edge}/>'


def _legend(names: list[str], width: int, y: float, *, kind: str) -> tuple[list[str], float]:
    """Legend items flowing left to right, wrapping; returns the SVG and the height used."""
    parts, x, row, gap, swatch = [], 16.0, 0, 18, 28 if kind == "line" else 14
    rows: list[list[tuple[int, str, float]]] = [[]]
    for i, name in enumerate(names):
        text = _truncate(name, LEGEND_SIZE, width * 0.45)
        item = swatch + 6 + _text_width(text, LEGEND_SIZE)
        if rows[-1] and x + item > width - 16:
            rows.append([])
            x = 16.0
        rows[-1].append((i, text, item))
        x += item + gap
    line_h = 20
    for row, items in enumerate(rows):
        total = sum(w for _, _, w in items) + gap * (len(items) - 1)
        x = max(16.0, (width - total) / 2)
        cy = y + row * line_h + line_h / 2
        for i, text, item in items:
            colour = PALETTE[i % len(PALETTE)]
            parts.append(f'<g class="legend-item">')
            if kind == "line":
                dash = DASHES[i % len(DASHES)]
                parts.append(f'<line x1="{x:.1f}" y1="{cy:.1f}" x2="{x + swatch:.1f}" y2="{cy:.1f}" stroke="{colour}" '
                             f'stroke-width="2.5"{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}/>')
                parts.append(marker(MARKERS[i % len(MARKERS)], x + swatch / 2, cy, 5, colour))
            else:
                parts.append(f'<rect x="{x:.1f}" y="{cy - 7:.1f}" width="14" height="14" fill="{colour}" '
                             f'stroke="#555" stroke-width="0.5"/>')
            parts.append(f'<text x="{x + swatch + 6:.1f}" y="{cy + 4.5:.1f}" font-size="{LEGEND_SIZE}" fill="{INK}">'
                         f'{escape(text)}</text></g>')
            x += item + gap
    return parts, len(rows) * line_h


def _x_labels(labels: list[str], slot: float) -> int:
    """Write every k-th label so that none overlaps its neighbour (labels are never rotated)."""
    widest = max((_text_width(s, TEXT_SIZE) for s in labels), default=0) + 8
    return max(1, math.ceil(widest / slot)) if slot > 0 else 1


@dataclass
class _Plot:
    left: float
    top: float
    right: float
    bottom: float
    ticks: list[float]

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.ticks[-1]


def _value_axis(parts: list[str], top_value: float, *, width: int, height: int, top: float,
                x_labels: list[str]) -> _Plot:
    """Draw the y axis (nice ticks, light solid gridlines) and the x labels; returns the plot area."""
    ticks = nice_ticks(top_value)
    left = 16 + max(_text_width(_fmt(t), TEXT_SIZE) for t in ticks) + 8
    plot = _Plot(left, top, width - 16, height - 30, ticks)
    parts.append('<g class="axis y-axis">')
    for tick in ticks:
        y = plot.y(tick)
        colour = AXIS if tick == 0 else GRID
        parts.append(f'<line class="{"baseline" if tick == 0 else "grid"}" x1="{plot.left:.1f}" y1="{y:.1f}" '
                     f'x2="{plot.right:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="1"/>')
        parts.append(f'<text x="{plot.left - 8:.1f}" y="{y + 4.5:.1f}" text-anchor="end" font-size="{TEXT_SIZE}" '
                     f'fill="{MUTED}">{_fmt(tick)}</text>')
    parts.append("</g>")
    slot = (plot.right - plot.left) / max(1, len(x_labels))
    every = _x_labels(x_labels, slot)
    parts.append('<g class="axis x-axis">')
    for i, text in enumerate(x_labels):
        x = plot.left + (i + 0.5) * slot
        # A short tick under every period, so a bar between two written labels is still placed.
        parts.append(f'<line class="tick" x1="{x:.1f}" y1="{plot.bottom:.1f}" x2="{x:.1f}" '
                     f'y2="{plot.bottom + (5 if i % every == 0 else 3):.1f}" stroke="{AXIS}" stroke-width="1"/>')
        if i % every:
            continue
        parts.append(f'<text x="{x:.1f}" y="{plot.bottom + 20:.1f}" text-anchor="middle" font-size="{TEXT_SIZE}" '
                     f'fill="{MUTED}">{escape(text)}</text>')
    parts.append("</g>")
    return plot


def _tip(*words: object) -> str:
    return f"<title>{escape(', '.join(str(w) for w in words[:-1]))}: {escape(str(words[-1]))}</title>"


# -- the charts -------------------------------------------------------------------------------------

def _over_time(title: str, periods: list[str], series: dict[str, list[int | None]], *, width: int, height: int,
               language: str, kind: str) -> str | tuple[list[str], _Plot, list[str], float]:
    """Title, legend, y axis and period labels of a chart over time (a line chart, or stacked bars when
    `kind` is "bar": its axis then covers the stacked totals). Returns the empty state when there is
    nothing to draw, else (svg parts so far, plot area, x labels, width of one period)."""
    if (empty := _empty(title, list(series.values()) if periods else [], width)) is not None:
        return empty
    parts = _open(title, width, height, "line-chart" if kind == "line" else "stacked-bar")
    legend, used = _legend(list(series), width, 36, kind=kind)
    parts += legend
    labels = period_labels(periods, language)
    if kind == "line":
        top_value = max((v for vs in series.values() for v in vs if v is not None), default=0)
    else:
        top_value = max(sum(vs[j] or 0 for vs in series.values()) for j in range(len(periods)))
    plot = _value_axis(parts, top_value, width=width, height=height, top=36 + used + 12, x_labels=labels)
    return parts, plot, labels, (plot.right - plot.left) / len(periods)


def line_chart(title: str, periods: list[str], series: dict[str, list[int | None]], *, width: int = 560,
               height: int = 360, language: str = "en") -> str:
    """Counts over time, one line per value (colour, marker shape and dash pattern); None = suppressed gap."""
    frame = _over_time(title, periods, series, width=width, height=height, language=language, kind="line")
    if isinstance(frame, str):
        return frame
    parts, plot, labels, slot = frame
    r = 5 if slot >= 14 else 3.5
    for i, (name, values) in enumerate(series.items()):
        colour, dash = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]
        parts.append(f'<g class="series series-{i}">')
        points = [(plot.left + (j + 0.5) * slot, plot.y(v)) if v is not None else None for j, v in enumerate(values)]
        runs, run = [], []
        for point in points + [None]:
            if point is None:
                if len(run) > 1:
                    runs.append(run)
                run = []
            else:
                run.append(point)
        for run in runs:
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2.5" stroke-linejoin="round"'
                         f'{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}/>')
        for j, point in enumerate(points):
            if point is not None:
                parts.append(f'<g class="point">{_tip(name, labels[j], _fmt(values[j]))}'  # type: ignore[arg-type]
                             f'{marker(MARKERS[i % len(MARKERS)], point[0], point[1], r, colour)}</g>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar(title: str, periods: list[str], series: dict[str, list[int | None]], *, width: int = 560,
                height: int = 360, language: str = "en") -> str:
    """Counts per period stacked by value (first series at the bottom); None = a hidden, undrawn segment."""
    frame = _over_time(title, periods, series, width=width, height=height, language=language, kind="bar")
    if isinstance(frame, str):
        return frame
    parts, plot, labels, slot = frame
    bar = min(slot * 0.64, 72)
    base = [0] * len(periods)
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<g class="series series-{i}">')
        for j, v in enumerate(values):
            if not v:
                continue
            x = plot.left + (j + 0.5) * slot - bar / 2
            y0, y1 = plot.y(base[j]), plot.y(base[j] + v)
            parts.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar:.1f}" height="{y0 - y1:.1f}" fill="{colour}" '
                         f'stroke="white" stroke-width="1">{_tip(name, labels[j], _fmt(v))}</rect>')
            base[j] += v
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _bar_mark(name: str, value: int, box: tuple[float, float, float, float], at: tuple[float, float],
              anchor: str) -> str:
    """One shown count: its bar (none for 0) with a tooltip, and its number written at `at`."""
    x, y, w, h = box
    bar = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
           f'{_tip(name, _fmt(value))}</rect>') if value else ""
    return (f'{bar}<text class="value" x="{at[0]:.1f}" y="{at[1]:.1f}" text-anchor="{anchor}" '
            f'font-size="{TEXT_SIZE}" fill="{INK}">{_fmt(value)}</text>')


def bar_chart(title: str, values: dict[str, int | None], *, width: int = 560, height: int = 320,
              horizontal: bool = True) -> str:
    """One bar per label, its number written at its end; None = suppressed (no bar, no number: the table
    under the chart says "<10"). Horizontal charts grow with the number of bars (26 px a bar)."""
    if (empty := _empty(title, list(values.values()), width)) is not None:
        return empty
    top_value = max((v for v in values.values() if v is not None), default=0)
    names = list(values)
    if horizontal:
        row = 26
        room = width * 0.34
        shown = [_truncate(n, TEXT_SIZE, room) for n in names]
        left = 16 + max(_text_width(s, TEXT_SIZE) for s in shown) + 10
        height = int(36 + 12 + row * len(names) + 34)
        parts = _open(title, width, height, "bar-chart horizontal")
        ticks = nice_ticks(top_value)
        top, bottom, right = 48.0, 48.0 + row * len(names), width - 40.0
        scale = (right - left) / ticks[-1]
        parts.append('<g class="axis x-axis">')
        for tick in ticks:
            x = left + tick * scale
            parts.append(f'<line class="{"baseline" if tick == 0 else "grid"}" x1="{x:.1f}" y1="{top:.1f}" '
                         f'x2="{x:.1f}" y2="{bottom:.1f}" stroke="{AXIS if tick == 0 else GRID}" stroke-width="1"/>')
            parts.append(f'<text x="{x:.1f}" y="{bottom + 20:.1f}" text-anchor="middle" font-size="{TEXT_SIZE}" '
                         f'fill="{MUTED}">{_fmt(tick)}</text>')
        parts.append('</g><g class="bars">')
        for k, (name, text) in enumerate(zip(names, shown)):
            y = top + k * row
            v = values[name]
            parts.append(f'<text x="{left - 10:.1f}" y="{y + row / 2 + 4.5:.1f}" text-anchor="end" '
                         f'font-size="{TEXT_SIZE}" fill="{INK}">{escape(text)}</text>')
            if v is not None:
                parts.append(_bar_mark(name, v, (left, y + 4, v * scale, row - 8),
                                       (left + v * scale + 6, y + row / 2 + 4.5), "start"))
        parts.append("</g></svg>")
        return "".join(parts)
    parts = _open(title, width, height, "bar-chart vertical")
    plot = _value_axis(parts, top_value, width=width, height=height, top=48, x_labels=names)
    slot = (plot.right - plot.left) / len(names)
    bar = min(slot * 0.64, 90)
    parts.append('<g class="bars">')
    for j, name in enumerate(names):
        v = values[name]
        cx = plot.left + (j + 0.5) * slot
        if v is not None:
            parts.append(_bar_mark(name, v, (cx - bar / 2, plot.y(v), bar, plot.bottom - plot.y(v)),
                                   (cx, plot.y(v) - 6), "middle"))
    parts.append("</g></svg>")
    return "".join(parts)


def pie_chart(title: str, values: dict[str, int | None], *, width: int = 560, height: int = 260) -> str:
    """A ring of shares; the legend beside it gives each slice's number and percentage (so colour is
    never the only key), and slices of 8 % or more carry their percentage."""
    shown = {k: v for k, v in values.items() if v}
    if not shown:  # hidden slices (None) are left out; if that is all there is, say so
        return empty_chart(title, width=width, hidden=any(v is None for v in values.values()))
    total = sum(shown.values())  # type: ignore[arg-type]
    # With a hidden slice the shown ones do not add up to the whole: numbers only, no percentages.
    whole = not any(v is None for v in values.values())
    legend_h = 22 * len(shown)
    height = max(height, int(48 + legend_h + 16))
    parts = _open(title, width, height, "pie-chart")
    radius = min(width * 0.22, (height - 64) / 2)
    cx, cy, inner = 16 + radius, 40 + (height - 40) / 2, radius * 0.5
    angle = -math.pi / 2
    parts.append('<g class="slices">')
    for i, (name, v) in enumerate(shown.items()):
        share = v / total  # type: ignore[operator]
        colour = PALETTE[i % len(PALETTE)]
        tip = _tip(name, f"{_fmt(v)} ({share:.0%})" if whole else _fmt(v))  # type: ignore[arg-type]
        if share >= 0.9999:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{(radius + inner) / 2:.1f}" fill="none" '
                         f'stroke="{colour}" stroke-width="{radius - inner:.1f}">{tip}</circle>')
        else:
            a0, a1 = angle, angle + share * 2 * math.pi
            big = 1 if share > 0.5 else 0
            p = [(cx + r * math.cos(a), cy + r * math.sin(a)) for r, a in
                 ((radius, a0), (radius, a1), (inner, a1), (inner, a0))]
            d = (f"M{p[0][0]:.1f},{p[0][1]:.1f} A{radius:.1f},{radius:.1f} 0 {big} 1 {p[1][0]:.1f},{p[1][1]:.1f} "
                 f"L{p[2][0]:.1f},{p[2][1]:.1f} A{inner:.1f},{inner:.1f} 0 {big} 0 {p[3][0]:.1f},{p[3][1]:.1f} Z")
            parts.append(f'<path d="{d}" fill="{colour}" stroke="white" stroke-width="1.5">{tip}</path>')
        if share >= 0.08 and whole:
            mid = angle + share * math.pi
            rm = (radius + inner) / 2
            ink = "white" if i % len(PALETTE) in (0, 3, 6) else "#111"
            parts.append(f'<text x="{cx + rm * math.cos(mid):.1f}" y="{cy + rm * math.sin(mid) + 4.5:.1f}" '
                         f'text-anchor="middle" font-size="12" font-weight="bold" fill="{ink}" aria-hidden="true">'
                         f'{share:.0%}</text>')
        angle += share * 2 * math.pi
    parts.append('</g><g class="legend">')
    lx, ly = cx + radius + 20, cy - legend_h / 2
    for i, (name, v) in enumerate(shown.items()):
        y = ly + i * 22
        text = f"{name}: {_fmt(v)}" + (f" ({v / total:.0%})" if whole else "")  # type: ignore[operator]
        text = _truncate(text, LEGEND_SIZE, width - lx - 30)
        parts.append(f'<rect x="{lx:.1f}" y="{y + 4:.1f}" width="14" height="14" fill="{PALETTE[i % len(PALETTE)]}" '
                     f'stroke="#555" stroke-width="0.5"/><text x="{lx + 20:.1f}" y="{y + 16:.1f}" '
                     f'font-size="{LEGEND_SIZE}" fill="{INK}">{escape(text)}</text>')
    parts.append("</g></svg>")
    return "".join(parts)


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
        out[props["code"]] = ProvinceShape(props["code"], props["name_en"], props["name_km"], props["shape"],
                                           polygons, tuple(props["label"]), props.get("inside"))
    return out


def map_covers(codes: object) -> bool:
    """Whether any of these province codes is on the map (a Southern-Africa-only deployment has none)."""
    shapes = province_shapes()
    return any(code in shapes for code in codes)  # type: ignore[attr-defined]


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


def province_map(title: str, shown: dict[str, str], counts: dict[str, int | None], *, language: str = "en",
                 links: dict[str, str] | None = None,
                 labels: dict[str, str] | None = None, width: int = 640) -> str:
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
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="province-map" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="group" aria-labelledby="{title_id}" '
             f'font-family="{escape(FONT_STACK)}">',
             f'<defs><pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="6" height="6" '
             f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fafafa"/>'
             f'<line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/></pattern></defs>',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text id="{title_id}" x="{width / 2}" y="22" text-anchor="middle" font-size="16" fill="#111">'
             f'{escape(title)}</text>']
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
            d = " ".join("M" + " L".join(xy(x, y) for x, y in ring[:-1]) + " Z" for poly in shape.polygons
                         for ring in poly)
            mark = (f'<path class="{css}" data-code="{escape(code)}" d="{d}" fill="{fill}" fill-rule="evenodd" '
                    f'stroke="#555" stroke-width="0.7" stroke-linejoin="round"><title>{escape(tip)}</title></path>')
        else:
            cx, cy = xy(*shape.label).split(",")
            mark = (f'<circle class="{css} no-boundary" data-code="{escape(code)}" cx="{cx}" cy="{cy}" r="9" '
                    f'fill="{fill}" stroke="#111" stroke-width="1.2" stroke-dasharray="3 2">'
                    f'<title>{escape(tip)}</title></circle>')
        if links and code in links:
            mark = f'<a href="{escape(links[code])}" aria-label="{escape(tip)}">{mark}</a>'
        marks.append(mark)
        if text != "0":
            lx, ly = (float(v) for v in xy(*shape.label).split(","))
            anchor, dark = "middle", bool(value) and _shade(_bin_of(value or 0, bins), bins) >= 3
            if shape.kind != "boundary":  # a circle's value sits to its right
                lx, ly, anchor, dark = lx + 12, ly + 4, "start", False
            elif _width_px(shape, kx * scale) < 28:  # too small to hold its number: a short leader line
                texts.append(f'<line x1="{lx:.1f}" y1="{ly:.1f}" x2="{lx - 20:.1f}" y2="{ly + 14:.1f}" '
                             f'stroke="#333" stroke-width="0.8" aria-hidden="true"/>')
                lx, ly, anchor, dark = lx - 22, ly + 22, "end", False
            else:
                ly += 4
            paint = 'fill="#fff" stroke="#08306b" stroke-width="2" paint-order="stroke"' if dark else 'fill="#111" stroke="#fff" stroke-width="2.5" paint-order="stroke"'
            texts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="10" '
                         f'font-weight="bold" {paint} aria-hidden="true">{escape(text)}</text>')
    parts += marks + texts
    # Legend, in the empty corner east of the Mekong delta.
    lx, ly = width - 150, top + map_h - 18 * (len(bins) + 1 + any_hidden) - 4
    rows = [(ZERO_FILL, labels.get("zero", "0"))]
    rows += [(BINS[_shade(i, bins)], f"{lo}" if lo == hi else f"{lo}–{hi}") for i, (lo, hi) in enumerate(bins)]
    if any_hidden:
        rows.append((f"url(#{HATCH_ID})", labels.get("hidden", "<10")))
    parts.append(f'<g class="legend" transform="translate({lx:.0f},{ly:.0f})">')
    for i, (fill, text) in enumerate(rows):
        parts.append(f'<rect x="0" y="{i * 18}" width="16" height="12" fill="{fill}" stroke="#555" '
                     f'stroke-width="0.6"/><text x="22" y="{i * 18 + 10}" font-size="11" fill="#222">'
                     f'{escape(text)}</text>')
    parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
