"""Phone numbers, handles and links written in every common way are masked; dates, amounts and codes stay."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.kit.masking import mask

_KHMER = "០១២៣៤៥៦៧៨៩"
_FULLWIDTH = "０１２３４５６７８９"
_ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"


@pytest.mark.parametrize(
    "text",
    [
        "call 012 - 345 - 678 tonight",
        "call 012/345/678 tonight",
        "call 012–345–678 tonight",
        "call 012—345—678 tonight",
        "call 012,345,678 tonight",
        "call 012_345_678 tonight",
        "call O12 345 678 tonight",
        "call o12 345 678 tonight",
        "call 0l2 345 678 tonight",
        "call 012\u200b345\u200b678 tonight",
        "call 0\u200c1\u200d2\u00ad3\u20604\ufeff5 678 tonight",
        "call 012   345    678 tonight",
        "call 012\u00a0345\u00a0678 tonight",
        "ទូរស័ព្ទ០១២ ៣៤៥ ៦៧៨",
        "ទូរស័ព្ទ ០១២-៣៤៥-៦៧៨ ",
        "call ０１２ ３４５ ６７８",
        "call +855 (12) 345.678",
        "call +855-12-345-678",
        "call 012 . 345 . 678",
    ],
)
def test_phone_numbers_in_common_formats_are_masked(text: str) -> None:
    masked = mask(text)
    assert "[phone]" in masked, masked
    assert not any(unicodedata.decimal(c, None) is not None for c in masked), masked


@pytest.mark.parametrize(
    "text, gone, label",
    [
        ("message me @dara_k99 please", "dara_k99", "[handle]"),
        ("telegram @SokChan.", "SokChan", "[handle]"),
        ("find me t.me/sokchan88 ok", "sokchan88", "[link]"),
        ("find me https://t.me/sokchan88", "sokchan88", "[link]"),
        ("my page facebook.com/dara.kim.123 thanks", "dara.kim", "[link]"),
        ("my page www.facebook.com/profile.php?id=1000123", "1000123", "[link]"),
        ("my page fb.com/darakim", "darakim", "[link]"),
        ("whatsapp wa.me/85512345678", "855", "[link]"),
        ("email dara.k @ gmail.com now", "dara.k", "[email]"),
        ("email dara.k@ gmail . com now", "dara.k", "[email]"),
        ("email dara.k (at) gmail (dot) com", "dara.k", "[email]"),
    ],
)
def test_handles_links_and_spaced_emails_are_masked(text: str, gone: str, label: str) -> None:
    masked = mask(text)
    assert gone not in masked, masked
    assert label in masked, masked


@pytest.mark.parametrize(
    "text",
    [
        "on 12/03/2024 the nurse refused",
        "since 2024-01-05 no ARV",
        "on ១២/០៣/២០២៤ the nurse refused",
        "we paid 50,000 riel for the test",
        "we paid 1,000,000 riel for the test",
        "we paid 1 000 000 ៛",
        "they asked $1,200.50 for it",
        "fee 120000 KHR every visit",
        "my receipt K7QF-29XD please",
        "STATUS A2B4-5678",
        "I am 34 years old, my son is 12",
        "No ARV for 2 weeks, waited 3 hours, room 12",
        "Room 12, 3 nurses",
        "at 14:30 on 5 May",
        "@ the clinic",
    ],
)
def test_ordinary_numbers_dates_amounts_codes_stay(text: str) -> None:
    assert mask(text) == text


def test_the_rest_of_the_text_is_kept_as_written() -> None:
    text = "ថ្ងៃ ១២/០៣/២០២៤\u200bខ្ញុំ call ០១២ ៣៤៥ ៦៧៨ now"
    assert mask(text) == "ថ្ងៃ ១២/០៣/២០២៤\u200bខ្ញុំ call [phone] now"


# -- property: no number survives whatever the separators and script ----------------------------------

_SEPARATORS = [" ", "  ", "   ", "    ", "-", " - ", "–", " – ", "—", "/", " / ", ".", " . ", ",", ", ", "_",
               "\u200b", "\u00a0", "\u2009", "\u202f", "\u3000", "·", "\u2011", "−", ")", ") ", "\t"]
_INVISIBLE = ["", "\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u200e"]
_WORDS = ["call", "me", "please", "the", "nurse", "ខ្ញុំ", "ទូរស័ព្ទ", "លេខ", "ligue", "para", "mim", "número",
          "clinic", "ok", "!", "?", ":", "(", "\n"]


def _render(digits: str, script: str, letter_o: bool) -> list[str]:
    out = []
    for k, d in enumerate(digits):
        if script == "khmer":
            c = _KHMER[int(d)]
        elif script == "fullwidth":
            c = _FULLWIDTH[int(d)]
        elif script == "arabic":
            c = _ARABIC_INDIC[int(d)]
        else:
            c = d
        if letter_o and d == "0" and k == 0:
            c = "O"
        out.append(c)
    return out


@st.composite
def written_numbers(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["kh_mobile", "kh_landline", "intl", "za"]))
    if kind == "kh_mobile":
        digits = "0" + draw(st.sampled_from(["10", "11", "12", "15", "16", "17", "60", "69", "70", "77", "88", "89", "92", "96", "97", "99"])) \
            + draw(st.text("0123456789", min_size=6, max_size=7))
    elif kind == "kh_landline":
        digits = "023" + draw(st.text("0123456789", min_size=6, max_size=6))
    elif kind == "intl":
        digits = "855" + draw(st.text("0123456789", min_size=8, max_size=9))
    else:
        digits = "0" + draw(st.text("0123456789", min_size=9, max_size=9))
    script = draw(st.sampled_from(["ascii", "khmer", "fullwidth", "arabic"]))
    chars = _render(digits, script, draw(st.booleans()))
    # group into chunks of 1-4 with a separator style; invisible characters may sit between any digits
    sep = draw(st.sampled_from(_SEPARATORS))
    out = ["+" if kind == "intl" and draw(st.booleans()) else ""]
    i = 0
    while i < len(chars):
        size = draw(st.integers(min_value=1, max_value=4))
        chunk = chars[i:i + size]
        out.append("".join(c + draw(st.sampled_from(_INVISIBLE)) for c in chunk))
        i += size
        if i < len(chars):
            out.append(draw(st.sampled_from([sep, sep, draw(st.sampled_from(_SEPARATORS))])))
    return "".join(out)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=written_numbers(), before=st.lists(st.sampled_from(_WORDS), max_size=4),
       after=st.lists(st.sampled_from(_WORDS), max_size=4), glue=st.sampled_from([" ", "\n", "", ": "]))
def test_no_written_number_survives(number: str, before: list[str], after: list[str], glue: str) -> None:
    text = " ".join(before) + glue + number + glue + " ".join(after)
    masked = mask(text)
    left = [c for c in masked if unicodedata.decimal(c, None) is not None or c in "Oo"]
    digits_left = [c for c in left if c not in "Oo"]
    assert not digits_left, (text, masked)
    assert "[phone]" in masked or "[id]" in masked  # glued to a word, the whole token goes as an ID


# -- numbers spelled in words, and letters splitting the digits --------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "call zero one two three four five six seven eight tonight",
        "call ZERO ONE TWO, THREE FOUR FIVE, SIX SEVEN EIGHT",
        "call oh one two three four five six seven eight",
        "call 0one2three4five6seven8",
        "call 012 three 4five6 78",
        "ligue zero um dois três quatro cinco seis sete oito",
        "ligue zero nove dois, tres quatro cinco, seis sete oito nove",
        "ទូរស័ព្ទ សូន្យ មួយ ពីរ បី បួន ប្រាំ ប្រាំមួយ ប្រាំពីរ ប្រាំបី",
        "ទូរស័ព្ទសូន្យមួយពីរបីបួនប្រាំប្រាំមួយប្រាំពីរប្រាំបី",
        "ទូរស័ព្ទ ០ មួយ ២ បី ៤ ប្រាំ ៦ ប្រាំពីរ ៨",
        "call 012 a 345 b 678 tonight",
        "call 0 1 2 x 3 4 5 y 6 7 8",
        "call 012k345q678",
    ],
)
def test_numbers_spelled_in_words_or_split_by_letters_are_masked(text: str) -> None:
    masked = mask(text)
    assert "[phone]" in masked or "[id]" in masked, masked
    assert not any(unicodedata.decimal(c, None) is not None for c in masked), masked
    rest = masked.replace("[phone]", " ").replace("[id]", " ").lower()
    for word in ("one", "two", "three", "seven", "eight", "dois", "três", "sete", "oito", "មួយ", "បី", "ប្រាំពីរ"):
        assert word not in rest, (word, masked)


@pytest.mark.parametrize(
    "text",
    [
        "I have one child and two sisters, we waited three hours",
        "tenho dois filhos e uma filha, esperei três horas",
        "ខ្ញុំមានកូនបីនាក់ ហើយរង់ចាំពីរម៉ោង",
        "someone phoned, it was done at seven",
        "Room 12 a 3 nurses",
        "one or two times a week",
        "Worked Harmony gold 1991 to 2011 underground",
        "MSM = 31,275, EW= 25,412, TG= 11,624",
    ],
)
def test_ordinary_words_for_numbers_stay(text: str) -> None:
    assert mask(text) == text


# -- property: a number spelled in words (English, Portuguese, Khmer), alone or mixed with digits ------

_SPELLED = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "pt": ["zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"],
    "km": ["សូន្យ", "មួយ", "ពីរ", "បី", "បួន", "ប្រាំ", "ប្រាំមួយ", "ប្រាំពីរ", "ប្រាំបី", "ប្រាំបួន"],
}
_SPELLED_SEPARATORS = {"en": [" ", " ", "-", ", ", " - ", ""], "pt": [" ", " ", "-", ", ", ""],
                       "km": [" ", "", "", "-", " "]}


@st.composite
def spelled_numbers(draw: st.DrawFn) -> tuple[str, str]:
    language = draw(st.sampled_from(sorted(_SPELLED)))
    digits = "0" + draw(st.sampled_from(["12", "15", "17", "70", "77", "88", "92", "97", "82", "84"])) \
        + draw(st.text("0123456789", min_size=6, max_size=7))
    words = _SPELLED[language]
    style = draw(st.sampled_from(["words", "mixed"]))  # mixed: some digits as digits (ASCII or Khmer)
    parts = []
    for d in digits:
        if style == "mixed" and draw(st.booleans()):
            parts.append(_KHMER[int(d)] if language == "km" and draw(st.booleans()) else d)
        else:
            word = words[int(d)]
            parts.append(word.upper() if language != "km" and draw(st.integers(0, 5)) == 0 else word)
    seps = _SPELLED_SEPARATORS[language]
    out = parts[0]
    for part in parts[1:]:
        out += draw(st.sampled_from(seps)) + part
    return language, out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(number=spelled_numbers(), before=st.lists(st.sampled_from(_WORDS), max_size=3),
       after=st.lists(st.sampled_from(_WORDS), max_size=3))
def test_no_spelled_number_survives(number: tuple[str, str], before: list[str], after: list[str]) -> None:
    import re

    language, written = number
    glue = " " if language != "km" else ""  # Khmer is written without spaces between words
    text = " ".join(before) + glue + written + glue + " ".join(after)
    masked = mask(text)
    assert "[phone]" in masked or "[id]" in masked, (text, masked)
    rest = masked.replace("[phone]", " ").replace("[id]", " ")
    assert not any(unicodedata.decimal(c, None) is not None for c in rest), (text, masked)
    for word in sorted(set(before + after), key=len, reverse=True):
        rest = rest.replace(word, " ")  # the words around the number stay; nothing of the number does
    for word in _SPELLED[language]:
        if language == "km":
            assert word not in rest, (word, text, masked)
        else:
            assert not re.search(rf"(?<![^\W\d_]){word}(?![^\W\d_])", rest, re.IGNORECASE), (word, text, masked)
