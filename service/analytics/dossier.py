"""What a dossier publishes: suppressed counts over time, per province and per body asked, and approved quotes.

Computed when read from the dossier's linked cases (service/escalation/dossiers.py), never stored, with no
identifier in it. The three tables go through `publish.suppress_page` together: the time table's grand
total and the places table's are the same number (the linked cases), so one cannot show what the other
hides. docs/escalation.md, "Collective escalation: the dossier".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from service.analytics import charts
from service.analytics import queries as q
from service.analytics.labels import label, t
from service.analytics.models import ApprovedQuote
from service.analytics.publish import Figure, map_figure, suppress_page, threshold
from service.analytics.suppression import Published
from service.bodies.models import GrievanceBody
from service.bodies.service import display_name
from service.escalation import dossiers
from service.escalation.models import Dossier, Escalation
from service.kit.clock import as_utc
from service.kit.i18n import N_
from service.orgs.zones import org_zone
from service.places.models import Place

# How a body asked about a linked case has answered so far (one column each, in this order).
OUTCOMES = ("answered", "not_ours", "waiting", "no_answer")
NO_PLACE = "-"  # a case whose place is not known
WORDS = {
    "answered": N_("answered"),
    "not_ours": N_("not theirs"),
    "waiting": N_("waiting for an answer"),
    "no_answer": N_("no answer"),
    "cases": N_("cases"),
    "no_place": N_("place not known"),
}
MAP_NOTE = N_(
    "The map shows only the counts of the table of cases per province: a hidden count is hatched and carries no number."
)


def word(language: str, key: str) -> str:
    return t(language, WORDS[key])


def outcome(escalation: Escalation) -> str:
    """answered (action taken or resolved) · not_ours · waiting (deadline running) · no_answer (expired,
    or moved on without an answer)."""
    if escalation.status == "not_ours":
        return "not_ours"
    if escalation.responded_at is not None or escalation.status in ("responded", "resolved"):
        return "answered"
    if escalation.status in ("open", "acknowledged"):
        return "waiting"
    return "no_answer"


@dataclass
class Contents:
    """A dossier as it may be printed or sent to a body: suppressed tables and quotes, no identifiers."""

    title: str
    language: str
    cases: int  # the true number: shown only through the tables' (suppressed) grand total
    over_time: Published  # months x categories
    places: Published  # provinces x 1
    bodies: Published  # bodies x OUTCOMES
    map_points: list[dict[str, object]] = field(default_factory=list)  # provinces whose count is shown
    quotes: list[str] = field(default_factory=list)
    quotes_withheld: bool = False  # too few cases for a quote to be safe
    place_codes: list[str] = field(default_factory=list)  # the places table's province codes, row by row ("" unknown)

    def as_dict(self) -> dict[str, object]:
        def table(pub: Published) -> dict[str, object]:
            return {"rows": pub.row_labels, "columns": pub.col_labels, "cells": pub.grid()}

        return {
            "title": self.title,
            "language": self.language,
            "threshold": self.over_time.threshold,
            "over_time": table(self.over_time),
            "places": table(self.places),
            "place_codes": self.place_codes,
            "bodies": table(self.bodies),
            "map": self.map_points,
            "quotes": self.quotes,
            "quotes_withheld": self.quotes_withheld,
        }


def _month(stamp: datetime, zone: ZoneInfo) -> str:
    return as_utc(stamp).astimezone(zone).strftime("%Y-%m")


def suppressed_tables(raws: dict[str, dict]) -> dict[str, Published]:
    """The dossier's three tables (`suppress` arguments under over_time, places, bodies) suppressed together:
    the time table's grand total and the places table's are one number, the linked cases."""
    n_months, n_cats = len(raws["over_time"]["row_labels"]), len(raws["over_time"]["col_labels"])
    n_prov = len(raws["places"]["row_labels"])
    return suppress_page(raws, dossier_links(n_months, n_cats, n_prov))


def dossier_links(n_months: int, n_categories: int, n_provinces: int) -> list[list[tuple[str, tuple[int, int]]]]:
    return [[("over_time", (n_months, n_categories)), ("places", (n_provinces, 1))]]


def contents(session: Session, dossier: Dossier, *, language: str = "en") -> Contents:
    reports = dossiers.cases(session, dossier)
    zone = ZoneInfo(org_zone(session, dossier.org_id))
    tree = q.place_tree(session)

    months = sorted({_month(r.created_at, zone) for r in reports})
    categories = sorted({r.category or "other" for r in reports})
    grid = [[0] * len(categories) for _ in months]
    by_province: dict[str, int] = {}
    province_node: dict[str, q.PlaceNode] = {}
    for r in reports:
        grid[months.index(_month(r.created_at, zone))][categories.index(r.category or "other")] += 1
        node = tree.province_of(r.place_id)
        key = node.code if node is not None else NO_PLACE
        by_province[key] = by_province.get(key, 0) + 1
        if node is not None:
            province_node[key] = node
    provinces = sorted(by_province, key=lambda k: (k == NO_PLACE, k))

    def place_name(key: str) -> str:
        node = province_node.get(key)
        if node is None:
            return word(language, "no_place")
        return node.name_km if language == "km" else node.name_en

    escalations = (
        list(session.exec(select(Escalation).where(col(Escalation.report_id).in_([r.id for r in reports]))).all())
        if reports
        else []
    )
    per_body: dict[int, list[int]] = {}
    for e in escalations:
        per_body.setdefault(e.body_id, [0] * len(OUTCOMES))[OUTCOMES.index(outcome(e))] += 1
    bodies = {
        b.id: b for b in session.exec(select(GrievanceBody).where(col(GrievanceBody.id).in_(list(per_body)))).all()
    }
    body_ids = sorted(per_body, key=lambda i: bodies[i].slug)

    raws = {
        "over_time": {
            "table": grid or [[0]],
            "row_labels": months or ["-"],
            "col_labels": [label(language, c) for c in categories] or ["-"],
        },
        "places": {
            "table": [[by_province[k]] for k in provinces] or [[0]],
            "row_labels": [place_name(k) for k in provinces] or ["-"],
            "col_labels": [word(language, "cases")],
        },
        "bodies": {
            "table": [per_body[i] for i in body_ids] or [[0] * len(OUTCOMES)],
            "row_labels": [display_name(bodies[i], language) for i in body_ids] or ["-"],
            "col_labels": [word(language, o) for o in OUTCOMES],
        },
    }
    pubs = suppressed_tables(raws)

    points = []
    for i, key in enumerate(provinces):
        node = province_node.get(key)
        place = session.get(Place, node.id) if node is not None else None
        if place is not None and place.lat is not None and (i, 0) not in pubs["places"].hidden:
            points.append(
                {"name": place_name(key), "lat": place.lat, "lon": place.lon, "count": pubs["places"].values[i][0]}
            )

    safe = len(reports) >= threshold()
    quotes: list[str] = []
    if safe and reports:
        quotes = list(
            session.exec(
                select(ApprovedQuote.excerpt_masked)
                .where(
                    col(ApprovedQuote.report_id).in_([r.id for r in reports]), col(ApprovedQuote.revoked_at).is_(None)
                )
                .order_by(col(ApprovedQuote.id))
            ).all()
        )
    return Contents(
        title=dossier.title,
        language=language,
        cases=len(reports),
        over_time=pubs["over_time"],
        places=pubs["places"],
        bodies=pubs["bodies"],
        map_points=points,
        quotes=quotes,
        quotes_withheld=not safe,
        place_codes=[k if k != NO_PLACE else "" for k in provinces],
    )


def province_map(published: dict, *, language: str) -> Figure | None:
    """The places table as published (`Contents.as_dict()`, or the snapshot an escalation stores) drawn as the
    suppressed province map; None when none of its provinces is on the map (outside Cambodia: the table only).

    It reads the table's shown cells only, never the linked cases: a province whose count the table hides
    ("<10", "x") is passed to the map as None, so no number of it reaches the SVG.
    """
    table = published["places"]
    shown: dict[str, str] = {}
    plotted: dict[str, int | None] = {}
    for code, row in zip(published.get("place_codes") or [], table["cells"]):  # stops before the totals row
        if not code:
            continue
        marks = [cell for cell in row if not cell.isdigit()]
        shown[code] = marks[0] if marks else row[0]
        plotted[code] = None if marks else int(row[0])
    if not charts.map_covers(shown):
        return None
    figure = map_figure(shown, plotted, language=language, title=t(language, "Cases per province"))
    figure.caption = f"{t(language, MAP_NOTE)} {figure.caption}"
    return figure
