"""Inline keyboards built from the dialogue's `Reply` and from the places table.

Callback data (64 bytes at most, no identifiers):
  a:<step>:<answer>   an answer to the current question (what the person would type)
  p:<place id>        open a place (its children), or choose it when it has none
  c:<place id>        choose this place (a province, a district) as the answer
  pc                  the list of countries
  l:<language>        switch language
  x:ask | x:go | x:keep   the clean exit
Only inline keyboards exist here: the bot never asks for a phone number or a location
(no request_contact / request_location buttons, no reply keyboards).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bots.telegram import texts
from service.intake.schemas import Reply
from service.kit.i18n import gettext
from service.places.models import Place

PER_ROW = 2


def _rows(buttons: list[InlineKeyboardButton], per_row: int = PER_ROW) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _skip(language: str, step: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(gettext(language, texts.SKIP), callback_data=f"a:{step}:0")


def for_reply(reply: Reply, places: PlaceMenu | None = None) -> InlineKeyboardMarkup | None:
    """Buttons for the question a reply asks (None when it asks nothing)."""
    if reply.step is None:
        return None
    if reply.step == "place":
        return places.markup if places is not None else InlineKeyboardMarkup([[_skip(reply.language, "place")]])
    buttons = [InlineKeyboardButton(o.label, callback_data=f"a:{reply.step}:{o.answer}") for o in reply.options]
    per_row = 1 if reply.step == "category" else PER_ROW
    return InlineKeyboardMarkup([*_rows(buttons, per_row), [_skip(reply.language, reply.step)]])


@dataclass(frozen=True)
class PlaceMenu:
    markup: InlineKeyboardMarkup


def _name(place: Place, language: str) -> str:
    return place.name_km if language == "km" and place.name_km else place.name_en


def place_menu(session: Session, language: str, parent_id: int | None = None, *, countries: bool = False) -> PlaceMenu:
    """Province → district → facility buttons. Without a parent: the first country's provinces."""
    buttons: list[InlineKeyboardButton] = []
    extra: list[list[InlineKeyboardButton]] = []
    if countries:
        roots = session.exec(select(Place).where(col(Place.parent_id).is_(None)).order_by(col(Place.id))).all()
        buttons = [InlineKeyboardButton(_name(p, language), callback_data=f"p:{p.id}") for p in roots]
    else:
        parent = session.get(Place, parent_id) if parent_id is not None else None
        if parent is None:
            root = session.exec(select(Place).where(col(Place.parent_id).is_(None)).order_by(col(Place.id))).first()
            if root is None:
                return PlaceMenu(InlineKeyboardMarkup([[_skip(language, "place")]]))
            parent = root
            extra.append([InlineKeyboardButton(gettext(language, texts.PLACE_OTHER_COUNTRY), callback_data="pc")])
        else:
            extra.append(
                [
                    InlineKeyboardButton(
                        gettext(language, texts.PLACE_ALL, place=_name(parent, language)),
                        callback_data=f"c:{parent.id}",
                    )
                ]
            )
            back = f"p:{parent.parent_id}" if parent.parent_id is not None else "pc"
            extra.append([InlineKeyboardButton(gettext(language, texts.PLACE_BACK), callback_data=back)])
        children = session.exec(select(Place).where(Place.parent_id == parent.id).order_by(col(Place.name_en))).all()
        buttons = [InlineKeyboardButton(_name(p, language), callback_data=f"p:{p.id}") for p in children]
    return PlaceMenu(InlineKeyboardMarkup([*_rows(buttons), *extra, [_skip(language, "place")]]))


def language_menu() -> InlineKeyboardMarkup:
    """Each language named in itself, so a person finds their own whatever language is showing."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("ខ្មែរ", callback_data="l:km"),
                InlineKeyboardButton("English", callback_data="l:en"),
                InlineKeyboardButton("Português", callback_data="l:pt"),
            ]
        ]
    )


def exit_offer(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(gettext(language, texts.EXIT_DELETE), callback_data="x:ask"),
                InlineKeyboardButton(gettext(language, texts.EXIT_KEEP), callback_data="x:keep"),
            ]
        ]
    )


def exit_confirm(language: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(gettext(language, texts.EXIT_CONFIRM), callback_data="x:go"),
                InlineKeyboardButton(gettext(language, texts.EXIT_KEEP), callback_data="x:keep"),
            ]
        ]
    )
