"""Places: country → province → operational district → health centre (and towns, mines)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

KINDS = ("country", "province", "od", "health_centre", "town", "mine")


class Place(SQLModel, table=True):
    __tablename__ = "place"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=80, unique=True, index=True)
    kind: str = Field(max_length=16, index=True)
    name_en: str = Field(max_length=200)
    name_km: str = Field(max_length=200)
    # Other spellings, separated by "|"; matched like names.
    aliases: str = Field(default="", max_length=2000)
    parent_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    population: int | None = Field(default=None)
    # Approximate coordinates (WGS84) where known: Telegram locations are matched to the nearest place.
    lat: float | None = Field(default=None)
    lon: float | None = Field(default=None)
