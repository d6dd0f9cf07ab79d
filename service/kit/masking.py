"""Mask what could identify someone in free text: phone numbers, emails, ID numbers."""

from __future__ import annotations

import re

# Khmer digits are folded to ASCII first so a number written ០១២ is caught too.
_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 7+ digits, allowing spaces, dots, dashes and brackets between them, with an optional +.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d(?:[\s().-]{0,2}\d){6,}(?![\w])")
# National ID style tokens: letters+digits mixes of length 8+ (passport, Khmer ID card, SA ID).
_ID = re.compile(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{8,}\b")

_DATE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")

PHONE_MASK = "[phone]"
EMAIL_MASK = "[email]"
ID_MASK = "[id]"


def mask(text: str) -> str:
    """Return text with phone numbers, emails and ID-like numbers replaced by placeholders."""
    folded = text.translate(_KHMER_DIGITS)
    folded = _EMAIL.sub(EMAIL_MASK, folded)
    folded = _PHONE.sub(lambda m: m.group(0) if _DATE.match(m.group(0)) else PHONE_MASK, folded)
    return _ID.sub(ID_MASK, folded)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Drop control characters (PostgreSQL cannot store NUL) and normalise line ends; keep the words."""
    import unicodedata

    return unicodedata.normalize("NFC", _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
