"""Amounts of money read from a report's text (service/triage/amounts.py): en, km, km-Latn, pt; Khmer digits
and number words; and the numbers that are not amounts (dates, phone numbers, ages, counts)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service.triage.amounts import extract, find_all, parse_answer

FOUND = [
    # English
    ("They asked me for 20000 riel for the viral load test", "20000", "KHR"),
    ("The nurse took 20,000 riels before giving my ARV", "20000", "KHR"),
    ("I had to pay $5 for the x-ray", "5", "USD"),
    ("paid 5 dollars to see the doctor", "5", "USD"),
    ("they charged us 2.50 USD", "2.5", "USD"),
    ("the clerk wanted 50 rand for the form", "50", "ZAR"),
    ("R50 for a TB card at the clinic", "50", "ZAR"),
    ("R 120 at the gate", "120", "ZAR"),
    ("MK500 for a bed", "500", "MWK"),
    ("100 maloti to the guard", "100", "LSL"),
    ("twenty thousand riel for a blood test", "20000", "KHR"),
    ("one hundred and fifty rand", "150", "ZAR"),
    ("20k riel to get the result", "20000", "KHR"),
    ("5$ for the card", "5", "USD"),
    # Khmer: script, Khmer digits, number words written without spaces
    ("គេសុំលុយ ២០០០០ រៀល សម្រាប់តេស្ត", "20000", "KHR"),
    ("ខ្ញុំត្រូវបង់ 20,000៛ ដើម្បីបានថ្នាំ", "20000", "KHR"),
    ("បុគ្គលិកសុំលុយម្ភៃពាន់រៀល", "20000", "KHR"),
    ("ត្រូវបង់ពីរម៉ឺនប្រាំពាន់រៀល", "25000", "KHR"),
    ("គេយក ៥ ម៉ឺនរៀល", "50000", "KHR"),
    ("បង់ប្រាំដុល្លារ", "5", "USD"),
    ("គេសុំ ៥ ដុល្លារ", "5", "USD"),
    # Khmer written in Latin letters
    ("pet yok luy 2 mun riel", "20000", "KHR"),
    ("luy 5 dolla", "5", "USD"),
    ("ke som 5 pan riel", "5000", "KHR"),
    ("bong pram dolla", "5", "USD"),
    ("pet srey som luy kafe 1 mern mun oy lutphol", "10000", "KHR"),  # ten-thousands are riel; "mun oy": before
    ("Trov bong 5 dollr kraom tok", "5", "USD"),  # as people spell it
    ("ថ្លៃធ្វើដំណើរ២ម៉ឺនរៀលម្តង", "20000", "KHR"),
    ("Nurse asked 10000r for coffee", "10000", "KHR"),  # riel's shorthand; rand is R50
    # Portuguese
    ("pediram 100 meticais para a consulta", "100", "MZN"),
    ("cobraram 500 metiacis pelo teste", "500", "MZN"),
    ("paguei 300 MT ao guarda", "300", "MZN"),
    ("cobraram vinte mil meticais", "20000", "MZN"),
    ("1,5 mil meticais pelo raio-x", "1500", "MZN"),
    ("2,50 dólares pelo cartão", "2.5", "USD"),
    ("paguei 50 rands na clínica", "50", "ZAR"),
]


@pytest.mark.parametrize(("text", "value", "currency"), FOUND)
def test_amounts_are_read(text: str, value: str, currency: str) -> None:
    amount = extract(text)
    assert amount is not None, text
    assert (amount.value, amount.currency) == (Decimal(value), currency)
    reason = amount.reasons()[0]
    assert reason["rule"] == f"amount/{currency}" and reason["words"]
    # The words are the text's own, in order.
    assert all(word in text for word in reason["words"])


NOT_AMOUNTS = [
    "On 20/11/2024 I waited 3 days and nobody came",
    "On 2024-05-15 they closed the clinic",
    "Please call me on 012 345 678",
    "my number is +855 12 345 678",
    "I am 25 years old and HIV positive",
    "អាយុ ២៥ ឆ្នាំ",
    "5 people waited 3 days at the centre",
    "២០ នាក់ បានរង់ចាំ ៣ ថ្ងៃ",
    "Tenho 40 anos, esperei 3 dias",
    "The appointment was at 10:30 but they came at 14:00",
    "riel 5 people",  # a currency word before a number is no amount
    "the ARV stock ran out for 2 weeks",
    "3 pan people",  # a thousand with no currency is no amount (only ten-thousands are riel alone)
    "I waited 20 min",
    "",
]


@pytest.mark.parametrize("text", NOT_AMOUNTS)
def test_numbers_that_are_not_amounts(text: str) -> None:
    assert extract(text) is None


def test_a_phone_number_beside_an_amount_is_not_read_into_it() -> None:
    amount = extract("call +855 12 345 678, they took 5000 riel from me")
    assert amount is not None and (amount.value, amount.currency) == (Decimal(5000), "KHR")
    amount = extract("012 345 678 riel")  # a phone number, even next to a currency word
    assert amount is None


def test_a_date_before_an_amount_stays_a_date() -> None:
    amount = extract("on 15.05.2024 I paid 100 riel")
    assert amount is not None and amount.value == Decimal(100)


def test_several_amounts_the_first_is_kept_and_the_others_listed() -> None:
    found = find_all("they asked 20000 riel, then $5 more")
    assert [(a.value, a.currency) for a in found] == [(Decimal(20000), "KHR"), (Decimal(5), "USD")]
    first = extract("they asked 20000 riel, then $5 more")
    assert first is not None and first.also == ("5 USD",)
    assert first.reasons()[0]["also"] == ["5 USD"]


def test_cents_and_languages() -> None:
    amount = extract("2,50 dólares")
    assert amount is not None and amount.cents == 250 and amount.languages == ("pt",)
    amount = extract("បុគ្គលិកសុំលុយម្ភៃពាន់រៀល")
    assert amount is not None and amount.cents == 2_000_000 and amount.languages == ("km",)


def test_a_khmer_number_word_inside_another_word_is_not_read() -> None:
    # ពីរោះ (pleasant) begins with ពីរ (two): not a number before a currency.
    assert extract("សំឡេងពីរោះរៀល") is None or extract("សំឡេងពីរោះរៀល").value != Decimal(2)


def test_answers_to_how_much() -> None:
    assert parse_answer("20000", "KHR").value == Decimal(20000)  # type: ignore[union-attr]
    assert parse_answer("ម្ភៃពាន់", "KHR").value == Decimal(20000)  # type: ignore[union-attr]
    assert parse_answer("២០០០០", "KHR").value == Decimal(20000)  # type: ignore[union-attr]
    assert parse_answer("5 dollars", "KHR").currency == "USD"  # type: ignore[union-attr]
    assert parse_answer("20000", None) is None  # no currency and none to assume
    assert parse_answer("yes", "KHR") is None
    assert parse_answer("I waited 3 days", "KHR") is None
    assert parse_answer("0", "KHR") is None
