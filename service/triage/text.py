"""Text normalisation shared by the rules, the language detector and the model."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
# Spellings that look the same on screen are folded to one: subscript ដ/ត, and ឲ្យ/អោយ/ឱ្យ; and
# two spellings of one word: អំបាញ់មិញ/អម្បាញ់មិញ ("a moment ago"; the first ends in បាញ់, "shoot").
_KHMER_SAME = (("\u17d2\u178a", "\u17d2\u178f"), ("អោយ", "ឲ្យ"), ("ឱ្យ", "ឲ្យ"), ("អំបាញ់មិញ", "អម្បាញ់មិញ"))
_APOSTROPHES = re.compile(r"['’‘`´]")
_REPEATS = re.compile(r"([a-z])\1{2,}")
# Anything that is not a letter, digit, Khmer sign or "$" separates words.
_NOT_WORD = re.compile(r"[^0-9a-z$\u1780-\u17d3\u17dc\u17dd\u17e0-\u17e9\u19e0-\u19ff\u00c0-\u024f]+")
_SPACES = re.compile(r"\s+")
# "អស់ថ្នាំARVនៅ" → "អស់ថ្នាំ arv នៅ": Latin words inside Khmer become words of their own.
_SCRIPT_EDGE = re.compile(r"(?<=[\u1780-\u17ff])(?=[0-9a-z$])|(?<=[0-9a-z$])(?=[\u1780-\u17ff])")


def _strip_latin_marks(text: str) -> str:
    # Only combining marks of Latin letters go (não → nao); Khmer vowel signs stay.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not (0x0300 <= ord(ch) <= 0x036F))


def normalise(text: str) -> str:
    """Fold case, accents, apostrophes, Khmer digits, repeated letters and punctuation."""
    text = text.translate(_ZERO_WIDTH).translate(_DIGITS)
    if not text.isascii():
        text = _strip_latin_marks(text)
        for variant, canonical in _KHMER_SAME:
            text = text.replace(variant, canonical)
    text = _APOSTROPHES.sub("", text.casefold())
    text = _REPEATS.sub(r"\1", text)
    text = _NOT_WORD.sub(" ", text)
    if not text.isascii():
        text = _SCRIPT_EDGE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def is_khmer(ch: str) -> bool:
    return "\u1780" <= ch <= "\u17ff" or "\u19e0" <= ch <= "\u19ff"


# Khmer written in Latin letters has no standard spelling: one word is typed "khluon", "kluen"
# or "khlourn", "chob" or "jop", "knhom", "knyom" or "kgnom". The consonant skeleton of a word
# keeps what most spellings share (general romanisation habits, not a word list): aspirated
# consonants lose their "h", "j" and "ch" are one sound, the nasal digraphs "nh", "ny", "gn"
# are one letter, an "r" after a vowel is silent ("ort", "mork"), a final "d"/"b" is "t"/"p",
# doubled letters are one, and the vowels, the least stable part, go.
_SKELETON_STEPS = (
    (re.compile(r"(?<=[aeiou])r(?=[^aeiou]|$)"), ""),
    (re.compile(r"chh|ch|j"), "c"),
    (re.compile(r"(?<=[kptcs])h"), ""),
    (re.compile(r"nh|ny|gn"), "n"),
    (re.compile(r"d$"), "t"),
    (re.compile(r"b$"), "p"),
    (re.compile(r"[aeiouy]+"), ""),
    (re.compile(r"(.)\1+"), r"\1"),
)
_LATIN_WORD = re.compile(r"^[a-z]{3,}$")


@lru_cache(maxsize=65_536)
def skeleton(word: str) -> str:
    """The consonant skeleton of one romanised Khmer word ("khluon", "kluen" → "kln")."""
    for pattern, repl in _SKELETON_STEPS:
        word = pattern.sub(repl, word)
    return word


def with_skeletons(normalised: str) -> str:
    """A normalised message followed by the consonant skeletons of its Latin words."""
    skeletons = [skeleton(w) for w in normalised.split(" ") if _LATIN_WORD.match(w)]
    skeletons = [s for s in skeletons if s]
    return normalised + " | " + " ".join(skeletons) if skeletons else normalised
