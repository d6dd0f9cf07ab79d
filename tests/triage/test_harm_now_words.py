"""More of harm happening now, by the word lists alone (the quick step): a birth that cannot wait
(waters broken, the two words together: "the waters of my sister broke" is not read yet), "not breathing" and bleeding the ways Khmer-Latin writes them (joined, or blood
before the verb), and "just" as a word of the present ("police just arrested him", `teb tae`,
`ទើបតែ`, `acabou de`) against a past marker later in the message. The messages are our own,
written for these tests (not any voice's text); each failed before its words were added. The same
words in the past stay not urgent."""

from __future__ import annotations

import pytest

from service.triage import classify_quick

URGENT = {
    "medical_emergency": [
        "my sister's waters broke at the market and the clinic is far away",
        "a minha cunhada esta gravida de 9 meses, rebentou a bolsa e nao ha transporte para o hospital",
        "ប្រពន្ធខ្ញុំឈឺពោះ ទឹកភ្លោះបែកហើយ គ្មានឡានទៅពេទ្យ",
        "bong srey knhom chheu poh, tuk phlos bek hz, ot mean lan tov pet",
        "pu knhom duol nov mot tonle ot dak dangheum",
        "kon ke duol ot dokdongheum te, mot svay",
    ],
    "violence": [
        "mit knhom chheam hoh pi kbal klang nas",
    ],
    "detained_now": [
        "polis teb tae chab p'oun knhom nov kbae tuk phsar trey pi mun nis",
    ],
}

NOT_URGENT = [
    "my waters broke last year at home, the baby is fine, thank you",
    "chnam mun pu knhom ot dak dangheum pel dek, ilov sok sabay",
    "a bolsa rebentou no ano passado e correu tudo bem",
]


@pytest.mark.parametrize("rule,text", [(rule, t) for rule, texts in URGENT.items() for t in texts])
def test_harm_now_is_urgent_by_the_word_lists(rule: str, text: str) -> None:
    result = classify_quick(text)
    fired = {r["rule"] for r in result.reasons if r.get("kind") == "rule"}
    assert result.urgency == "urgent", (text, result.reasons)
    assert f"urgent/{rule}" in fired, (text, sorted(fired))


@pytest.mark.parametrize(
    "text",
    [
        "ប៉ូលិសទើបតែចាប់ប្អូនប្រុសខ្ញុំនៅតូបលក់ត្រីដែលគាត់ជួលតាំងពីឆ្នាំមុន",
        "a policia acabou de levar o meu irmao preso da banca de peixe da mae dele ha anos",
        "polis teb tae chab p'oun knhom nov kbae tuk phsar trey pi mun nis",
    ],
)
def test_just_is_the_present_against_a_past_marker_later(text: str) -> None:
    result = classify_quick(text)
    assert result.urgency == "urgent", (text, result.reasons)
    assert not any(r.get("kind") == "past" for r in result.reasons), result.reasons


@pytest.mark.parametrize("text", NOT_URGENT)
def test_the_same_words_in_the_past_are_not_urgent(text: str) -> None:
    assert classify_quick(text).urgency != "urgent", (text, classify_quick(text).reasons)
