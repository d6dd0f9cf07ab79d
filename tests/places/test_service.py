"""Matching what people type against the places table."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from service.places.models import Place
from service.places.service import load_places, match_place


@pytest.mark.parametrize(
    "typed, code",
    [
        ("Chrey", "KH-2-OD-THMORKOUL-HC-CHREY"),
        ("chrey health center", "KH-2-OD-THMORKOUL-HC-CHREY"),
        ("Chrey HC", "KH-2-OD-THMORKOUL-HC-CHREY"),
        ("ជ្រៃ", "KH-2-OD-THMORKOUL-HC-CHREY"),
        ("Battambang", "KH-2"),
        ("battambong", "KH-2"),  # misspelt
        ("បាត់ដំបង", "KH-2"),
        ("ខេត្តបាត់ដំបង", "KH-2"),
        ("Phnom Penh", "KH-12"),
        ("phnompenh", "KH-12"),
        ("Siem Reap province", "KH-17"),
        ("Thmor Koul", "KH-2-OD-THMORKOUL"),
        ("Thma Koul", "KH-2-OD-THMORKOUL"),
    ],
)
def test_typed_names_find_the_place(session: Session, places, typed: str, code: str) -> None:  # type: ignore[no-untyped-def]
    place = match_place(session, typed)
    assert place is not None, typed
    assert place.code == code


@pytest.mark.parametrize("typed", ["Carletonville", "Mponeng"])
def test_southern_africa_places(session: Session, places, typed: str) -> None:  # type: ignore[no-untyped-def]
    place = match_place(session, typed)
    assert place is not None and place.code.startswith("ZA")


@pytest.mark.parametrize("typed", ["", "x", "at home", "the market behind my house", "12345"])
def test_unrelated_text_matches_nothing(session: Session, places, typed: str) -> None:  # type: ignore[no-untyped-def]
    assert match_place(session, typed) is None


def test_places_file_has_the_whole_country(session: Session, places) -> None:  # type: ignore[no-untyped-def]
    provinces = session.exec(select(Place).where(Place.kind == "province", Place.code.startswith("KH-"))).all()  # type: ignore[attr-defined]
    assert len(provinces) == 25
    assert all(p.name_km and any("\u1780" <= ch <= "\u17ff" for ch in p.name_km) for p in provinces)
    assert session.exec(select(func.count()).select_from(Place).where(Place.kind == "health_centre")).one() > 200
    assert session.exec(select(func.count()).select_from(Place).where(Place.kind == "mine")).one() > 5


def test_loading_twice_changes_nothing(session: Session, places) -> None:  # type: ignore[no-untyped-def]
    before = session.exec(select(func.count()).select_from(Place)).one()
    load_places(session)
    session.flush()
    assert session.exec(select(func.count()).select_from(Place)).one() == before
