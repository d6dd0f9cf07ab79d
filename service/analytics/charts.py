"""Server-rendered SVG charts (pygal) and the province map, with Khmer-capable fonts.

Charts never load scripts (pygal's default tooltips come from a CDN: `js=[]` turns
that off), so they work offline, in the PDF and on the public page alike. A value of
None is a suppressed count: the chart leaves a gap and the caption says "<10".
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
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
