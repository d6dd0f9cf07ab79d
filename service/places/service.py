"""Load places from the repo's data file and match what people type against them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from rapidfuzz import fuzz, process
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from service.config import get_settings
from service.kit import cache
from service.kit.fastsql import FastQuery, session_connection
from service.kit.models import require_id
from service.places.models import Place

DATA_FILE = Path(__file__).parent / "data" / "places.yaml"
COORDINATES_FILE = Path(__file__).parent / "data" / "coordinates.yaml"
_KIND_RANK = {"health_centre": 0, "mine": 0, "od": 1, "town": 1, "province": 2, "country": 3}
# Generic words people add around a name; removed before matching.
_NOISE = re.compile(
    r"\b(health\s*cent(?:re|er)|hc|province|district|od|"
    r"operational|commune|khan|srok|krong|town|city|mine|the|in|at|near)\b|"
    r"មណ្ឌលសុខភាព|ខេត្ត|ស្រុក|ក្រុង|ខណ្ឌ|ឃុំ|សង្កាត់|នៅ",
    re.IGNORECASE,
)
_CACHE_SECONDS = 300


def load_places(session: Session, path: Path | None = None) -> int:
    """Insert or update every place in the data file (idempotent); returns the number of places."""
    path = path or Path(get_settings().places_file or DATA_FILE)
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    existing = {p.code: p for p in session.exec(select(Place)).all()}
    coordinates = yaml.safe_load(COORDINATES_FILE.read_text(encoding="utf-8")) or {}
    count = 0

    def visit(node: dict[str, Any], parent: Place | None) -> None:
        nonlocal count
        place = existing.get(node["code"]) or Place(code=node["code"], kind=node["kind"], name_en="", name_km="")
        place.kind = node["kind"]
        place.name_en = node["name_en"]
        place.name_km = node.get("name_km") or node["name_en"]
        place.aliases = "|".join(str(a) for a in node.get("aliases") or [])
        place.population = node.get("population")
        place.parent_id = parent.id if parent else None
        lat_lon = (node["lat"], node["lon"]) if "lat" in node and "lon" in node else coordinates.get(node["code"])
        place.lat, place.lon = (float(lat_lon[0]), float(lat_lon[1])) if lat_lon else (None, None)
        session.add(place)
        session.flush()
        count += 1
        for child in node.get("children") or []:
            visit(child, place)

    for root in tree:
        visit(root, None)
    _index.clear()
    return count


@dataclass(frozen=True)
class _Entry:
    place_id: int
    kind: str
    label: str  # normalised name variant
    ancestors: str  # normalised names of the parents, for tie-breaking


# The names to match against, by database (the engine), for a few minutes.
_index = cache.named("places.index", maxsize=4, ttl=_CACHE_SECONDS)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _NOISE.sub(" ", text.casefold())).strip(" ,.-។")


def _entries(session: Session) -> list[_Entry]:
    bind_key = id(session.get_bind())
    kept = _index.get(bind_key)
    if kept is not None:
        return kept
    places = {p.id: p for p in session.exec(select(Place)).all()}
    entries: list[_Entry] = []
    for place in places.values():
        chain, parent = [], places.get(place.parent_id)
        while parent is not None:
            chain.append(_clean(parent.name_en) + " " + _clean(parent.name_km))
            parent = places.get(parent.parent_id)
        names = {place.name_en, place.name_km, *(a for a in place.aliases.split("|") if a)}
        for name in names:
            label = _clean(name)
            if label:
                entries.append(_Entry(require_id(place), place.kind, label, " ".join(chain)))
    return _index.put(bind_key, entries)


def match_place(session: Session, text: str, *, threshold: float = 82.0) -> Place | None:
    """The place a reporter most likely means, tolerant of spelling; None when nothing is close."""
    query = _clean(text)
    if len(query) < 2:
        return None
    entries = _entries(session)
    if not entries:
        return None
    labels = [e.label for e in entries]
    candidates = process.extract(query, labels, scorer=fuzz.WRatio, limit=12, score_cutoff=threshold)
    if not candidates:
        return None

    def rank(candidate: tuple[str, float, int]) -> tuple[float, float, int]:
        entry = entries[candidate[2]]
        # Prefer a whole-name hit, then a place whose parents the text also names; on a tie the broader
        # area wins: "Battambang" means the province, not the hospital or OD of the same name.
        exact = 1.0 if fuzz.ratio(query, entry.label) >= 90 or entry.label in query.split() else 0.0
        # Only words beyond the place's own name count as naming its parents ("Chrey Battambang").
        rest = query.replace(entry.label, " ").strip()
        context = fuzz.partial_ratio(entry.ancestors, rest) / 100 if entry.ancestors and len(rest) >= 3 else 0.0
        return (candidate[1] + 10 * exact + 5 * context, _KIND_RANK.get(entry.kind, -1), -entry.place_id)

    best = max(candidates, key=rank)
    return session.get(Place, entries[best[2]].place_id)


def nearest_place(session: Session, lat: float, lon: float, *, max_km: float = 80.0) -> Place | None:
    """The place with coordinates closest to (lat, lon), if one is within `max_km`; else None.

    The caller must discard the coordinates afterwards: only the place is kept.
    """
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    best: tuple[float, int, Place] | None = None
    for place in session.exec(select(Place).where(col(Place.lat).is_not(None), col(Place.lon).is_not(None))).all():
        if place.lat is None or place.lon is None:  # the query asked for both
            continue
        km = _distance_km(lat, lon, place.lat, place.lon)
        key = (km, -_KIND_RANK.get(place.kind, -1), place)
        if best is None or key[:2] < best[:2]:
            best = key
    return best[2] if best is not None and best[0] <= max_km else None


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))


class PlaceName(NamedTuple):
    name_en: str
    name_km: str


_NAMES = FastQuery(select(Place.name_en, Place.name_km).where(Place.id == bindparam("place_id")), PlaceName)


def names_of(session: Session, place_id: int) -> PlaceName | None:
    """A place's names in English and Khmer (the case page's "Place"); None for no such place."""
    found = _NAMES.all(session_connection(session), {"place_id": place_id})
    return found[0] if found else None
