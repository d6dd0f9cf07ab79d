"""Reading one message: its normalised text, its language, and what the word lists find in it.

The first step of both the quick read (quick.py) and the full triage (service.py), and of the
model's features (model.py). The language detector weighs the lists' words as evidence
(language.py reads them from rules.py); the lists are then read in the languages detected.
"""

from __future__ import annotations

from service.triage import language as lang_mod
from service.triage.rules import RuleFindings, find
from service.triage.text import normalise


def analyse(text: str) -> tuple[str, lang_mod.Detected, RuleFindings]:
    """normalised text, detected language and rule findings for one message."""
    normalised = normalise(text)
    detected = lang_mod.detect(text, normalised)
    languages = {detected.language, "en"}
    for lang, score in detected.scores.items():
        if score and score >= 0.5 * detected.scores.get(detected.language, 0):
            languages.add(lang)
    question = "?" in text or "\uff1f" in text
    found = find(normalised, language=detected.language, languages=languages, question=question)
    return normalised, detected, found
