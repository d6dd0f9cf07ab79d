"""Masking of numbers, emails and ID numbers in free text."""

from __future__ import annotations

import pytest

from service.kit.masking import clean_text, mask


@pytest.mark.parametrize(
    "text, hidden",
    [
        ("call me 012 345 678", "345"),
        ("my number +855 12 345 678", "345"),
        ("855123456789 is mine", "855123456789"),
        ("(012) 345-678", "345"),
        ("ទូរស័ព្ទ ០១២៣៤៥៦៧៨", "៣៤៥"),
        ("email dara.k@gmail.com now", "dara.k@gmail.com"),
        ("ID card N0123456789", "N0123456789"),
        ("passport AB1234567", "AB1234567"),
        ("SA ID 8001015009087", "8001015009087"),
    ],
)
def test_identifiers_are_masked(text: str, hidden: str) -> None:
    masked = mask(text)
    assert hidden not in masked
    assert "[" in masked


@pytest.mark.parametrize("text", ["No ARV for 2 weeks", "paid 5000 riel", "Room 12, 3 nurses", "since 2024-01-05"])
def test_ordinary_numbers_stay(text: str) -> None:
    assert mask(text) == text


def test_clean_text_removes_controls_keeps_words() -> None:
    assert clean_text("a\x00b\r\nc\x7f ខ្មែរ") == "ab\nc ខ្មែរ"
