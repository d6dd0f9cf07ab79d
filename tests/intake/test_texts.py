"""Every intake reply fits the SMS budget in English, Khmer and Portuguese, and the catalogues are sound.

Budget: two SMS segments once the placeholders are filled with worst-case values —
306 GSM-7 septets in English (which must stay GSM-7), 134 UTF-16 units in Khmer (UCS-2);
Portuguese either stays in GSM-7 (long texts are written without the accents GSM-7 lacks)
or, for a short text that keeps its accents, fits 134 UTF-16 units.
Needs no database: texts.py and the catalogues only; the option labels in
service/intake/service.py are read from its source rather than by importing it.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from service.intake import texts
from service.kit import i18n, segments
from service.reports import fees

SERVICE_PY = Path(texts.__file__).with_name("service.py")
WORST = {"code": "7K3M-9QXZ", "date": "2026-11-23"}  # {status}: longest label, per language
MAX_SEGMENTS = 2


def _texts_ids() -> list[str]:
    ids = [v for k, v in vars(texts).items() if k.isupper() and isinstance(v, str)]
    ids += list(texts.STATUS_LABELS.values())
    return ids


def _service_ids() -> list[str]:
    """Literal N_("...") ids in service.py: the category labels and the Yes/No options."""
    tree = ast.parse(SERVICE_PY.read_text(encoding="utf-8"))
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "N_"
        and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    ]


MSGIDS = sorted(set(_texts_ids()) | set(_service_ids()))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _is_pure_format(text: str) -> bool:
    """Only placeholders, spaces and punctuation: nothing to translate."""
    literal = "".join(lit for lit, *_ in string.Formatter().parse(text))
    return not any(ch.isalpha() for ch in literal)


def _catalog(language: str):
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


def _longest_status(language: str) -> str:
    labels = {i18n.gettext(language, label) for label in texts.STATUS_LABELS.values()}
    return max(labels, key=lambda s: (segments.count(s).units, s))


def _longest_amount(language: str) -> str:
    """{amount}: a million in the currency whose name is longest in this language ("1,000,000 emalangeni")."""
    shown = {fees.display(100_000_000, currency, language) for currency in fees.CURRENCY_NAMES}
    return max(shown, key=lambda s: (segments.count(s).units, s))


def _render(language: str, msgid: str) -> str:
    return i18n.gettext(language, msgid, status=_longest_status(language), amount=_longest_amount(language),
                        **WORST)


def test_service_option_labels_found() -> None:
    ids = _service_ids()
    for label in ("Poor service", "Stigma or discrimination", "Fees or money", "Rights abuse or police", "Other",
                  "Yes", "No"):
        assert label in ids


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("msgid", MSGIDS)
def test_reply_fits_two_segments(language: str, msgid: str) -> None:
    text = _render(language, msgid)
    result = segments.count(text)
    assert result.segments <= MAX_SEGMENTS, f"{language} {result.units} units: {text!r}"
    if language == "en":
        assert result.encoding == "GSM-7", f"not GSM-7: {text!r}"
    if result.encoding == "GSM-7":
        assert result.units <= 306
    else:
        assert result.units <= 134


def test_every_reporter_language_is_served() -> None:
    assert set(i18n.LANGUAGES) == {"en", "km", "pt"}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_catalog_has_every_id(language: str) -> None:
    ids = {m.id for m in _catalog(language) if m.id}
    assert set(MSGIDS) <= ids, sorted(set(MSGIDS) - ids)


@pytest.mark.parametrize("msgid", MSGIDS)
def test_khmer_translated(msgid: str) -> None:
    message = _catalog("km").get(msgid)
    assert message is not None and message.string, f"no Khmer for {msgid!r}"
    assert not message.fuzzy
    if not _is_pure_format(msgid):
        assert i18n.has_khmer(message.string), f"not Khmer script: {message.string!r}"
        assert i18n.has_khmer(_render("km", msgid))


# Words that are the same in Portuguese as in English (names, units, loanwords).
_SAME_IN_PT = {"SMS", "WhatsApp", "Telegram", "Email", "normal", "Total", "regional", "supervisor",
               "{segments} SMS", "Local", "Rule"}


@pytest.mark.parametrize("msgid", MSGIDS)
def test_portuguese_translated(msgid: str) -> None:
    message = _catalog("pt").get(msgid)
    assert message is not None and message.string, f"no Portuguese for {msgid!r}"
    assert not message.fuzzy
    if not _is_pure_format(msgid):
        assert message.string != msgid, f"not translated: {msgid!r}"


def test_portuguese_catalogue_complete() -> None:
    """Every message of the template has a Portuguese text (not just the intake's)."""
    missing = [m.id for m in _catalog("pt") if m.id and not m.string]
    assert missing == []
    untouched = [m.id for m in _catalog("pt") if m.id and m.string == m.id and not _is_pure_format(m.id)
                 and m.id not in _SAME_IN_PT]
    assert untouched == []


def test_portuguese_keywords_in_replies() -> None:
    """The Portuguese replies name the Portuguese keywords the intake understands."""
    done = i18n.gettext("pt", texts.DONE, code="7K3M-9QXZ")
    assert "ESTADO 7K3M-9QXZ" in done and "APAGAR 7K3M-9QXZ" in done
    assert "PARAR" in i18n.gettext("pt", texts.HELP)
    for word in ("ESTADO", "APAGAR", "PARAR", "COMECAR", "SIM", "NAO"):
        assert any(word in i18n.gettext("pt", m) for m in MSGIDS), word


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_placeholders_match(language: str) -> None:
    for message in _catalog(language):
        if message.id and message.string:
            assert _fields(message.string) == _fields(message.id), f"{language}: {message.id!r}"
            assert sorted(_PERCENT.findall(message.string)) == sorted(_PERCENT.findall(message.id)), \
                f"{language}: {message.id!r}"


def test_english_uses_source_text_when_untranslated() -> None:
    catalog = _catalog("en")
    for msgid in MSGIDS:
        assert i18n.gettext("en", msgid) == (catalog.get(msgid).string or msgid)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segs"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€", "GSM-7", 2, 1),
        ("a" * 158 + "€", "GSM-7", 160, 1),
        ("a" * 159 + "€", "GSM-7", 161, 2),
        ("ក" * 70, "UCS-2", 70, 1),
        ("ក" * 71, "UCS-2", 71, 2),
        ("ក" * 134, "UCS-2", 134, 2),
        ("ក" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "ក", "UCS-2", 70, 1),
        ("", "GSM-7", 0, 1),
    ],
)
def test_segment_count(text: str, encoding: str, units: int, segs: int) -> None:
    assert segments.count(text) == segments.SegmentCount(encoding, units, segs)


def test_catalogues_are_well_formed_and_agree() -> None:
    """Every entry has a msgstr (a merge can drop one), and the template and both languages
    hold the same messages; every Khmer and Portuguese message is translated."""
    catalogs = {}
    for name, path in [("pot", i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot")] + [
        (lang, i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po") for lang in i18n.LANGUAGES
    ]:
        with path.open("rb") as fh:
            catalogs[name] = read_po(fh, abort_invalid=True)
    ids = {name: {m.id for m in cat if m.id} for name, cat in catalogs.items()}
    assert ids["en"] == ids["pot"] and ids["km"] == ids["pot"] and ids["pt"] == ids["pot"]
    assert [m.id for m in catalogs["km"] if m.id and not m.string] == []
    assert [m.id for m in catalogs["pt"] if m.id and not m.string] == []
