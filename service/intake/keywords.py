"""Recognise keywords and menu answers from the reviewable word lists in data/keywords.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from service.reports.models import CATEGORIES

_DATA = Path(__file__).parent / "data" / "keywords.yaml"
_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Command:
    name: str  # help, stop, start, status, delete, language
    argument: str = ""


@lru_cache(maxsize=1)
def _words() -> dict:
    data = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    sets = {k: {str(w).casefold() for w in v} for k, v in data.items() if k != "category_words"}
    sets["category_words"] = {
        cat: {str(w).casefold() for w in words} for cat, words in data["category_words"].items()
    }
    return sets


def normalise(text: str) -> str:
    """Trim, collapse spaces, fold Khmer digits and case; strip trailing punctuation."""
    return _SPACE.sub(" ", text.translate(_KHMER_DIGITS)).strip().strip(".!។").casefold()


def _is(kind: str, text: str) -> bool:
    return normalise(text) in _words()[kind]


def parse_command(text: str) -> Command | None:
    """A whole-message keyword (HELP, STOP, STATUS <code>, ...) or None for anything else."""
    norm = normalise(text)
    words = _words()
    for name in ("help", "stop", "start"):
        if norm in words[name]:
            return Command(name)
    if norm in words["language_km"]:
        return Command("language", "km")
    if norm in words["language_en"]:
        return Command("language", "en")
    head, _, rest = norm.partition(" ")
    for name in ("status", "delete"):
        if head in words[name]:
            return Command(name, rest.strip())
    return None


def is_skip(text: str) -> bool:
    return _is("skip", text)


def is_yes(text: str) -> bool:
    return _is("yes", text)


def is_no(text: str) -> bool:
    return _is("no", text)


def category_answer(text: str) -> str | None:
    """Menu number 1-5 or a category word → category code."""
    norm = normalise(text)
    if norm.isdigit() and 1 <= int(norm) <= len(CATEGORIES):
        return CATEGORIES[int(norm) - 1]
    for category, words in _words()["category_words"].items():
        if norm in words:
            return category
    return None
