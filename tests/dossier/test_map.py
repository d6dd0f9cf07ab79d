"""A dossier's province table drawn as the suppressed map: from the published table only, so a province whose
count the table hides is hatched and its number is nowhere in the SVG; no map outside Cambodia."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from sqlmodel import Session, select

from service.analytics import charts
from service.analytics import dossier as published
from service.escalation import dossiers
from service.escalation.models import Dossier
from service.orgs.models import Organisation
from service.reports.models import Report
from tests.analytics.test_map import SVG_NS, _leaks, _shapes
from tests.escalation.factories import make_case


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def _dossier(s: Session, counts: dict[str, int]) -> Dossier:
    org_id = s.exec(select(Organisation.id).order_by(Organisation.id)).first()
    cases: list[Report] = []
    for code, n in counts.items():
        cases += [make_case(s, narrative="No ARV at the health centre", place=code) for _ in range(n)]
    for r in cases:  # one organisation holds them all, wherever they are
        r.org_id = org_id
        s.add(r)
    s.flush()
    return dossiers.build(s, org_id=org_id, title="ARV stock-outs", actor="sup@khana",  # type: ignore[arg-type]
                          report_ids=[r.id for r in cases])  # type: ignore[misc]


def test_a_hidden_province_is_hatched_and_its_count_is_nowhere_in_the_map(s: Session) -> None:
    # Phnom Penh's 7 is small (<10); the suppression hides a partner too, so that 7 cannot be worked out.
    made = _dossier(s, {"KH-2": 14, "KH-17": 13, "KH-12": 7})
    contents = published.contents(s, made, language="en")
    published_places = contents.as_dict()
    assert published_places["place_codes"] == ["KH-12", "KH-17", "KH-2"]
    hidden = {code: n for i, (code, n) in enumerate((("KH-12", 7), ("KH-17", 13), ("KH-2", 14)))
              if (i, 0) in contents.places.hidden}
    assert "KH-12" in hidden and len(hidden) == 2  # the small one and one partner

    figure = published.province_map(published_places, language="en")
    assert figure is not None and figure.title == "Cases per province"
    svg = ET.fromstring(figure.svg)
    shapes = _shapes(svg)
    shown_code, shown_n = next((c, n) for c, n in (("KH-17", 13), ("KH-2", 14)) if c not in hidden)
    assert str(shown_n) in [t.text for t in svg.iter(f"{SVG_NS}text")]
    assert shapes[shown_code].find(f"{SVG_NS}title").text.endswith(f": {shown_n}")  # type: ignore[union-attr]
    for code, n in hidden.items():
        assert shapes[code].get("class") == "province hidden"
        assert shapes[code].get("fill") == f"url(#{charts.HATCH_ID})"
        mark = contents.places.shown(["KH-12", "KH-17", "KH-2"].index(code), 0)
        assert shapes[code].find(f"{SVG_NS}title").text.endswith(f": {mark}")  # type: ignore[union-attr]
        # No title, desc, data attribute, label or legend entry of the whole map carries the hidden count.
        assert _leaks(svg, str(n)) == [], code
        assert re.search(rf"(?<!\d){n}(?!\d)", figure.caption) is None  # (the caption's "2013" is a year)
    assert "only the counts of the table" in figure.caption and "Natural Earth" in figure.caption


def test_the_map_is_drawn_from_the_published_cells_only(s: Session) -> None:
    # Whatever the linked cases say, the map sees only what the table (or a stored snapshot) shows.
    snapshot = {"places": {"rows": ["Battambang", "Phnom Penh"], "columns": ["cases"],
                           "cells": [["12", "12"], ["<10", "<10"], ["x", "x"]]},
                "place_codes": ["KH-2", "KH-12"]}
    svg = ET.fromstring(published.province_map(snapshot, language="km").svg)  # type: ignore[union-attr]
    shapes = _shapes(svg)
    assert "hidden" in shapes["KH-12"].get("class", "") and "bin-" in shapes["KH-2"].get("class", "")
    assert shapes["KH-12"].find(f"{SVG_NS}title").text.endswith(": <10")  # type: ignore[union-attr]
    assert "ករណីតាមខេត្ត" in [t.text for t in svg.iter(f"{SVG_NS}text")]


def test_a_dossier_outside_the_map_has_no_map_only_its_tables(s: Session) -> None:
    made = _dossier(s, {"ZA-GP": 12, "LS-A": 3})
    contents = published.contents(s, made, language="pt")
    assert contents.as_dict()["place_codes"] == ["LS-A", "ZA-GP"]
    assert published.province_map(contents.as_dict(), language="pt") is None
    html = published.province_map(published.contents(s, _dossier(s, {"KH-2": 3, "ZA-GP": 12}), language="en")
                                  .as_dict(), language="en")
    assert html is not None and "Provinces outside Cambodia are not on the map" in html.caption
