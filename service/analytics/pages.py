"""HTML pages of the analytics package, as plain rendering functions (session first).

`public_page` is served at /public. `dashboard_page`, `scorecard_page` and
`quarterly_report_html`/`quarterly_report_pdf` are for supervisors, served behind the
review queue's sign-in by service/analytics/web.py (see docs/analytics.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session

from service.analytics import charts, publish, queries as q, rollup
from service.analytics import codes as code_figures, fees as fee_figures
from service.analytics import dossier as published_dossier
from service.analytics.labels import label, t
from service.analytics.service import approved_quotes, require_supervisor
from service.audit.service import record
from service.kit import zones
from service.kit.render import header as site_header
from service.kit.errors import DomainError, NotFound
from service.kit.masking import mask
from service.escalation.models import Dossier
from service.orgs.zones import org_zone

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def _show(language: str, value: object) -> str:
    """A body-metric label or value: plain text, {"msgid", "params"} or a name {"en", "km", "level"}."""
    if isinstance(value, dict):
        if "msgid" in value:
            return t(language, str(value["msgid"]), **dict(value.get("params") or {}))
        name = str(value.get(language) or value.get("en") or "")
        level = value.get("level")
        return f"{name} ({t(language, str(level))})" if level else name
    return "" if value is None else str(value)


def _chart_words(language: str) -> None:
    """What empty charts say, in the page's language (see charts.empty_chart)."""
    charts.no_data_text(
        t(language, "No reports yet."), hidden=t(language, "Every count here is too small to publish: see the table.")
    )


def _render(name: str, language: str, *, header: str | None = None, **context: object) -> str:
    """A page; `header`: the site header for this request (service.kit.render.header), else the public one."""

    _chart_words(language)
    if header is None:
        header = site_header(language, public=True)
    tz = str(context.pop("tz", None) or zones.default_name())
    return (
        _env()
        .get_template(name)
        .render(
            lang=language,
            header=header,
            t=lambda m, **p: t(language, m, **p),
            label=lambda v: label(language, v),
            show=lambda v: _show(language, v),
            when=lambda at, fmt="%Y-%m-%d %H:%M": zones.show(at, tz, fmt),
            **context,
        )
    )


SCORECARD_TITLES = {
    "health_centre": "Facility scorecard",
    "mine": "Facility scorecard",
    "town": "Facility scorecard",
    "od": "District scorecard",
    "province": "Province scorecard",
    "country": "Country scorecard",
}


def _period_text(filters: q.Filters, tz: str | None = None) -> str:
    """The period's first and last day. `until` is exclusive (a quarter ends at 00:00 of the next one): the
    last day inside. Local windows are wall-clock days already (each report's own local day); a UTC
    window is shown in the reader's zone."""
    if filters.since and filters.until:
        last = filters.until - timedelta(microseconds=1)
        if filters.local:
            return f"{filters.since:%Y-%m-%d} – {last:%Y-%m-%d}"
        return f"{zones.show(filters.since, tz, '%Y-%m-%d')} – {zones.show(last, tz, '%Y-%m-%d')}"
    return ""


def public_page(
    session: Session,
    *,
    language: str = "en",
    place_id: int | None = None,
    at: datetime | None = None,
    header: str | None = None,
) -> str:
    rollup.refresh_if_stale(session)
    _chart_words(language)
    since, until = publish.default_window(at)
    filters = q.Filters(since, until, place_id)
    tree = q.place_tree(session)
    node = tree.by_id.get(place_id) if place_id else None
    scope = (node.name_km if language == "km" else node.name_en) if node else t(language, "All provinces")
    return _render(
        "public.html",
        language,
        header=header,
        title=t(language, "What people report: public figures"),
        figures=publish.public_figures(session, filters=filters, language=language),
        provinces=tree.provinces(),
        province=node.code if node else "",
        scope_name=scope,
        period_text=_period_text(filters),
        note=publish.suppression_note(language),
        quotes=approved_quotes(session, filters=filters, limit=5),
        # Grievance bodies held to account (docs/analytics.md "Body metrics"): suppressed tables.
        body_metrics=q.body_metrics(session, filters=filters),
    )


def dashboard_page(
    session: Session,
    *,
    language: str = "en",
    place_id: int | None = None,
    filters: q.Filters | None = None,
    period: str = "month",
    csrf: str | None = None,
    message: str | None = None,
    can_export_cases: bool = False,
    quarters: tuple[str, ...] = (),
    header: str | None = None,
    time_zone: str | None = None,
    body_alert: dict | None = None,
) -> str:
    """The supervisor dashboard: raw counts (inside the platform), drill-down by place, charts.
    `body_alert`: the organisation's body-alert line ({"below": percent or None, "days", "minimum"}),
    shown with its form to the organisation's supervisors and administrators."""
    rollup.refresh_if_stale(session)
    _chart_words(language)
    if filters is None:
        since, until = publish.default_window()
        filters = q.Filters(since, until, place_id)
    tree = q.place_tree(session)
    figs: list[publish.Figure] = []
    for by in ("category", "urgency", "channel", "population"):
        series = q.reports_over_time(session, by=by, period=period, filters=filters)
        named = {label(language, v): series.counts[v] for v in series.values}
        title = t(language, "Reports over time by category") if by == "category" else t(language, f"Reports by {by}")
        figs.append(publish.Figure(by, title, charts.line_chart(title, series.periods, named, language=language)))
    ovr = q.open_vs_resolved(session, period=period, filters=filters)
    figs.append(
        publish.Figure(
            "open_resolved",
            t(language, "Open and resolved"),
            charts.stacked_bar(
                t(language, "Open and resolved"),
                ovr.periods,
                {label(language, v): ovr.counts[v] for v in ovr.values},
                language=language,
            ),
        )
    )
    for key, title, fn in (
        ("first_response", "Time to first response", q.time_to_first_response),
        ("resolution", "Time to resolution", q.time_to_resolution),
    ):
        timing = fn(session, filters=filters)
        heading = t(language, title)
        if timing.average_hours is not None:  # no average without data: the chart then shows its empty state
            heading = f"{heading} ({t(language, 'Average hours')}: {timing.average_hours})"
        figs.append(
            publish.Figure(
                key,
                t(language, title),
                charts.bar_chart(heading, {label(language, k): v for k, v in timing.buckets.items()}, horizontal=False),
            )
        )
    figs.append(
        publish.Figure(
            "deadlines",
            t(language, "Deadlines"),
            charts.pie_chart(
                t(language, "Deadlines"),
                {label(language, k): v for k, v in q.deadline_compliance(session, filters=filters).items() if v},
            ),
        )
    )
    figs.append(
        publish.Figure(
            "satisfaction",
            t(language, "Reporter satisfaction at closure"),
            charts.pie_chart(
                t(language, "Reporter satisfaction at closure"),
                {label(language, k): v for k, v in q.satisfaction(session, filters=filters).items() if v},
            ),
        )
    )
    places = q.by_place(session, parent_id=filters.place_id, filters=filters)
    if filters.place_id is None and charts.map_covers(p.code for p in tree.provinces()):
        # Raw counts, as the drill-down table beside it: the dashboard never leaves the platform.
        counts = {p.place.code: p.total for p in places if p.place}
        links = {p.code: f"?place={p.id}&lang={language}" for p in tree.provinces()}
        figs.insert(
            0, publish.map_figure({k: str(v) for k, v in counts.items()}, counts, language=language, links=links)
        )
    node = tree.by_id.get(filters.place_id) if filters.place_id else None
    return _render(
        "dashboard.html",
        language,
        header=header,
        tz=time_zone,
        title=t(language, "Supervisor dashboard"),
        figures=figs,
        places=places,
        breadcrumb=tree.path(node.id) if node else [],
        period_text=_period_text(filters, time_zone),
        clusters=q.active_clusters(session, filters=filters),
        body_metrics=q.body_metrics(session, filters=filters),
        csrf=csrf,
        message=message,
        fee_tables=fee_figures.fee_tables(session, filters=filters, threshold=publish.threshold(), language=language),
        threshold=publish.threshold(),
        codes_table=code_figures.codes_table(
            session, filters=filters, threshold=publish.threshold(), language=language
        ),
        can_export_cases=can_export_cases,
        quarters=quarters,
        body_alert=body_alert,
        # Every live quote of the organisation (not only this window's): each can be revoked.
        quotes=approved_quotes(session, filters=q.Filters(org_id=filters.org_id), limit=50) if csrf else [],
    )


def _scorecard_context(session: Session, *, place_id: int, filters: q.Filters, language: str) -> dict[str, object]:
    tree = q.place_tree(session)
    node = tree.by_id.get(place_id)
    if node is None:
        raise NotFound("no such place")
    scoped = q.Filters(filters.since, filters.until, place_id, org_id=filters.org_id)
    cats = q.counts_by(session, by="category", filters=scoped)
    top_values = [v for v, _n in sorted(cats.items(), key=lambda kv: -kv[1])]
    trend = q.reports_over_time(session, by="category", period="month", filters=scoped)
    first = q.time_to_first_response(session, filters=scoped)
    resolution = q.time_to_resolution(session, filters=scoped)
    # Every figure of the card suppressed together: a category's count is both a top-problems row and
    # its row total in the trend, the report total is in both (`publish.scorecard_tables`).
    pubs = publish.scorecard_tables(
        {
            "top": (
                [[cats[v]] for v in top_values],
                [label(language, v) for v in top_values],
                [t(language, "Reports")],
            ),
            "trend": (trend.table(), [label(language, v) for v in trend.values], list(trend.periods)),
            "timing": (
                [list(first.buckets.values()), list(resolution.buckets.values())],
                [t(language, "Time to first response"), t(language, "Time to resolution")],
                [label(language, k) for k in first.buckets],
            ),
        },
        top_values,
        list(trend.values),
    )
    top, trend_pub, timing = pubs["top"], pubs["trend"], pubs["timing"]
    return {
        "place": node,
        "place_name": node.name_km if language == "km" else node.name_en,
        "kind_title": t(language, SCORECARD_TITLES.get(node.kind, "District scorecard")),
        "path": " › ".join((n.name_km if language == "km" else n.name_en) for n in tree.path(place_id)[:-1]),
        "top": top,
        "trend": trend_pub,
        "trend_svg": charts.stacked_bar(
            t(language, "Trend"),
            trend_pub.col_labels,
            publish.chart_values(trend_pub),
            width=700,
            height=300,
            language=language,
        ),
        "timing": timing,
        "avg_first": first.average_hours,
        "avg_resolution": resolution.average_hours,
        "period_text": _period_text(filters),
        "note": publish.suppression_note(language),
        "body_metrics": q.body_metrics(session, filters=scoped),
        "fee_tables": fee_figures.fee_tables(session, filters=scoped, threshold=publish.threshold(), language=language),
        "threshold": publish.threshold(),
    }


def scorecard_page(
    session: Session,
    *,
    place_id: int,
    language: str = "en",
    filters: q.Filters | None = None,
    header: str | None = None,
    time_zone: str | None = None,
) -> str:
    """A facility or district scorecard (suppressed: it is taken to committee meetings), A4-printable."""
    rollup.refresh_if_stale(session)
    _chart_words(language)
    if filters is None:
        since, until = publish.default_window(months=3)
        filters = q.Filters(since, until)
    ctx = _scorecard_context(session, place_id=place_id, filters=filters, language=language)
    if time_zone:
        ctx["period_text"] = _period_text(filters, time_zone)
    return _render("scorecard.html", language, header=header, tz=time_zone, title=ctx["kind_title"], **ctx)


def quarterly_report_html(
    session: Session, *, year: int, quarter: int, language: str = "en", org_id: int | None = None
) -> str:
    """The quarterly evidence report: suppressed charts, top systemic issues, body performance, quotes."""
    rollup.refresh_if_stale(session)
    _chart_words(language)
    since, until = q.quarter_window(year, quarter)
    filters = q.Filters(since, until, org_id=org_id)
    figures = publish.public_figures(session, filters=filters, language=language)
    threshold = publish.threshold()
    clusters = [c for c in q.active_clusters(session, filters=filters, limit=10) if c.size >= threshold]
    return _render(
        "quarterly.html",
        language,
        header="",
        title=t(language, "Quarterly evidence report"),
        quarter=f"{year} Q{quarter}",
        figures=figures,
        clusters=clusters,
        threshold=threshold,
        note=publish.suppression_note(language),
        period_text=_period_text(filters),
        quotes=approved_quotes(session, filters=filters, limit=6),
        body_metrics=q.body_metrics(session, filters=filters),
        fee_tables=fee_figures.fee_tables(session, filters=filters, threshold=threshold, language=language),
        codes_table=code_figures.codes_table(session, filters=filters, threshold=threshold, language=language),
    )


def quarterly_report_pdf(
    session: Session, *, year: int, quarter: int, language: str = "en", org_id: int | None = None
) -> bytes:
    """The quarterly report as PDF, printed by headless Chromium (Debian's `chromium`).

    Chromium shapes Khmer with HarfBuzz and writes /ActualText for every cluster, so the
    text copies and extracts intact (pdftotext); WeasyPrint was tried and loses subscript
    consonants in extraction (one Unicode mapping per glyph).
    """
    return html_to_pdf(quarterly_report_html(session, year=year, quarter=quarter, language=language, org_id=org_id))


MISSING_CHROMIUM = "the quarterly report needs Chromium: apt-get install chromium"


def chromium_binary() -> str:
    """Debian's chromium (SAMLENG_CHROMIUM names another executable); PdfUnavailable says which package
    to install when there is none."""
    named = os.environ.get("SAMLENG_CHROMIUM", "").strip()
    if named:
        found = shutil.which(named)
        if found is None:
            raise PdfUnavailable(f"{MISSING_CHROMIUM} (SAMLENG_CHROMIUM={named} is not an executable)")
        return found
    found = shutil.which("chromium") or shutil.which("/usr/bin/chromium")
    if found is None:
        raise PdfUnavailable(MISSING_CHROMIUM)
    return found


def html_to_pdf(html: str, *, timeout: float = 90.0) -> bytes:
    """Print self-contained HTML (no external resources) to A4 PDF with headless Chromium, offline."""
    binary = chromium_binary()
    with tempfile.TemporaryDirectory(prefix="samleng-pdf-") as tmp:
        source, target = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(html, encoding="utf-8")
        # Offline: no update checks, field trials, sync or QUIC (the report loads nothing from outside).
        cmd = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-quic",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            raise PdfUnavailable(f"Chromium could not print the report: {type(exc).__name__}") from None
        if not target.exists():
            raise PdfUnavailable("Chromium wrote no PDF")
        return target.read_bytes()


class PdfUnavailable(DomainError):
    pass


# -- a dossier, printed (docs/escalation.md, "Collective escalation: the dossier") ---------------------


def dossier_html(session: Session, dossier: Dossier, *, language: str = "en") -> str:
    """The dossier as it may be handed to a body: its suppressed tables and quotes, no identifier."""
    contents = published_dossier.contents(session, dossier, language=language)
    return _render(
        "dossier_print.html",
        language,
        header="",
        title=mask(dossier.title),
        contents=contents,
        map=published_dossier.province_map(contents.as_dict(), language=language),
        tables=[
            ("Cases per month and category", "over-time", contents.over_time),
            ("Cases per province", "places", contents.places),
            ("Bodies already asked, and how they answered", "bodies", contents.bodies),
        ],
        note=publish.suppression_note(language),
        tz=org_zone(session, dossier.org_id),
    )


def dossier_pdf(session: Session, dossier: Dossier, *, language: str, actor: str) -> bytes:
    """The dossier as PDF (Chromium, as the quarterly report: Khmer shaped and extractable). Audited."""
    pdf = html_to_pdf(dossier_html(session, dossier, language=language))
    record(
        session,
        actor=actor,
        action="export.dossier_pdf",
        object_type="dossier",
        object_id=dossier.id,
        detail={"format": "pdf", "language": language},
    )
    return pdf


# -- the quarterly report ---------------------------------------------------------------------------


def quarterly_report(
    session: Session, *, year: int, quarter: int, language: str, org_id: int | None, actor: str, role: str
) -> bytes:
    """The quarterly PDF for supervisors (one organisation's reports, or all for a platform admin). Audited."""
    require_supervisor(role)
    pdf = quarterly_report_pdf(session, year=year, quarter=quarter, language=language, org_id=org_id)
    record(
        session,
        actor=actor,
        action="export.quarterly_report",
        object_type="export",
        detail={"format": "pdf", "period": f"{year}Q{quarter}", "language": language, "org_id": org_id},
    )
    return pdf
