"""Which language to answer a reporter in.

A reporter's language is kept with their pseudonym (reporter.language) and their open
conversation: set by their first report, or by a language keyword (KH, EN, PT). Once kept,
it wins over whatever a later message looks like — a Khmer reporter typing
`STATUS 7K3M-9QXZ` in Latin letters, or answering `1`, is answered in Khmer, as the Khmer
texts tell them to type. Only a language keyword changes it.

For a sender not known yet: the language of the keyword they typed (ESTADO → pt), else
the text itself (Khmer script → km; Portuguese words or letters → pt; English words → en),
else the channel's hint (a Telegram client set to Khmer or Portuguese), else English.
"""

from __future__ import annotations

from collections.abc import Callable

from service.kit.i18n import LANGUAGES, has_khmer
from service.triage.language import detect as detect_text


def from_tag(tag: str | None) -> str | None:
    """A client's language tag (Telegram `language_code`, `pt-MZ`, `km`) → a reply language, or None."""
    base = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def evident(text: str, hint: str | None = None) -> str | None:
    """The language a message shows (its script or words), else the channel's hint, else None.

    Only an evident language is kept with a new reporter: a bare code or number, or romanised
    Khmer, says nothing, and the reporter is asked again with their next report.
    """
    if has_khmer(text):
        return "km"

    found = detect_text(text)
    if found.language in ("km", "pt"):
        return found.language
    others = max((v for k, v in found.scores.items() if k != "en"), default=0.0)
    if found.language == "en" and found.scores.get("en", 0.0) > others:
        return "en"  # English words, more than any other language's (a tie says nothing)
    return hint if hint in LANGUAGES else None


def detect(text: str, hint: str | None = None) -> str:
    """The reply language for a message from a sender whose language is not known yet."""
    return evident(text, hint) or "en"


def choose(*, kept: str | None, keyword_language: str | None, shown: Callable[[], str | None]) -> str:
    """The language to answer in: the kept one, else the keyword's, else the one the text shows
    (`shown()`, i.e. `evident(text, hint)`: its script or words, else the channel's hint; asked
    only when needed), else English."""
    if kept in LANGUAGES:
        return kept
    if keyword_language in LANGUAGES:
        return keyword_language
    return shown() or "en"
