"""Language detection for short, mixed-script SMS: en, km (Khmer script), km-Latn, pt."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from service.triage.rules import rule_words
from service.triage.text import is_khmer, normalise

LANGUAGES = ("en", "km", "km-Latn", "pt")
_DATA = Path(__file__).parent / "data"
_PT_LETTERS = set("ãõçâêôáéíóúàÃÕÇÂÊÔÁÉÍÓÚÀ")


@dataclass(frozen=True)
class Detected:
    language: str
    confidence: float
    scores: dict[str, float]


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, dict[str, float]]:
    """word → {language: weight}, from language.yaml markers and the rules' single words."""
    data = yaml.load((_DATA / "language.yaml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    marker_w, rule_w = float(data["weights"]["marker"]), float(data["weights"]["rule_word"])
    words: dict[str, dict[str, float]] = {}
    for lang, items in data["markers"].items():
        for item in items:
            for word in normalise(str(item)).split():
                words.setdefault(word, {})[lang] = marker_w
    for lang, items in rule_words().items():
        if lang == "km":
            continue
        for word in items:
            words.setdefault(word, {}).setdefault(lang, rule_w)
    return words


def detect(text: str, normalised: str | None = None) -> Detected:
    """The most likely language of a message; `en` when nothing points elsewhere."""
    khmer = latin = pt_marks = 0
    for ch in text:
        if is_khmer(ch):
            khmer += 1
        elif ch.isalpha():
            latin += 1
            if ch in _PT_LETTERS:
                pt_marks += 1
    if khmer and khmer >= 0.3 * (khmer + latin):
        share = khmer / (khmer + latin)
        return Detected("km", round(min(1.0, 0.5 + share / 2), 3), {"km": float(khmer)})
    scores = {"en": 0.0, "km-Latn": 0.0, "pt": 3.0 * pt_marks}
    lexicon = _lexicon()
    for word in (normalised if normalised is not None else normalise(text)).split():
        for lang, weight in lexicon.get(word, {}).items():
            scores[lang] += weight
    best = max(scores, key=lambda k: (scores[k], k == "en"))
    total = sum(scores.values())
    if total <= 0:
        return Detected("en", 0.0, scores)
    return Detected(best, round(scores[best] / total, 3), scores)
