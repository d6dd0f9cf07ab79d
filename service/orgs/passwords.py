"""What a new password must be: 12 characters or more, and not a common password (ASVS V6).

The list (`data/common-passwords.txt.gz`, 30,000 passwords most often found in leaked password
sets, as ranked by zxcvbn; MIT licence beside it) ships with Samleng and is never fetched at run
time. A password is refused when it, lower-cased, is on the list; when it is a listed password with
digits or symbols added before or after (`Password1234`, `sunshine2024!`); when it is one listed
password repeated (`iloveyouiloveyou`); or when it has fewer than four different characters.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

from service.kit.errors import InvalidInput

MIN_LENGTH = 12
LIST = Path(__file__).with_name("data") / "common-passwords.txt.gz"
TOO_SHORT = "password must be at least 12 characters"
TOO_COMMON = (
    "this password is too common: it is on the list of passwords that attackers try first. "
    "Choose a phrase of several words of your own"
)
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@lru_cache(maxsize=1)
def common() -> frozenset[str]:
    with gzip.open(LIST, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def _repeated_unit(text: str) -> str:
    """The shortest piece that, repeated, makes the text (the text itself when there is none)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def is_common(password: str) -> bool:
    lowered = password.lower()
    if len(set(lowered)) < 4:
        return True
    listed = common()
    stripped = _PADDING.sub("", lowered)
    candidates = {lowered, stripped, _repeated_unit(lowered), _repeated_unit(stripped)}
    return any(c in listed for c in candidates if c)


def check_new(password: str) -> None:
    """Raise InvalidInput (its message is shown, translated) unless the password may be set."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(TOO_SHORT)
    if is_common(password):
        raise InvalidInput(TOO_COMMON)
