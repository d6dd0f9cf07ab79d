"""What leaves the platform: suppressed tables and the charts drawn from them.

Everything here takes raw aggregates from `queries` and passes them through
`suppression.suppress` with the configured threshold before anything is shown,
exported or pushed. The supervisor dashboard (inside the platform) uses the raw
figures; the public page, exports, the quarterly report and DHIS2 use these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import Session

from service.analytics import charts, queries as q
from service.analytics.labels import label, t
from service.analytics.suppression import Published, suppress
from service.config import get_settings
from service.kit.clock import now


def threshold() -> int:
    return get_settings().suppression_threshold


def suppressed_series(series: q.Series, *, language: str = "en", limit: int | None = None) -> Published:
    """A Series (values x periods) as a suppressed table with translated row labels."""
    return suppress(series.table(), row_labels=[label(language, v) for v in series.values],
                    col_labels=series.periods, threshold=threshold())


def suppressed_counts(values: dict[str, int], *, language: str = "en", title: str = "count") -> Published:
    return suppress([[n] for n in values.values()], row_labels=[label(language, v) for v in values],
                    col_labels=[title], threshold=threshold())


def chart_values(pub: Published) -> dict[str, list[int | None]]:
    """Per row label, the published numbers per column (None where hidden)."""
    return {pub.row_labels[i]: [pub.cell(i, j) for j in range(pub.n_cols)] for i in range(pub.n_rows)}


def column_values(pub: Published) -> dict[str, int | None]:
    return {pub.row_labels[i]: pub.cell(i, 0) for i in range(pub.n_rows)}


def default_window(at: datetime | None = None, months: int = 12) -> tuple[datetime, datetime]:
    """The last `months` calendar months including the current one."""
    at = at or now()
    end = datetime(at.year + (at.month == 12), at.month % 12 + 1, 1, tzinfo=timezone.utc)
    y, m = end.year, end.month - months
    while m <= 0:
        y, m = y - 1, m + 12
    return datetime(y, m, 1, tzinfo=timezone.utc), end


@dataclass
class Figure:
    key: str
    title: str
    svg: str
    table: Published | None = None
    caption: str = ""


def province_table(session: Session, *, filters: q.Filters, language: str = "en") -> tuple[Published, list[str]]:
    """Reports per province (rows) x open/resolved/other, suppressed; also the province codes in row order."""
    rows = q.by_place(session, filters=filters)
    codes = [r.place.code if r.place else "" for r in rows]
    names = [(r.place.name_km if language == "km" else r.place.name_en) if r.place else label(language, "unknown")
             for r in rows]
    table = [[r.open, r.resolved, r.total - r.open - r.resolved] for r in rows]
    cols = [label(language, "open"), t(language, "resolved"), label(language, "other")]
    return suppress(table, row_labels=names, col_labels=cols, threshold=threshold()), codes


def map_values(table: Published, codes: list[str]) -> tuple[dict[str, str], dict[str, int | None]]:
    """The map's (shown text, plotted count or None) per province code: the table's totals column."""
    j = table.n_cols
    shown = {code: table.shown(i, j) for i, code in enumerate(codes) if code}
    plotted = {code: table.cell(i, j) for i, code in enumerate(codes) if code}
    return shown, plotted


def map_figure(shown: dict[str, str], plotted: dict[str, int | None], *, language: str,
               links: dict[str, str] | None = None, table: Published | None = None) -> Figure:
    """The province choropleth with its caption (source, Tboung Khmum, places outside the map).

    `plotted` holds None for every hidden count (public page, quarterly report): the map then draws
    it hatched and never sees its value. The dashboard passes raw counts (it never leaves the platform).
    """
    title = t(language, "Reports by province")
    th = threshold()
    svg = charts.province_map(title, shown, plotted, language=language, links=links, labels={
        "zero": t(language, "0 (no reports)"),
        "hidden": t(language, "hidden (<{threshold} or x)", threshold=th)})
    notes = [t(language, "Province boundaries: Natural Earth (public domain), simplified; approximate, not an "
                         "authority on any border.")]
    if "KH-25" in charts.province_shapes():
        notes.append(t(language, "Tboung Khmum, split from Kampong Cham in 2013, has no boundary in that source: "
                                 "it is the dashed circle inside Kampong Cham, whose shape still covers both."))
    shapes = charts.province_shapes()
    if any(v != "0" for code, v in shown.items() if code not in shapes):
        notes.append(t(language, "Provinces outside Cambodia are not on the map: see the table."))
    if links:
        notes.append(t(language, "Select a province to see its districts."))
    return Figure("map", title, svg, table, caption=" ".join(notes))


def public_figures(session: Session, *, filters: q.Filters, language: str = "en") -> list[Figure]:
    """The public page's charts: every number suppressed first."""
    figs: list[Figure] = []
    over_time = suppressed_series(q.reports_over_time(session, by="category", period="month", filters=filters),
                                  language=language)
    figs.append(Figure("over_time", t(language, "Reports over time by category"),
                       charts.stacked_bar(t(language, "Reports over time by category"), over_time.col_labels,
                                          chart_values(over_time), language=language), over_time))
    provinces, codes = province_table(session, filters=filters, language=language)
    # One suppression pass for the page: the map shows the province table's own published totals
    # (a total the table hides is hatched on the map), so table and map together recover nothing.
    shown, plotted = map_values(provinces, codes)
    if charts.map_covers(shown):
        figs.append(map_figure(shown, plotted, language=language, table=provinces))
    for by, title in (("urgency", "Reports by urgency"), ("channel", "Reports by channel"),
                      ("population", "Reports by population")):
        pub = suppressed_counts(q.counts_by(session, by=by, filters=filters), language=language,
                                title=t(language, "Reports"))
        figs.append(Figure(by, t(language, title), charts.bar_chart(t(language, title), column_values(pub)), pub))
    ovr = suppressed_series(q.open_vs_resolved(session, period="month", filters=filters), language=language)
    figs.append(Figure("open_resolved", t(language, "Open and resolved"),
                       charts.stacked_bar(t(language, "Open and resolved"), ovr.col_labels, chart_values(ovr),
                                          language=language), ovr))
    for key, title, timing in (("first_response", "Time to first response", q.time_to_first_response),
                               ("resolution", "Time to resolution", q.time_to_resolution)):
        pub = suppressed_counts(timing(session, filters=filters).buckets, language=language,
                                title=t(language, "Reports"))
        figs.append(Figure(key, t(language, title),
                           charts.bar_chart(t(language, title), column_values(pub), horizontal=False), pub))
    sat = suppressed_counts(q.satisfaction(session, filters=filters), language=language, title=t(language, "Reports"))
    figs.append(Figure("satisfaction", t(language, "Reporter satisfaction at closure"),
                       charts.pie_chart(t(language, "Reporter satisfaction at closure"),
                                        {k: v for k, v in column_values(sat).items() if v != 0}), sat))
    return figs


def suppression_note(language: str) -> str:
    th = threshold()
    return t(language, "Counts from 1 to {below} are shown as \"<{threshold}\"; a few other counts are hidden (x) "
                       "so that small ones cannot be worked out from the totals.", below=th - 1, threshold=th)
