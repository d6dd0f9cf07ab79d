"""Mask what could identify someone in free text: phone numbers, emails, handles, profile links, ID numbers.

How it works (normalise, match, map back):

1. A *normalised view* of the text is built one character at a time, remembering for each
   normalised character which original character it came from:
   - NFKC compatibility folding (full-width digits, circled digits, non-breaking spaces...);
   - format characters (Unicode category Cf: zero-width space, zero-width joiner, soft hyphen,
     word joiner, direction marks) are dropped, and combining marks after a digit too;
   - every decimal digit of any script (Khmer ០-៩, Thai, Arabic-Indic, Myanmar...) becomes 0-9;
   - look-alike letters (O o and Cyrillic/Greek O for 0; I l for 1) become digits only inside a run
     of digits that is not part of a Latin word (`O12 345 678` yes, `Room 12` no);
   - digits spelled as words (English, Portuguese, Khmer) become digits: a Latin digit word only in a
     run of digit words and digits that is not part of a longer word (`zero one`, `0one2`, `zeroone`;
     not `someone`), a Khmer one unless it is part of a cluster. The view keeps its length: the
     word's first character becomes the digit, the others a filler the phone search skips.
2. Patterns are matched on the view: emails (spaces allowed around `@`, `(at)`, `[at]`), links to
   messaging and social profiles (`t.me/…`, `facebook.com/…`, `wa.me/…`...), `@handles`, then phone
   numbers: seven or more digits with any run of up to eight separators between them (spaces, any
   dash, `/`, `.`, `,`, `_`, brackets..., and one letter alone between digits), then ID-like
   letter/digit tokens of eight or more.
3. Each match is mapped back to the original characters it came from and only those are replaced.
   Everything else is returned exactly as written (Khmer digits in a date stay Khmer digits).

Kept on purpose (not masked), so handlers can still read them: valid dates (`12/03/2024`,
`2024-01-05`, `១២/០៣/២០២៤`), amounts next to a currency (`50,000 riel`, `$1,200`, `1 000 000 ៛`)
when they do not start with 0 or +, receipt codes in their shown form (`K7QF-29XD`), ages and any
number shorter than seven digits. Phone numbers come first: a code made only of digits (`1234-5678`)
is masked like a phone number, which is why new receipt codes always hold a letter (`receipts.new_code`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

PHONE_MASK = "[phone]"
EMAIL_MASK = "[email]"
ID_MASK = "[id]"
HANDLE_MASK = "[handle]"
LINK_MASK = "[link]"

_LOOKALIKE_ZERO = "OoОоΟο"
_LOOKALIKE_ONE = "Il"
_LOOKALIKES = _LOOKALIKE_ZERO + _LOOKALIKE_ONE
# A run of digits and look-alike letters holding at least one real digit, not glued to a Latin word.
_LOOKALIKE_RUN = re.compile(rf"(?<![A-Za-z0-9])[0-9{_LOOKALIKES}]*[0-9][0-9{_LOOKALIKES}]*(?![A-Za-z0-9])")
_FOLD_LOOKALIKE = str.maketrans({**{c: "0" for c in _LOOKALIKE_ZERO}, **{c: "1" for c in _LOOKALIKE_ONE}})

# Digits spelled as words (English, Portuguese, Khmer). In the normalised view a word becomes its digit
# on its first character and _FILL on the others, so the view keeps the text's length and positions;
# the phone search skips _FILL and a number that ends in a word is masked to the word's end.
_FILL = "\ue000"
_WORD_DIGIT = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "um": "1",
    "uma": "1",
    "dois": "2",
    "duas": "2",
    "três": "3",
    "tres": "3",
    "quatro": "4",
    "cinco": "5",
    "seis": "6",
    "meia": "6",
    "sete": "7",
    "oito": "8",
    "nove": "9",
    "សូន្យ": "0",
    "មួយ": "1",
    "ពីរ": "2",
    "បី": "3",
    "បួន": "4",
    "ប្រាំ": "5",
    "ប្រាំមួយ": "6",
    "ប្រាំពីរ": "7",
    "ប្រាំបី": "8",
    "ប្រាំបួន": "9",
}
_LATIN_WORDS = "|".join(sorted((w for w in _WORD_DIGIT if w.isascii() or w == "três"), key=len, reverse=True))
_LATIN_PIECE = rf"(?:(?:double|triple)\s{{0,2}})?(?:{_LATIN_WORDS})"
# A run of Latin digit words and digits (glued or with separators) that is not part of a longer word:
# `zero one two`, `0one2`, `zeroonetwo`, `double five` — but not `someone`, `done` or `uma`'s `um`.
_LATIN_RUN = re.compile(
    rf"(?<![^\W\d_])(?:{_LATIN_PIECE}|\d)(?:[\s\-.,/]{{0,3}}(?:{_LATIN_PIECE}|\d))*(?![^\W\d_])", re.IGNORECASE
)
_LATIN_WORD = re.compile(rf"(?:(double|triple)\s{{0,2}})?({_LATIN_WORDS})", re.IGNORECASE)
# Khmer is written without spaces: a digit word counts unless it is part of a cluster (a subscript
# sign before it, a vowel or sign after it: ពីរោះ is not ពីរ).
_KHMER_WORD = re.compile(
    "(?<!\u17d2)("
    + "|".join(sorted((w for w in _WORD_DIGIT if not w.isascii() and w != "três"), key=len, reverse=True))
    + ")(?![\u17b6-\u17d3])"
)

_HAS_KHMER = re.compile("[\u1780-\u17ff]")

_SEP_CATEGORIES = {"Zs", "Pd", "Pc", "Ps", "Pe", "Po", "Sm"}
_NOT_SEPARATORS = set(":;%#&@'\"!?")
_AT = r"(?:\s{0,3}@\s{0,3}|\s{0,3}[(\[]\s?at\s?[)\]]\s{0,3})"
_DOT = r"(?:\s{0,2}\.\s{0,2}|\s{0,2}[(\[]\s?dot\s?[)\]]\s{0,2})"
_EMAIL = re.compile(rf"[\w.+-]+{_AT}[\w-]+(?:{_DOT}[A-Za-z]{{2,}})+", re.IGNORECASE)
_SOCIAL = (
    r"t\.me|telegram\.(?:me|dog)|wa\.me|m\.me|fb\.me|fb\.com|(?:www\.|m\.|web\.|mbasic\.)?facebook\.com"
    r"|(?:www\.)?instagram\.com|(?:www\.)?tiktok\.com|(?:www\.)?(?:twitter|x)\.com|line\.me"
    r"|(?:www\.)?messenger\.com|(?:www\.)?linkedin\.com|(?:www\.)?youtube\.com|signal\.me|viber\.click"
)
_SPACED_SOCIAL = _SOCIAL.replace(r"\.", r"\s{0,2}\.\s{0,2}")
_LINK = re.compile(
    r"(?:https?\s?:\s?/\s?/\s?)?(?<![\w.])(?:" + _SPACED_SOCIAL + ")"
    r"\s{0,2}/\s{0,2}[^\s<>\"']+",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
# National ID style tokens: letters+digits mixes of length 8+ (passport, Khmer ID card, SA ID).
_ID = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{8,}(?![A-Za-z0-9])")
# On the phone view (digits, '+', ' ' for any separator, 'x' for anything else).
_PHONE = re.compile(r"(?<![\d+])\+?\d(?:[ +]{0,8}\d){6,}(?!\d)")

_DATE = re.compile(r"(?<![\d])(?:(\d{4})([-/.])(\d{1,2})\2(\d{1,2})|(\d{1,2})([-/.])(\d{1,2})\6(\d{4}|\d{2}))(?![\d])")
_TIME = re.compile(r"(?<![\d])\d{1,2}[:h]\d{2}(?![\d])")
_DIGIT_NEAR_AFTER = re.compile(r" {0,3}\+?\d")
_DIGIT_NEAR_BEFORE = re.compile(r"\d\+? {0,3}$")
_RECEIPT = re.compile(r"(?<![A-Za-z0-9])(?=[0-9A-Z]{0,3}[A-Z])[0-9A-Z]{4}-[0-9A-Z]{4}(?![A-Za-z0-9-])")
_CURRENCY_BEFORE = r"(?:[$៛€£]|\b(?:USD|KHR|ZAR|MZN|R)\b)"
_CURRENCY_AFTER = (
    r"(?:[$៛€£]|រៀល|ដុល្លារ|(?:riels?|usd|khr|dollars?|rand|zar|mzn|mt|meticais|metical|euros?)"
    r"(?![A-Za-z]))"
)
_AMOUNT_NUMBER = r"[1-9]\d{0,2}(?:[,. ]\d{3})+(?:[.,]\d{1,2})?|[1-9]\d*(?:[.,]\d{1,2})?"
_AMOUNT = re.compile(
    rf"(?:{_CURRENCY_BEFORE}\s?(?:{_AMOUNT_NUMBER})(?!\d)|(?<![\d+])(?:{_AMOUNT_NUMBER})\s?{_CURRENCY_AFTER})",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    """One non-ASCII character, normalised: NFKC, any script's digit as 0-9, format characters gone."""
    if unicodedata.category(ch) == "Cf":
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        value = unicodedata.decimal(c, None)
        if value is not None:
            out.append(str(value))
        elif unicodedata.category(c) != "Cf":
            out.append(c)
    return "".join(out)


_AFTER_DIGIT = re.compile(r"(?<=\d)[^\x00-\x7f]")  # \d: a decimal digit of any script


def _one_for_one(text: str) -> bool:
    """Every character folds to exactly one (no format character, no expansion), and no combining
    mark sits on a digit: the normalised view is then a plain translation, positions unchanged."""
    if any(len(_fold(ch)) != 1 for ch in set(text) if ch >= "\x80"):
        return False
    return not any(unicodedata.category(m.group(0)) in ("Mn", "Me") for m in _AFTER_DIGIT.finditer(text))


def _normalise(text: str) -> tuple[str, list[int]]:
    """The normalised view of `text` and, for each of its characters, the index it came from."""
    if text.isascii():  # the common case: nothing to fold
        norm, origin = text, list(range(len(text)))
    elif _one_for_one(text):  # Khmer text, Khmer digits...: each character folds to exactly one
        norm = text.translate({ord(ch): _fold(ch) for ch in set(text) if ch >= "\x80"})
        origin = list(range(len(text)))
    else:
        out: list[str] = []
        origin = []
        for i, ch in enumerate(text):
            if ch < "\x80":
                out.append(ch)
                origin.append(i)
                continue
            if out and out[-1].isdigit() and unicodedata.category(ch) in ("Mn", "Me"):
                continue  # a combining mark on a digit
            for c in _fold(ch):
                out.append(c)
                origin.append(i)
        norm = "".join(out)
    norm = _spelled_digits(norm)
    norm = _LOOKALIKE_RUN.sub(lambda m: m.group(0).translate(_FOLD_LOOKALIKE), norm)
    return norm, origin


def _spelled_digits(norm: str) -> str:
    """Digit words as digits, the view's length unchanged (the word's first character becomes the digit,
    the others _FILL; `double five` puts the digit on `double`'s first character, `triple` on its first two)."""
    chars: list[str] | None = None

    def put(start: int, end: int, digits: str) -> None:
        assert chars is not None
        for k in range(start, end):
            chars[k] = digits[k - start] if k - start < len(digits) else _FILL

    for m in _LATIN_RUN.finditer(norm):
        if m.group(0).isdigit() or not any(c.isalpha() for c in m.group(0)):
            continue
        chars = chars if chars is not None else list(norm)
        for w in _LATIN_WORD.finditer(norm, m.start(), m.end()):
            digit = _WORD_DIGIT[w.group(2).lower()]
            if w.group(1):  # the repeated digits but one sit on `double` / `triple`
                put(w.start(1), w.start(2), digit * (1 if w.group(1).lower() == "double" else 2))
            put(w.start(2), w.end(2), digit)
    if _HAS_KHMER.search(norm):
        for m in _KHMER_WORD.finditer(norm):
            chars = chars if chars is not None else list(norm)
            put(m.start(), m.end(), _WORD_DIGIT[m.group(1)])
    return norm if chars is None else "".join(chars)


def _valid_date(m: re.Match[str]) -> bool:
    if m.group(1):
        year, month, day = int(m.group(1)), int(m.group(3)), int(m.group(4))
        return 1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31
    a, b, year_text = int(m.group(5)), int(m.group(7)), m.group(8)
    if len(year_text) == 4 and not 1900 <= int(year_text) <= 2100:
        return False
    return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)


@lru_cache(maxsize=4096)
def _kind(ch: str) -> str:
    """A character as the phone view sees it: itself (digit, +), ' ' (a separator) or 'x'."""
    if "0" <= ch <= "9" or ch == "+":
        return ch
    if ch == _FILL:
        return "f"
    if unicodedata.category(ch)[0] in "LM":
        return "a"  # a letter (or a mark on one)
    if ch.isspace() or (unicodedata.category(ch) in _SEP_CATEGORIES and ch not in _NOT_SEPARATORS):
        return " "
    return "x"


def _phone_view(norm: str, blocked: list[bool]) -> str:
    return "".join("x" if gone else _kind(ch) for ch, gone in zip(norm, blocked))


def _phones(norm: str, blocked: list[bool], ids: list[tuple[int, int]], take) -> None:
    """Phone numbers on the phone view, with times, amounts, receipt codes and dates protected."""
    view = list(_phone_view(norm, blocked))
    for pattern in (_TIME, _AMOUNT, _RECEIPT):
        for m in pattern.finditer(norm):
            view[m.start() : m.end()] = "x" * (m.end() - m.start())
    shown = "".join(view)
    for m in _DATE.finditer(norm):
        # A date followed or preceded by more digits may be a number written like one: not protected.
        # So is one that starts or ends next to a spelled digit (`two-1-0zero`).
        spelled = _FILL in norm[m.end() : m.end() + 1] or (m.start() > 0 and norm[m.start() - 1] == _FILL)
        if (
            _valid_date(m)
            and not spelled
            and not _DIGIT_NEAR_AFTER.match(shown, m.end())
            and not _DIGIT_NEAR_BEFORE.search(shown, max(0, m.start() - 8), m.start())
        ):
            view[m.start() : m.end()] = "x" * (m.end() - m.start())
    # One letter alone between digits splits a number (`012 a 345 b 678`); two already make a word (`1991 to 2011`).
    joined = _LETTERS_BETWEEN_DIGITS.sub(lambda m: m.group(1) + " " * len(m.group(2)) + m.group(3), "".join(view))
    # The phone search skips the rest of a spelled digit (_FILL); a match ending in a word takes the word.
    keep = [k for k, c in enumerate(joined) if c != "f"]
    compact = "".join(joined[k] for k in keep)
    for cm in _PHONE.finditer(compact):
        start_, end_ = keep[cm.start()], keep[cm.end() - 1] + 1
        while end_ < len(joined) and joined[end_] == "f":
            end_ += 1
        _take_phone(start_, end_, ids, take)


_LETTERS_BETWEEN_DIGITS = re.compile(r"(?<=\d)( {0,3})(a)( {0,3})(?=\d)")


def _take_phone(start: int, end: int, ids: list[tuple[int, int]], take) -> None:
    inside = [(a, b) for a, b in ids if a < end and start < b]
    if any(a <= start and end <= b for a, b in inside):
        return  # `N12345678`: one ID token, masked whole below
    take(min([start, *(a for a, _ in inside)]), max([end, *(b for _, b in inside)]), PHONE_MASK)
    # (a phone number glued to a word, `012 345 678call`, goes whole)


def find_identifiers(text: str) -> list[tuple[int, int, str]]:
    """(start, end, placeholder) spans of the original text that masking replaces, in order."""
    norm, origin = _normalise(text)
    blocked = [False] * len(norm)
    spans: list[tuple[int, int, str]] = []

    def take(start: int, end: int, label: str) -> None:
        if start >= end or any(blocked[start:end]):
            return
        for k in range(start, end):
            blocked[k] = True
        spans.append((start, end, label))

    for pattern, label in ((_EMAIL, EMAIL_MASK), (_LINK, LINK_MASK), (_HANDLE, HANDLE_MASK)):
        for m in pattern.finditer(norm):
            take(m.start(), m.end(), label)
    ids = [(m.start(), m.end()) for m in _ID.finditer(norm) if not any(blocked[m.start() : m.end()])]
    if sum(map(norm.count, "0123456789")) >= 7:  # fewer digits than a phone number: nothing more to find
        _phones(norm, blocked, ids, take)
    for a, b in ids:
        take(a, b, ID_MASK)

    result: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans):
        o_start, o_end = origin[start], origin[end - 1] + 1
        # Format characters inside the number (zero-width spaces...) go with it: they are between the ends.
        if result and o_start < result[-1][1]:
            prev = result[-1]
            result[-1] = (prev[0], max(prev[1], o_end), prev[2])
        else:
            result.append((o_start, o_end, label))
    return result


def mask(text: str) -> str:
    """Return text with phone numbers, emails, handles, profile links and ID-like numbers replaced.

    Only the characters that make up an identifier change; the rest is returned as written.
    """
    if not text:
        return text
    parts = []
    last = 0
    for start, end, label in find_identifiers(text):
        parts.append(text[last:start])
        parts.append(label)
        last = end
    parts.append(text[last:])
    return "".join(parts)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Drop control characters (PostgreSQL cannot store NUL) and normalise line ends; keep the words."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
