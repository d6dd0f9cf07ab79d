"""Receipt codes: 40 random bits as 8 Crockford base32 symbols, shown XXXX-XXXX."""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CLEAN = re.compile(r"[\s\-_.]")
_VALID = re.compile(f"^[{ALPHABET}]{{8}}$")


def new_code() -> str:
    """A fresh random receipt code in its canonical form (8 symbols, no hyphen)."""
    n = secrets.randbits(40)
    return "".join(ALPHABET[(n >> shift) & 31] for shift in range(35, -1, -5))


def display(code: str) -> str:
    """Canonical code → the shown form `XXXX-XXXX`."""
    return f"{code[:4]}-{code[4:]}"


def parse(text: str) -> str | None:
    """User input → canonical code, or None. Case-insensitive, hyphen optional, I/L/O read as 1/1/0."""
    candidate = _CLEAN.sub("", text.upper()).translate(_READ_AS)
    return candidate if _VALID.match(candidate) else None
