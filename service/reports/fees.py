"""An informal fee on a report, as a number: who gave it, how it reads in each language.

The amount is kept in hundredths of its currency (`report.fee_cents`), with the ISO 4217 code and
its source: `extracted` (read from the text by triage or at intake, service/triage/amounts.py),
`reporter` (confirmed or given by the reporter) or `handler` (set on the case page, audited by the
queue). Every change is a timeline event "fee" with the values before and after (never the text).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session

from service.kit.i18n import N_, gettext
from service.reports.models import FEE_CURRENCIES, FEE_SOURCES, Report

__all__ = [
    "FEE_CURRENCIES",
    "FEE_SOURCES",
    "CURRENCY_NAMES",
    "DECIMALS",
    "display",
    "export_amount",
    "fee_state",
    "money",
    "number",
    "plain_number",
    "reason_words",
    "set_fee",
]
from service.reports.service import add_event

# What a reader sees after the number, per currency: "currency:KHR" is "riel" in English (catalogues).
CURRENCY_NAMES = {
    "KHR": N_("currency:KHR"),
    "USD": N_("currency:USD"),
    "ZAR": N_("currency:ZAR"),
    "MZN": N_("currency:MZN"),
    "LSL": N_("currency:LSL"),
    "SZL": N_("currency:SZL"),
    "BWP": N_("currency:BWP"),
    "MWK": N_("currency:MWK"),
}
# Thousands and decimal marks per language: 20,000.50 in English and Khmer, 20.000,50 in Portuguese.
_MARKS = {"pt": (".", ",")}


def number(cents: int, language: str = "en") -> str:
    """The amount written for a reader: "20,000", "2.50", "20.000" in Portuguese."""
    value = Decimal(cents) / 100
    text = f"{value:,.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    thousands, decimal = _MARKS.get(language, (",", "."))
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


# Decimals a figure shows, per currency: riel have no coins in use, so none; the others two (5.00 US dollars).
DECIMALS = {"KHR": 0}


def _fixed(cents: int, currency: str) -> Decimal:
    """The amount rounded to its currency's decimals (half up: 15,000.50 riel → 15,001)."""
    places = DECIMALS.get(currency, 2)
    return (Decimal(cents) / 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(cents: int | None, currency: str | None, language: str = "en") -> str:
    """An amount as figures and the case page show it, always with its currency and its currency's decimals:
    "105,000 riel", "5.00 US dollars", "1.234,50 rands" in Portuguese, "105,000 រៀល" ("" without one)."""
    if cents is None or currency is None:
        return ""
    text = f"{_fixed(cents, currency):,}"
    thousands, decimal = _MARKS.get(language, (",", "."))
    figure = text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
    name = CURRENCY_NAMES.get(currency)
    return f"{figure} {gettext(language, name) if name else currency}"


def export_amount(cents: int | None, currency: str) -> str:
    """An amount as a spreadsheet cell: no thousands mark, a point, the currency's decimals ("105000", "12.50")."""
    return "" if cents is None else str(_fixed(cents, currency))


def plain_number(cents: int | None) -> str:
    """The amount as a form field holds it: "20000", "2.5" ("" without one)."""
    if cents is None:
        return ""
    text = f"{Decimal(cents) / 100:.2f}"
    return text.rstrip("0").rstrip(".")


def reason_words(reasons: list | None) -> list[str]:
    """The words of the text an amount was read from (stored with it)."""
    return [str(w) for r in reasons or [] if isinstance(r, dict) for w in r.get("words", [])]


def display(cents: int | None, currency: str | None, language: str = "en") -> str:
    """ "20,000 riel", "5 US dollars", "20.000 meticais" ("" without an amount)."""
    if cents is None or currency is None:
        return ""
    name = CURRENCY_NAMES.get(currency)
    return f"{number(cents, language)} {gettext(language, name) if name else currency}"


def fee_state(report: Report) -> dict:
    return {"cents": report.fee_cents, "currency": report.fee_currency, "source": report.fee_source}


def set_fee(
    session: Session,
    report: Report,
    *,
    cents: int | None,
    currency: str | None,
    source: str,
    actor: str,
    reasons: list | None = None,
) -> bool:
    """Set (or clear, with cents None) the report's fee; a timeline event says from what to what.
    Returns False when nothing changed. Does not commit."""
    if source not in FEE_SOURCES:
        raise ValueError(f"unknown fee source {source!r}")
    if cents is not None and (currency not in FEE_CURRENCIES or cents <= 0):
        raise ValueError("a fee needs a positive amount and a known currency")
    before = fee_state(report)
    report.fee_cents, report.fee_currency = cents, (currency if cents is not None else None)
    report.fee_source = source
    if reasons is not None:
        report.fee_reasons = reasons
    after = fee_state(report)
    if before == after:
        return False
    session.add(report)
    add_event(session, report, "fee", actor=actor, detail={"from": before, "to": after})
    return True
