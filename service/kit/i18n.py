"""User-facing text: gettext catalogs (Babel .po files under service/locale), English, Khmer and Portuguese.

The .po files are the source of truth and are compiled in memory at first use, so
a translator edits one text file and no binary catalogue can go stale.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "km", "pt")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    """The compiled catalogue for a language (English source strings as fallback)."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(language: str, message: str, **params: object) -> str:
    """Translate `message` into `language` and fill in `{name}` parameters."""
    text = translations(language if language in LANGUAGES else "en").gettext(message)
    return text.format(**params) if params else text


_KHMER = re.compile("[\u1780-\u17ff\u19e0-\u19ff]")


def has_khmer(text: str) -> bool:
    """True when the text contains Khmer script."""
    return _KHMER.search(text) is not None


def detect_language(text: str) -> str:
    """Language of a reply from the script the person wrote in: Khmer script → km, else en."""
    return "km" if has_khmer(text) else "en"
