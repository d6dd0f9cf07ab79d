"""What leaves the platform: suppressed tables and the charts drawn from them.

Everything here takes raw aggregates from `queries` and passes them through
`suppression.suppress` with the configured threshold before anything is shown,
exported or pushed. The supervisor dashboard (inside the platform) uses the raw
figures; the public page, exports, the quarterly report and DHIS2 use these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import Session

from service.analytics import charts, queries as q
from service.analytics.labels import label, t
from service.analytics.suppression import (
    HIDDEN_WITHHELD,
    Published,
    _hide_one_more,
    _lines,
    page_disclosed,
    suppress,
)
from service.config import get_settings
from service.kit import zones
from service.kit.clock import now


def threshold() -> int:
    return get_settings().suppression_threshold


def suppressed_series(series: q.Series, *, language: str = "en", limit: int | None = None) -> Published:
    """A Series (values x periods) as a suppressed table with translated row labels."""
    return suppress(
        series.table(),
        row_labels=[label(language, v) for v in series.values],
        col_labels=series.periods,
        threshold=threshold(),
    )


def suppressed_counts(values: dict[str, int], *, language: str = "en", title: str = "count") -> Published:
    return suppress(
        [[n] for n in values.values()],
        row_labels=[label(language, v) for v in values],
        col_labels=[title],
        threshold=threshold(),
    )


def chart_values(pub: Published) -> dict[str, list[int | None]]:
    """Per row label, the published numbers per column (None where hidden)."""
    return {pub.row_labels[i]: [pub.cell(i, j) for j in range(pub.n_cols)] for i in range(pub.n_rows)}


def column_values(pub: Published) -> dict[str, int | None]:
    return {pub.row_labels[i]: pub.cell(i, 0) for i in range(pub.n_rows)}


def default_window(at: datetime | None = None, months: int = 12) -> tuple[datetime, datetime]:
    """The last `months` calendar months including the current one (the month it is now on the platform's
    wall clock, SAMLENG_TIME_ZONE), as wall-clock bounds (Filters.local)."""
    wall = zones.local(at or now(), zones.default_name())
    assert wall is not None, "a datetime in, a datetime out"
    at = wall
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
    names = [
        (r.place.name_km if language == "km" else r.place.name_en) if r.place else label(language, "unknown")
        for r in rows
    ]
    table = [[r.open, r.resolved, r.total - r.open - r.resolved] for r in rows]
    cols = [label(language, "open"), t(language, "resolved"), label(language, "other")]
    return suppress(table, row_labels=names, col_labels=cols, threshold=threshold()), codes


def map_values(table: Published, codes: list[str]) -> tuple[dict[str, str], dict[str, int | None]]:
    """The map's (shown text, plotted count or None) per province code: the table's totals column."""
    j = table.n_cols
    shown = {code: table.shown(i, j) for i, code in enumerate(codes) if code}
    plotted = {code: table.cell(i, j) for i, code in enumerate(codes) if code}
    return shown, plotted


def map_figure(
    shown: dict[str, str],
    plotted: Mapping[str, int | None],
    *,
    language: str,
    links: dict[str, str] | None = None,
    table: Published | None = None,
    title: str | None = None,
) -> Figure:
    """The province choropleth with its caption (source, Tboung Khmum, places outside the map).

    `plotted` holds None for every hidden count (public page, quarterly report): the map then draws
    it hatched and never sees its value. The dashboard passes raw counts (it never leaves the platform).
    """
    title = title or t(language, "Reports by province")
    th = threshold()
    svg = charts.province_map(
        title,
        shown,
        plotted,
        language=language,
        links=links,
        labels={
            "zero": t(language, "0 (no reports)"),
            "hidden": t(language, "hidden (<{threshold} or x)", threshold=th),
        },
    )
    notes = [
        t(
            language,
            "Province boundaries: Natural Earth (public domain), simplified; approximate, not an "
            "authority on any border.",
        )
    ]
    if "KH-25" in charts.province_shapes():
        notes.append(
            t(
                language,
                "Tboung Khmum, split from Kampong Cham in 2013, has no boundary in that source: "
                "it is the dashed circle inside Kampong Cham, whose shape still covers both.",
            )
        )
    shapes = charts.province_shapes()
    if any(v != "0" for code, v in shown.items() if code not in shapes):
        notes.append(t(language, "Provinces outside Cambodia are not on the map: see the table."))
    if links:
        notes.append(t(language, "Select a province to see its districts."))
    return Figure("map", title, svg, table, caption=" ".join(notes))


Cell = tuple[str, tuple[int, int]]  # (table key, (row, column)); totals at index n_rows / n_cols


def suppress_page(raws: dict[str, dict], links: list[list[Cell]]) -> dict[str, Published]:
    """Suppress every table of one page together. `raws` holds each table's `suppress` arguments;
    `links` groups cells that are the same quantity in several tables (a page's grand total, a
    month's total in two charts). A quantity hidden in one table is hidden in all of them, then
    each table is suppressed again, until nothing changes: no figure shows what another hides.

    Then the whole page, as published, goes to the exact attacker (`suppression.page_disclosed`):
    while it can work out a small count from all figures together (two figures bounding a number
    both hide, each differently), one more rectangle of cells through that count is hidden and the
    page is suppressed again. A table with nothing left to hide is withheld ("-"); the last resort
    is a page of withheld tables, which tells nothing."""
    hide: dict[str, set[tuple[int, int]]] = {key: set() for key in raws}
    withheld: set[str] = set()
    while True:
        pubs = {key: suppress(threshold=threshold(), hide=sorted(hide[key]), **args) for key, args in raws.items()}
        for key in withheld:
            _withhold_all(pubs[key])
        more = False
        for group in links:
            if any(pos in pubs[key].hidden for key, pos in group):
                for key, pos in group:
                    if pos not in pubs[key].hidden and pos not in hide[key]:
                        hide[key].add(pos)
                        more = True
        if more:
            continue
        pinned = page_disclosed(pubs, links, threshold())
        if not pinned:
            return pubs
        key, pos = pinned[0]
        new = _rectangle_through(pubs[key], pos)
        if new:
            hide[key].update(new)
        elif key not in withheld:
            withheld.add(key)
        else:  # nothing more this table can hide: withhold every table (nothing is told at all)
            if withheld == set(raws):
                return pubs
            withheld.update(raws)


def _withhold_all(pub: Published) -> None:
    for i in range(pub.n_rows + 1):
        for j in range(pub.n_cols + 1):
            pub.hidden[(i, j)] = HIDDEN_WITHHELD


def _rectangle_through(pub: Published, target: tuple[int, int]) -> list[tuple[int, int]]:
    """The cells `suppression`'s own choice would hide next to protect `target` (the cheapest
    rectangle through it that hides something new); empty when the table has nothing left to hide."""
    trial = Published(pub.row_labels, pub.col_labels, pub.threshold, pub.values, dict(pub.hidden))
    _hide_one_more(trial, _lines(pub.n_rows, pub.n_cols), target)
    return sorted(pos for pos in trial.hidden if pos not in pub.hidden)


def page_links(shape: dict[str, tuple[int, int]]) -> list[list[Cell]]:
    """The quantities the public page publishes in more than one figure, given each table's
    (rows, columns): every report counted once in each of `ALL_REPORTS`, month totals in both
    charts over time, open/resolved/other in the status chart and the province table, and the
    resolved reports again as the satisfaction chart's total."""

    def corner(key: str) -> Cell:
        r, c = shape[key]
        return key, (r, c)

    groups: list[list[Cell]] = [[corner(k) for k in ALL_REPORTS if k in shape]]
    months = shape["over_time"][1]
    for j in range(months):
        groups.append([("over_time", (shape["over_time"][0], j)), ("open_resolved", (3, j))])
    for k in range(3):  # open, resolved, other
        groups.append([("open_resolved", (k, months)), ("provinces", (shape["provinces"][0], k))])
    groups.append([("open_resolved", (1, months)), corner("satisfaction")])
    return groups


def scorecard_links(top_values: list[str], trend_values: list[str], months: int) -> list[list[Cell]]:
    """The quantities a scorecard publishes twice: its report total (the top problems' total and the
    trend's) and each category's reports (a top-problems row and that category's row total in the
    trend). `top_values` / `trend_values`: the category of each row of either table."""
    groups: list[list[Cell]] = [[("top", (len(top_values), 1)), ("trend", (len(trend_values), months))]]
    row = {v: i for i, v in enumerate(trend_values)}
    for i, v in enumerate(top_values):
        if v in row:
            groups.append([("top", (i, 0)), ("trend", (row[v], months))])
    return groups


def scorecard_tables(
    raw: dict[str, tuple[list[list[int]], list[str], list[str]]], top_values: list[str], trend_values: list[str]
) -> dict[str, Published]:
    """A scorecard's tables (`top`: reports per category, `trend`: category x month, `timing`: response
    and resolution times) suppressed together, as the public page's are (`suppress_page`)."""
    raws = {key: {"table": table, "row_labels": rows, "col_labels": cols} for key, (table, rows, cols) in raw.items()}
    return suppress_page(raws, scorecard_links(top_values, trend_values, len(raw["trend"][2])))


# Tables of the public page whose grand total is every report in the window.
ALL_REPORTS = ("over_time", "open_resolved", "provinces", "urgency", "channel", "population")
COUNTS = (("urgency", "Reports by urgency"), ("channel", "Reports by channel"), ("population", "Reports by population"))


def public_tables(raw: dict[str, tuple[list[list[int]], list[str], list[str]]]) -> dict[str, Published]:
    """The public page's tables from raw counts (table, row labels, column labels), suppressed
    together (`suppress_page`)."""
    raws = {key: {"table": table, "row_labels": rows, "col_labels": cols} for key, (table, rows, cols) in raw.items()}
    shape = {key: (len(rows), len(cols)) for key, (_t, rows, cols) in raw.items()}
    return suppress_page(raws, page_links(shape))


@dataclass
class PageRaw:
    """The public page's raw tables (`public_tables` takes `raw`), with the codes behind the row labels:
    the province of each province-table row and the category of each row over time."""

    raw: dict[str, tuple[list[list[int]], list[str], list[str]]]
    province_codes: list[str]
    categories: list[str]


def public_figures(session: Session, *, filters: q.Filters, language: str = "en") -> list[Figure]:
    """The public page's charts: every number suppressed first, all tables of the page together."""
    page = public_raw(session, filters=filters, language=language)
    return _figures(public_tables(page.raw), page.province_codes, language)


def public_raw(session: Session, *, filters: q.Filters, language: str = "en") -> PageRaw:
    """The raw counts of every table of the public page (what `public_figures` suppresses and draws;
    the Open311 feed lists a record only where these tables, suppressed, show its counts)."""
    raw: dict[str, tuple[list[list[int]], list[str], list[str]]] = {}
    over = q.reports_over_time(session, by="category", period="month", filters=filters)
    raw["over_time"] = (over.table(), [label(language, v) for v in over.values], list(over.periods))
    ovr_series = q.open_vs_resolved(session, period="month", filters=filters)
    raw["open_resolved"] = (
        ovr_series.table(),
        [label(language, v) for v in ovr_series.values],
        list(ovr_series.periods),
    )
    rows = q.by_place(session, filters=filters)
    codes = [r.place.code if r.place else "" for r in rows]
    raw["provinces"] = (
        [[r.open, r.resolved, r.total - r.open - r.resolved] for r in rows],
        [
            (r.place.name_km if language == "km" else r.place.name_en) if r.place else label(language, "unknown")
            for r in rows
        ],
        [label(language, "open"), t(language, "resolved"), label(language, "other")],
    )
    title = t(language, "Reports")
    for by, _title in COUNTS:
        values = q.counts_by(session, by=by, filters=filters)
        raw[by] = ([[n] for n in values.values()], [label(language, v) for v in values], [title])
    for key, timing in (("first_response", q.time_to_first_response), ("resolution", q.time_to_resolution)):
        buckets = timing(session, filters=filters).buckets
        raw[key] = ([[n] for n in buckets.values()], [label(language, v) for v in buckets], [title])
    answers = q.satisfaction(session, filters=filters)
    raw["satisfaction"] = ([[n] for n in answers.values()], [label(language, v) for v in answers], [title])
    return PageRaw(raw, codes, list(over.values))


def _figures(pubs: dict[str, Published], codes: list[str], language: str) -> list[Figure]:
    figs: list[Figure] = []
    over_time = pubs["over_time"]
    figs.append(
        Figure(
            "over_time",
            t(language, "Reports over time by category"),
            charts.stacked_bar(
                t(language, "Reports over time by category"),
                over_time.col_labels,
                chart_values(over_time),
                language=language,
            ),
            over_time,
        )
    )
    # The map shows the province table's own published totals (a total the table hides is hatched).
    shown, plotted = map_values(pubs["provinces"], codes)
    if charts.map_covers(shown):
        figs.append(map_figure(shown, plotted, language=language, table=pubs["provinces"]))
    for by, title_en in COUNTS:
        pub = pubs[by]
        figs.append(Figure(by, t(language, title_en), charts.bar_chart(t(language, title_en), column_values(pub)), pub))
    ovr = pubs["open_resolved"]
    figs.append(
        Figure(
            "open_resolved",
            t(language, "Open and resolved"),
            charts.stacked_bar(t(language, "Open and resolved"), ovr.col_labels, chart_values(ovr), language=language),
            ovr,
        )
    )
    for key, title_en in (("first_response", "Time to first response"), ("resolution", "Time to resolution")):
        pub = pubs[key]
        figs.append(
            Figure(
                key,
                t(language, title_en),
                charts.bar_chart(t(language, title_en), column_values(pub), horizontal=False),
                pub,
            )
        )
    sat = pubs["satisfaction"]
    figs.append(
        Figure(
            "satisfaction",
            t(language, "Reporter satisfaction at closure"),
            charts.pie_chart(
                t(language, "Reporter satisfaction at closure"), {k: v for k, v in column_values(sat).items() if v != 0}
            ),
            sat,
        )
    )
    return figs


def suppression_note(language: str) -> str:
    th = threshold()
    return t(
        language,
        'Counts from 1 to {below} are shown as "<{threshold}"; a few other counts are hidden (x) '
        "so that small ones cannot be worked out from the totals.",
        below=th - 1,
        threshold=th,
    )
