"""The migrant-miners setting's bodies: for every country that sends miners, its national TB
programme and an ex-mineworkers' association; the regional mechanism and ARASA cover all six."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from service.bodies import service as bodies
from service.places.models import Place
from service.places.service import match_place
from tests.routing.test_southern_africa import SENDING_COUNTRIES


@pytest.fixture
def loaded(session: Session, places) -> Session:  # type: ignore[no-untyped-def]
    bodies.load_bodies(session)
    return session


def _country(session: Session, place: Place) -> str:
    while place.parent_id is not None:
        place = session.get_one(Place, place.parent_id)
    return place.code


@pytest.mark.parametrize("country,town", sorted(SENDING_COUNTRIES.items()))
def test_every_sending_country_has_its_tb_programme_and_association(
        loaded: Session, country: str, town: str) -> None:
    place = match_place(loaded, town)
    assert place is not None and _country(loaded, place) == country
    ntp = bodies.resolve_level(loaded, level="national", place_id=place.id, category=None, network="tb_mining")
    assert ntp is not None and bodies.jurisdiction_codes(loaded, ntp) == [country]
    assert "TB" in ntp.name_en
    association = bodies.resolve_level(loaded, level="national", place_id=place.id, category=None,
                                       network="ex_mineworkers")
    assert association is not None and "mineworkers" in association.name_en.lower()
    regional = bodies.resolve_level(loaded, level="regional", place_id=place.id, category=None,
                                    network="tb_mining")
    assert regional is not None and regional.slug == "sadc-tb-mining"
    arasa = bodies.get_body(loaded, "arasa")
    assert country in bodies.jurisdiction_codes(loaded, arasa)


