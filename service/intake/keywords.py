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
# Portuguese accents are optional in keywords (many phones and people leave them out).
_LATIN_ACCENTS = str.maketrans("áàâãéêíóôõúüç", "aaaaeeiooouuc")
_SPACE = re.compile(r"\s+")
# A STATUS or DELETE keyword is followed by a receipt code at most (e.g. "7K3M-9QXZ" or "7K3M 9QXZ");
# a longer message that merely starts with the word ("Estado de saude ...") is a report.
_MAX_ARGUMENT_WORDS = 2
_MAX_ARGUMENT_CHARS = 20


@dataclass(frozen=True)
class Command:
    name: str  # help, stop, start, status, delete, language
    argument: str = ""
    language: str | None = None  # the language of the keyword itself (en, km, pt)


@lru_cache(maxsize=1)
def _words() -> dict:
    """kind → {normalised word: language} for keywords; kind → set of words for answers."""
    data = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    sets: dict = {}
    for kind, value in data.items():
        if kind == "category_words":
            sets[kind] = {cat: {normalise(str(w)) for w in words} for cat, words in value.items()}
        elif isinstance(value, dict):
            sets[kind] = {normalise(str(w)): language for language, words in value.items() for w in words}
        else:
            sets[kind] = {normalise(str(w)) for w in value}
    return sets


def normalise(text: str) -> str:
    """Trim, collapse spaces, fold Khmer digits, case and Portuguese accents; strip trailing punctuation."""
    folded = _SPACE.sub(" ", text.translate(_KHMER_DIGITS)).strip().strip(".!។").casefold()
    return folded.translate(_LATIN_ACCENTS)


def _is(kind: str, text: str) -> bool:
    return normalise(text) in _words()[kind]


def parse_command(text: str) -> Command | None:
    """A whole-message keyword (HELP, STOP, STATUS <code>, PT, ...) or None for anything else."""
    norm = normalise(text)
    words = _words()
    for name in ("help", "stop", "start"):
        if norm in words[name]:
            return Command(name, language=words[name][norm])
    if norm in words["language"]:
        language = words["language"][norm]
        return Command("language", language, language=language)
    head, _, rest = norm.partition(" ")
    rest = rest.strip()
    for name in ("status", "delete"):
        if head in words[name] and len(rest) <= _MAX_ARGUMENT_CHARS and len(rest.split()) <= _MAX_ARGUMENT_WORDS:
            return Command(name, rest, language=words[name][head])
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
