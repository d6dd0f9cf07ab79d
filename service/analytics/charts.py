"""Server-rendered SVG charts (pygal) and the province map, with Khmer-capable fonts.

Charts never load scripts (pygal's default tooltips come from a CDN: `js=[]` turns
that off), so they work offline, in the PDF and on the public page alike. A value of
None is a suppressed count: the chart leaves a gap and the caption says "<10".
"""

from __future__ import annotations

import json
from contextvars import ContextVar
import math
import re
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import pygal
from pygal.style import Style

FONT_STACK = "'Noto Sans Khmer', 'Khmer OS', 'Khmer OS System', 'Noto Sans', 'DejaVu Sans', sans-serif"
PALETTE = ("#1b6ca8", "#e07b39", "#3a9d5d", "#b8405e", "#7b5ea7", "#8c8c8c", "#c9a227", "#2aa5a5", "#5d6d7e")
GEOJSON = Path(__file__).parent / "data" / "kh_provinces.geojson"

STYLE = Style(
    font_family=FONT_STACK, background="white", plot_background="white", foreground="#222",
    foreground_strong="#111", foreground_subtle="#bbb", colors=PALETTE, title_font_size=16,
    label_font_size=11, major_label_font_size=11, legend_font_size=12, value_font_size=11,
    no_data_font_size=18,
)


# The words an empty chart shows: per request/thread (a context variable), in the page's language.
_NO_DATA: ContextVar[str] = ContextVar("samleng_chart_no_data", default="No data")


def no_data_text(text: str) -> None:
    """Set what empty charts drawn from here on (in this context) say."""
    _NO_DATA.set(text)


def _config(chart: pygal.graph.graph.Graph) -> pygal.graph.graph.Graph:
    chart.js = []  # no CDN script, ever
    chart.no_data_text = _NO_DATA.get()
    chart.disable_xml_declaration = True
    return chart


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)


def _render(chart: pygal.graph.graph.Graph) -> str:
    # pygal always writes an inline <script> with the tooltip config; without its JS it is dead weight,
    # and pages with no scripts at all are simpler to trust (and to print).
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def line_chart(title: str, periods: list[str], series: dict[str, list[int | None]], *, width: int = 800,
               height: int = 360) -> str:
    """Counts over time, one line per value; None = suppressed."""
    chart = _config(pygal.Line(style=STYLE, width=width, height=height, show_dots=True, dots_size=2,
                               x_label_rotation=30, legend_at_bottom=True, legend_at_bottom_columns=4,
                               allow_interruptions=True, include_x_axis=True, truncate_legend=40,
                               x_labels_major_every=max(1, len(periods) // 12), show_minor_x_labels=False))
    chart.title = title
    chart.x_labels = periods
    for name, values in series.items():
        chart.add(name, values)
    return _render(chart)


def stacked_bar(title: str, periods: list[str], series: dict[str, list[int | None]], *, width: int = 800,
                height: int = 360) -> str:
    chart = _config(pygal.StackedBar(style=STYLE, width=width, height=height, x_label_rotation=30,
                                     legend_at_bottom=True, legend_at_bottom_columns=4, truncate_legend=40,
                                     x_labels_major_every=max(1, len(periods) // 12), show_minor_x_labels=False))
    chart.title = title
    chart.x_labels = periods
    for name, values in series.items():
        chart.add(name, values)
    return _render(chart)


def bar_chart(title: str, values: dict[str, int | None], *, width: int = 800, height: int = 320,
              horizontal: bool = True) -> str:
    """One bar per label; None = suppressed (shown as an empty bar with "<10" in the table)."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = _config(kind(style=STYLE, width=width, height=height, show_legend=False, print_values=True,
                         truncate_label=40))
    chart.title = title
    chart.x_labels = list(values)
    chart.add(title, [v for v in values.values()])
    return _render(chart)


def pie_chart(title: str, values: dict[str, int | None], *, width: int = 420, height: int = 320) -> str:
    chart = _config(pygal.Pie(style=STYLE, width=width, height=height, inner_radius=0.45,
                              legend_at_bottom=True, truncate_legend=40))
    chart.title = title
    for name, value in values.items():
        chart.add(name, value)
    return _render(chart)


@lru_cache(maxsize=1)
def province_points() -> dict[str, tuple[float, float, str, str]]:
    """code -> (lon, lat, name_en, name_km) from the shipped schematic GeoJSON."""
    doc = json.loads(GEOJSON.read_text(encoding="utf-8"))
    out = {}
    for f in doc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        out[f["properties"]["code"]] = (lon, lat, f["properties"]["name_en"], f["properties"]["name_km"])
    return out


def province_map(title: str, shown: dict[str, str], counts: dict[str, int | None], *, language: str = "en",
                 note: str = "", width: int = 640, height: int = 520) -> str:
    """Bubble map: one circle per province at its approximate capital, area proportional to the count.

    `shown` is the text per province code ("<10", "x" or the number); `counts` the plotted number
    (None for hidden: drawn as a small hollow circle).
    """
    pts = province_points()
    lon0, lon1, lat0, lat1 = 102.2, 107.8, 10.2, 14.8
    pad = 30

    def xy(lon: float, lat: float) -> tuple[float, float]:
        x = pad + (lon - lon0) / (lon1 - lon0) * (width - 2 * pad)
        y = pad + 20 + (lat1 - lat) / (lat1 - lat0) * (height - 2 * pad - 40)
        return round(x, 1), round(y, 1)

    biggest = max([v for v in counts.values() if v] or [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="province-map" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
             f'font-family="{escape(FONT_STACK)}">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="16" fill="#111">{escape(title)}</text>']
    for code, (lon, lat, name_en, name_km) in sorted(pts.items(), key=lambda kv: -(counts.get(kv[0]) or 0)):
        x, y = xy(lon, lat)
        value = counts.get(code)
        label = shown.get(code, "0")
        name = name_km if language == "km" else name_en
        if value:
            r = 4 + 26 * math.sqrt(value / biggest)
            parts.append(f'<circle class="bubble" data-code="{code}" cx="{x}" cy="{y}" r="{r:.1f}" '
                         f'fill="#1b6ca8" fill-opacity="0.55" stroke="#0d3a5c" stroke-width="1"/>')
        else:
            parts.append(f'<circle class="bubble" data-code="{code}" cx="{x}" cy="{y}" r="4" fill="none" '
                         f'stroke="#888" stroke-width="1"/>')
        parts.append(f'<text x="{x}" y="{y + 3}" text-anchor="middle" font-size="10" fill="#111">'
                     f'{escape(label)}</text>')
        parts.append(f'<text x="{x}" y="{y + 15}" text-anchor="middle" font-size="9" fill="#444">'
                     f'{escape(name)}</text>')
    if note:
        parts.append(f'<text x="8" y="{height - 8}" font-size="10" fill="#666">{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)
