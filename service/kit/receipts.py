"""Receipt codes: 40 random bits as 8 Crockford base32 symbols, shown XXXX-XXXX."""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CLEAN = re.compile(r"[\s\-_.]")
_VALID = re.compile(f"^[{ALPHABET}]{{8}}$")


def new_code() -> str:
    """A fresh random receipt code in its canonical form (8 symbols, no hyphen), never digits only.

    A code of digits only (`1234-5678`, about one draw in eleven thousand) reads like an eight-digit
    phone number, and masking, which puts finding phone numbers first, would hide it in a reporter's
    own message; such a draw is thrown away and another taken (the codes lose a 10,000th of a bit).
    """
    while True:
        n = secrets.randbits(40)
        code = "".join(ALPHABET[(n >> shift) & 31] for shift in range(35, -1, -5))
        if not code.isdigit():
            return code


def display(code: str) -> str:
    """Canonical code → the shown form `XXXX-XXXX`."""
    return f"{code[:4]}-{code[4:]}"


def parse(text: str) -> str | None:
    """User input → canonical code, or None. Case-insensitive, hyphen optional, I/L/O read as 1/1/0."""
    candidate = _CLEAN.sub("", text.upper()).translate(_READ_AS)
    return candidate if _VALID.match(candidate) else None
