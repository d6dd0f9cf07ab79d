"""Amounts of money named in a report: "20000 riel", "$5", "R50", "300 MT", "ម្ភៃពាន់រៀល", "2 mun riel".

Pure (no database). `extract(text)` returns the first amount that stands next to a currency
(a word, a symbol or an ISO code, before or after the number), with its reasons: the words that
made it. A number with no currency beside it is never an amount: that is what keeps out dates,
ages, counts of people or days and times. Phone numbers and identifiers are found first with the
masking patterns (service/kit/masking.py) and nothing inside them is read as a number.

How a quantity is read (docs/triage.md, "Amounts of money"):
* digits, Latin or Khmer (២០០០០), with thousands separators ("20,000", "20.000", "20 000") and up to
  two decimals ("2.50", "2,50");
* number words in English, Portuguese, Khmer (ម្ភៃ, ប្រាំ) and Khmer written in Latin letters
  (pram, mphey);
* multipliers after them: "k", thousand, million, mil (pt), ពាន់ (1,000), ម៉ឺន (10,000), សែន (100,000),
  លាន (1,000,000), រយ (100), and in Khmer-Latin pan (1,000), mun (10,000), sen (100,000), lan, roy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from service.kit.masking import find_identifiers
from service.reports.models import FEE_CURRENCIES as CURRENCIES

MAX_VALUE = Decimal("1000000000000")  # anything larger is a misreading
_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")

# Currency words and symbols: (pattern, currency, language of the word). Longest first in the regex.
_CURRENCY_WORDS: dict[str, tuple[str, str]] = {
    "riels": ("KHR", "en"),
    "riel": ("KHR", "en"),
    "reals": ("KHR", "km-Latn"),
    "rieal": ("KHR", "km-Latn"),
    "riéis": ("KHR", "pt"),
    "khr": ("KHR", "iso"),
    "រៀល": ("KHR", "km"),
    "៛": ("KHR", "symbol"),
    "dollars": ("USD", "en"),
    "dollar": ("USD", "en"),
    "dolla": ("USD", "km-Latn"),
    "dola": ("USD", "km-Latn"),
    "dolar": ("USD", "km-Latn"),
    "dollr": ("USD", "km-Latn"),
    "dollra": ("USD", "km-Latn"),
    "dolars": ("USD", "en"),
    "dollas": ("USD", "en"),
    "dólares": ("USD", "pt"),
    "dolares": ("USD", "pt"),
    "dólar": ("USD", "pt"),
    "usd": ("USD", "iso"),
    "us$": ("USD", "symbol"),
    "$": ("USD", "symbol"),
    "ដុល្លារ": ("USD", "km"),
    "rands": ("ZAR", "en"),
    "rand": ("ZAR", "en"),
    "zar": ("ZAR", "iso"),
    "meticais": ("MZN", "pt"),
    "metical": ("MZN", "pt"),
    "metiacis": ("MZN", "pt"),
    "meticas": ("MZN", "pt"),
    "mts": ("MZN", "pt"),
    "mt": ("MZN", "pt"),
    "mzn": ("MZN", "iso"),
    "maloti": ("LSL", "en"),
    "loti": ("LSL", "en"),
    "lsl": ("LSL", "iso"),
    "emalangeni": ("SZL", "en"),
    "lilangeni": ("SZL", "en"),
    "szl": ("SZL", "iso"),
    "pula": ("BWP", "en"),
    "bwp": ("BWP", "iso"),
    "kwacha": ("MWK", "en"),
    "mwk": ("MWK", "iso"),
}
# Only before a number, glued or one space away, and upper case: R50, MK 500 (never "R" alone).
_PREFIX_ONLY = {"R": ("ZAR", "symbol"), "MK": ("MWK", "symbol")}

_MULTIPLIERS: dict[str, tuple[int, str]] = {
    "thousand": (1_000, "en"),
    "thousands": (1_000, "en"),
    "million": (1_000_000, "en"),
    "millions": (1_000_000, "en"),
    "hundred": (100, "en"),
    "mil": (1_000, "pt"),
    "milhão": (1_000_000, "pt"),
    "milhao": (1_000_000, "pt"),
    "milhões": (1_000_000, "pt"),
    "milhoes": (1_000_000, "pt"),
    "cem": (100, "pt"),
    "pan": (1_000, "km-Latn"),
    "poan": (1_000, "km-Latn"),
    "porn": (1_000, "km-Latn"),
    "mun": (10_000, "km-Latn"),
    "mern": (10_000, "km-Latn"),
    "muen": (10_000, "km-Latn"),
    "sen": (100_000, "km-Latn"),
    "saen": (100_000, "km-Latn"),
    "lan": (1_000_000, "km-Latn"),
    "roy": (100, "km-Latn"),
    "ពាន់": (1_000, "km"),
    "ម៉ឺន": (10_000, "km"),
    "មឺុន": (10_000, "km"),
    "សែន": (100_000, "km"),
    "លាន": (1_000_000, "km"),
    "រយ": (100, "km"),
}
_NUMBER_WORDS: dict[str, tuple[int, str]] = {
    **{
        w: (i + 1, "en")
        for i, w in enumerate(
            "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
            "seventeen eighteen nineteen twenty".split()
        )
    },
    "thirty": (30, "en"),
    "forty": (40, "en"),
    "fifty": (50, "en"),
    "sixty": (60, "en"),
    "seventy": (70, "en"),
    "eighty": (80, "en"),
    "ninety": (90, "en"),
    "um": (1, "pt"),
    "uma": (1, "pt"),
    "dois": (2, "pt"),
    "duas": (2, "pt"),
    "três": (3, "pt"),
    "tres": (3, "pt"),
    "quatro": (4, "pt"),
    "cinco": (5, "pt"),
    "seis": (6, "pt"),
    "sete": (7, "pt"),
    "oito": (8, "pt"),
    "nove": (9, "pt"),
    "dez": (10, "pt"),
    "quinze": (15, "pt"),
    "vinte": (20, "pt"),
    "trinta": (30, "pt"),
    "quarenta": (40, "pt"),
    "cinquenta": (50, "pt"),
    "cento": (100, "pt"),
    "duzentos": (200, "pt"),
    "quinhentos": (500, "pt"),
    "mouy": (1, "km-Latn"),
    "muoy": (1, "km-Latn"),
    "pii": (2, "km-Latn"),
    "pir": (2, "km-Latn"),
    "bei": (3, "km-Latn"),
    "bey": (3, "km-Latn"),
    "buon": (4, "km-Latn"),
    "boun": (4, "km-Latn"),
    "pram": (5, "km-Latn"),
    "dop": (10, "km-Latn"),
    "mphey": (20, "km-Latn"),
    "mphei": (20, "km-Latn"),
    "មួយ": (1, "km"),
    "ពីរ": (2, "km"),
    "បី": (3, "km"),
    "បួន": (4, "km"),
    "ប្រាំ": (5, "km"),
    "ប្រាំមួយ": (6, "km"),
    "ប្រាំពីរ": (7, "km"),
    "ប្រាំបី": (8, "km"),
    "ប្រាំបួន": (9, "km"),
    "ដប់": (10, "km"),
    "ម្ភៃ": (20, "km"),
    "សាមសិប": (30, "km"),
    "សែសិប": (40, "km"),
    "ហាសិប": (50, "km"),
    "ហុកសិប": (60, "km"),
    "ចិតសិប": (70, "km"),
    "ប៉ែតសិប": (80, "km"),
    "កៅសិប": (90, "km"),
}


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _is_khmer(word: str) -> bool:
    return any("\u1780" <= ch <= "\u17ff" for ch in word)


def _token(words: dict[str, tuple]) -> re.Pattern[str]:
    """Latin words stand alone (no letter either side); Khmer words need no spaces but may not end
    inside a cluster (a vowel or sign after them: ពីរោះ is not ពីរ)."""
    latin = [w for w in words if not _is_khmer(w) and w.isalpha()]
    signs = [w for w in words if not _is_khmer(w) and not w.isalpha()]
    khmer = [w for w in words if _is_khmer(w)]
    parts = []
    if latin:
        parts.append(rf"(?<![^\W\d_])(?:{_alternation(latin)})(?![^\W\d_])")
    if signs:
        parts.append(rf"(?:{_alternation(signs)})")
    if khmer:
        parts.append(rf"(?<!\u17d2)(?:{_alternation(khmer)})(?![\u17b6-\u17d3])")
    return re.compile("|".join(parts), re.IGNORECASE)


_CURRENCY = _token(_CURRENCY_WORDS)
_PREFIX = re.compile(r"(?<![A-Za-z])(R|MK)(?=\s?\d)")
# "10000r": a lower-case r glued to the number is riel (Cambodian shorthand; rand is written R50).
_GLUED_RIEL = re.compile(r"(?<=\d)r(?![^\W\d_])")
# A quantity in ten-thousands (ម៉ឺន, mun) is money even without a currency: "som luy kafe 1 mern".
_RIEL_MULTIPLIERS = {"ម៉ឺន", "មឺុន", "mun", "mern", "muen"}
_MULTIPLIER = _token(_MULTIPLIERS)
_WORD = _token(_NUMBER_WORDS)
# Digits: thousands groups ("20,000", "1.500.000", "20 000") or a plain run, with up to two decimals,
# and an optional "k" ("20k").
_NUMBER = re.compile(
    r"(?P<int>\d{1,3}(?:[,.\u00a0 ]\d{3})+(?!\d)|\d+)(?:[.,](?P<frac>\d{1,2}))?(?!\d)"
    r"(?P<k>k(?![^\W\d_]))?",
    re.IGNORECASE,
)
_GAP = re.compile(r"[\s\-]*")  # what may stand between two parts of one amount
# What is passed over when it is not part of an amount: a Latin word, a whole run of digits and
# separators (a phone number or a date is skipped whole, never read from its middle), one character.
_SKIP = re.compile(r"[A-Za-z\u00c0-\u024f]+|\+?\d(?:[\d.,/:\- ]*\d)?|.")
_AND = re.compile(r"(?:and|e)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Amount:
    """An amount of money and why it was read so: `words` are the parts of the text that made it."""

    value: Decimal
    currency: str
    words: tuple[str, ...]
    start: int
    end: int
    languages: tuple[str, ...] = ()
    also: tuple[str, ...] = field(default=(), compare=False)  # other amounts in the same text

    @property
    def cents(self) -> int:
        return int((self.value * 100).to_integral_value())

    def reasons(self) -> list[dict]:
        reason = {
            "kind": "amount",
            "rule": f"amount/{self.currency}",
            "value": plain(self.value),
            "currency": self.currency,
            "words": list(self.words),
            "languages": list(self.languages),
        }
        if self.also:
            reason["also"] = list(self.also)
        return [reason]


@dataclass
class _Part:
    kind: str  # number, word, multiplier, currency, prefix
    text: str
    start: int
    end: int
    value: Decimal = Decimal(0)
    currency: str = ""
    language: str = ""


def plain(value: Decimal) -> str:
    """The value as plain digits: "20000", "2.5"."""
    text = format(value.quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(match: re.Match[str]) -> Decimal | None:
    digits = re.sub(r"[^\d]", "", match.group("int"))
    try:
        value = Decimal(digits + ("." + match.group("frac") if match.group("frac") else ""))
    except InvalidOperation:
        return None
    return value * 1000 if match.group("k") else value


def _blocked(text: str) -> list[tuple[int, int]]:
    """Phone numbers, ids, emails, links: nothing inside them is an amount."""
    return [(start, end) for start, end, _kind in find_identifiers(text)]


def _date_or_time_next(text: str, start: int, end: int) -> bool:
    """A number glued to a date or time separator ("20/11", "2024-05", "10:30", "+855") or a percent."""
    before = text[start - 1] if start else ""
    after = text[end : end + 2]
    if before and (before.isdigit() or before in "+/:"):
        return True
    if before == "-" and start >= 2 and text[start - 2].isdigit():
        return True
    return bool(after) and (after[0] in "/:%" or (after[0] in "-." and after[1:2].isdigit()))


def _parts(text: str) -> list[_Part]:
    """The text as a sequence of number, word, multiplier and currency parts, and breaks (anything else)."""
    blocked = _blocked(text)
    folded = text.translate(_KHMER_DIGITS)  # same length: positions stay
    parts: list[_Part] = []
    i, n = 0, len(folded)
    while i < n:
        gap = _GAP.match(folded, i)
        if gap and gap.end() > i:
            i = gap.end()
            continue
        if any(s <= i < e for s, e in blocked):
            end = next(e for s, e in blocked if s <= i < e)
            parts.append(_Part("break", text[i:end], i, end))
            i = end
            continue
        part = _read_part(folded, i)
        if part is None:
            m = _SKIP.match(folded, i)
            end = m.end() if m else i + 1
            parts.append(_Part("break", text[i:end], i, end))
            i = end
            continue
        part.text = text[part.start : part.end]
        parts.append(part)
        i = part.end
    return parts


def _read_part(text: str, i: int) -> _Part | None:
    if _GLUED_RIEL.match(text, i):
        return _Part("currency", "", i, i + 1, currency="KHR", language="km-Latn")
    prefix = _PREFIX.match(text, i)
    if prefix:
        currency, language = _PREFIX_ONLY[prefix.group(1)]
        return _Part("prefix", "", i, prefix.end(), currency=currency, language=language)
    number = _NUMBER.match(text, i)
    if number:
        if _date_or_time_next(text, number.start(), number.end()):
            return None
        if len(number.group("int")) > 1 and number.group("int").startswith("0"):
            return None  # "012 345 678": a phone number, never an amount
        value = _number(number)
        return None if value is None else _Part("number", "", i, number.end(), value=value)
    for kind, pattern, table in (
        ("currency", _CURRENCY, _CURRENCY_WORDS),
        ("multiplier", _MULTIPLIER, _MULTIPLIERS),
        ("word", _WORD, _NUMBER_WORDS),
    ):
        m = pattern.match(text, i)
        if m:
            word = m.group(0)
            entry = table.get(word.lower()) or table.get(word.casefold()) or table.get(word)
            if entry is None:
                continue
            if kind == "currency":
                return _Part(kind, "", i, m.end(), currency=str(entry[0]), language=entry[1])
            return _Part(kind, "", i, m.end(), value=Decimal(entry[0]), language=entry[1])
    conj = _AND.match(text, i)
    if conj:
        return _Part("and", "", i, conj.end())
    return None


def _quantity(parts: list[_Part], k: int) -> tuple[Decimal, int] | None:
    """The quantity starting at parts[k] and the index after it, or None."""
    total, current, seen, j = Decimal(0), Decimal(0), False, k
    last = ""
    while j < len(parts):
        part = parts[j]
        if part.kind == "number":
            if last in ("number", "word"):
                break  # "3 20000 riel": two quantities
            current += part.value
        elif part.kind == "word":
            if last == "number":
                break
            current += part.value
        elif part.kind == "multiplier":
            if not seen:
                break  # a multiplier alone ("thousand riel") is not read
            if last == "multiplier" and parts[j - 1].value != 100:
                break  # "1 mern mun oy": the second "mun" is "before", not another ten thousand
            if part.value == 100:
                current = (current or Decimal(1)) * 100
            else:
                total += (current or Decimal(1)) * part.value
                current = Decimal(0)
        elif part.kind == "and" and seen and j + 1 < len(parts) and parts[j + 1].kind in ("word", "number"):
            j += 1
            last = "multiplier"  # "one hundred and fifty": the next number adds
            continue
        else:
            break
        seen, last = True, part.kind
        j += 1
    if not seen:
        return None
    return total + current, j


def find_all(text: str) -> list[Amount]:
    """Every amount next to a currency, in the order written."""
    if not text:
        return []
    parts = _parts(text)
    found: list[Amount] = []
    k = 0
    while k < len(parts):
        part = parts[k]
        lead = part.kind in ("prefix", "currency")
        first_q = k + 1 if lead else k
        quantity = _quantity(parts, first_q) if first_q < len(parts) else None
        if quantity is None:
            k += 1
            continue
        value, end_q = quantity
        trailing = end_q < len(parts) and parts[end_q].kind == "currency"
        if trailing:
            first, last, currency = (k if lead else first_q), end_q, parts[end_q]
        elif lead and (part.kind == "prefix" or part.language in ("symbol", "iso")):
            # Before the number only a symbol or a code ("$5", "R50", "USD 5"): "riel 5 people" is no
            # amount, and Khmer-Latin puts its word after ("luy 5 dolla").
            first, last, currency = k, end_q - 1, part
        elif parts[end_q - 1].kind == "multiplier" and parts[end_q - 1].text.lower() in _RIEL_MULTIPLIERS:
            first, last = first_q, end_q - 1
            currency = _Part("currency", "", 0, 0, currency="KHR", language=parts[end_q - 1].language)
        else:
            k = end_q if not lead else k + 1
            continue
        if Decimal(0) < value < MAX_VALUE and currency.currency in CURRENCIES:
            value = value.quantize(Decimal("0.01"))
            used = [p for p in parts[first : last + 1] if p.kind != "and"]
            found.append(
                Amount(
                    value=value,
                    currency=currency.currency,
                    words=tuple(p.text for p in used),
                    start=parts[first].start,
                    end=parts[last].end,
                    languages=tuple(sorted({p.language for p in used if p.language})),
                )
            )
        k = last + 1
    return found


def extract(text: str) -> Amount | None:
    """The first amount of money named in the text (the others listed in its `also`), or None."""
    found = find_all(text)
    if not found:
        return None
    first = found[0]
    others = tuple(f"{plain(a.value)} {a.currency}" for a in found[1:])
    return Amount(first.value, first.currency, first.words, first.start, first.end, first.languages, others)


def parse_answer(text: str, default_currency: str | None = None) -> Amount | None:
    """A reporter's answer to "how much?": an amount with its currency, or a bare quantity ("20000",
    "ម្ភៃពាន់") in `default_currency` when one is given. Nothing else in the answer may be a number."""
    amount = extract(text)
    if amount is not None or default_currency is None:
        return amount
    # Only the quantity and punctuation: "20000", "ម្ភៃពាន់", "20,000." (not "I waited 3 days").
    parts = [p for p in _parts(text) if p.kind != "break" or any(ch.isalnum() for ch in p.text)]
    if not parts:
        return None
    quantity = _quantity(parts, 0)
    if quantity is None or quantity[1] != len(parts) or not Decimal(0) < quantity[0] < MAX_VALUE:
        return None
    return Amount(
        value=quantity[0].quantize(Decimal("0.01")),
        currency=default_currency,
        words=tuple(p.text for p in parts),
        start=parts[0].start,
        end=parts[-1].end,
        languages=tuple(sorted({p.language for p in parts if p.language})),
    )
