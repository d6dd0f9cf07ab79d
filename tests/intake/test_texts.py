"""Every intake reply fits the SMS budget in English and Khmer, and the catalogues are sound.

Budget: two SMS segments once the placeholders are filled with worst-case values —
306 GSM-7 septets in English (which must stay GSM-7), 134 UTF-16 units in Khmer (UCS-2).
Needs no database: texts.py and the catalogues only; the option labels in
service/intake/service.py are read from its source rather than by importing it.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from service.intake import texts
from service.kit import i18n, segments

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


def _render(language: str, msgid: str) -> str:
    return i18n.gettext(language, msgid, status=_longest_status(language), **WORST)


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
        assert result.units <= 306
    else:
        assert result.units <= 134


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


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_placeholders_match(language: str) -> None:
    for message in _catalog(language):
        if message.id and message.string:
            assert _fields(message.string) == _fields(message.id), f"{language}: {message.id!r}"


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
    hold the same messages; every Khmer message is translated."""
    catalogs = {}
    for name, path in [("pot", i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot")] + [
        (lang, i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po") for lang in i18n.LANGUAGES
    ]:
        with path.open("rb") as fh:
            catalogs[name] = read_po(fh, abort_invalid=True)
    ids = {name: {m.id for m in cat if m.id} for name, cat in catalogs.items()}
    assert ids["en"] == ids["pot"] and ids["km"] == ids["pot"]
    assert [m.id for m in catalogs["km"] if m.id and not m.string] == []
