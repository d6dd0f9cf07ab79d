"""Documentation codes suggested from a report's words: who did it (perpetrator type) and what was done
(violation type), with the lexicon words that matched as reasons (docs/triage.md, "Documentation codes").

The word lists are `data/codes.yaml` (en, km, km-Latn, pt), read on every report in all four languages
(Khmer-Latin SMS mixes English words in). A word found inside a longer listed phrase counts once, for
the phrase ("chefe do bairro" is a community leader, not the employer's "chefe"). A violation word
negated as the rule files read negation ("did not hit me", "n me bateu") does not count; a family word
counts only just before a violation word (NEAR_AN_ACT). The code with the
most distinct words wins; a tie goes to the one listed first. Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from service.reports.models import PERPETRATOR_TYPES, VIOLATION_TYPES
from service.triage.rules import Doc, Hit, Term, _Matcher, _negated, ruleset
from service.triage.text import normalise

CODES_FILE = Path(__file__).parent / "data" / "codes.yaml"
LANGUAGES = ("en", "km", "km-Latn", "pt")
FIELDS = {"perpetrator": PERPETRATOR_TYPES, "violation": VIOLATION_TYPES}
# Family words name the victim or the one asking for help as often as the perpetrator ("my father worked
# in the mines", "my daughter was taken"): a family member is suggested only when a violation word
# follows within NEAR characters ("my husband beat me", "pdey knhom vay knhom", "ឪពុកគាត់វាយ").
NEAR_AN_ACT = frozenset({"family_member"})
NEAR = 40


@dataclass(frozen=True)
class Suggestion:
    perpetrator_type: str | None
    violation_type: str | None
    reasons: list[dict]


@lru_cache(maxsize=1)
def _matcher() -> _Matcher:
    spec = yaml.safe_load(CODES_FILE.read_text(encoding="utf-8"))
    terms = []
    for field, codes in spec.items():
        if field not in FIELDS:
            raise ValueError(f"codes.yaml: unknown field {field!r}")
        for code, by_language in codes.items():
            if code not in FIELDS[field] or code == "other":
                raise ValueError(f"codes.yaml: {field} {code!r} cannot be suggested")
            for language, words in by_language.items():
                if language not in LANGUAGES:
                    raise ValueError(f"codes.yaml: unknown language {language!r}")
                terms += [Term(language, field, code, str(word)) for word in words]
    return _Matcher(terms)


def _outer(hits: list[Hit]) -> list[Hit]:
    """Drop a hit lying inside a longer hit (the phrase, not its first word, is what matched)."""
    return [
        h
        for h in hits
        if not any(
            o is not h and o.start <= h.start and h.end <= o.end and (o.end - o.start) > (h.end - h.start) for o in hits
        )
    ]


def suggest(text: str) -> Suggestion:
    """The codes the words of `text` point to (None where nothing matched), with their reasons."""
    normalised = normalise(text)
    rules = ruleset()
    hits = [
        h
        for h in _outer(_matcher().find(Doc(normalised)))
        # "he did not hit me", "n me bateu": a negated violation word is no violation (the rule files' negation).
        if h.term.section != "violation" or not _negated(normalised, h, {h.term.language}, rules)
    ]
    violations = [h for h in hits if h.term.section == "violation"]
    hits = [h for h in hits if h.term.group not in NEAR_AN_ACT or any(0 <= v.start - h.end <= NEAR for v in violations)]
    chosen: dict[str, str | None] = {}
    reasons: list[dict] = []
    for field, codes in FIELDS.items():
        words: dict[str, dict[str, set[str]]] = {}
        for hit in hits:
            if hit.term.section == field:
                words.setdefault(hit.term.group, {}).setdefault(hit.term.word, set()).add(hit.term.language)
        if not words:
            chosen[field] = None
            continue
        best = max(words, key=lambda code: (len(words[code]), -codes.index(code)))
        chosen[field] = best
        reasons.append(
            {
                "kind": "code",
                "rule": f"{field}/{best}",
                "words": sorted(words[best]),
                "languages": sorted({lang for langs in words[best].values() for lang in langs}),
            }
        )
    return Suggestion(chosen["perpetrator"], chosen["violation"], reasons)
