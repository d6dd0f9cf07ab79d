"""Language detection and categories, sub-categories, population and secondary category."""

from __future__ import annotations

import pytest

from service.triage import classify, classify_quick, reading
from service.triage.language import detect
from service.triage.text import normalise


@pytest.mark.parametrize("text,language", [
    ("no arv at the hc 2 weeks", "en"),
    ("pls help police took my friend", "en"),
    ("ot mean thnam", "km-Latn"),
    ("pet min mok", "km-Latn"),
    ("bong knhom cham yu nas", "km-Latn"),
    ("knhom ot mean luy bong thlai moto", "km-Latn"),
    ("អស់ថ្នាំ ARV", "km"),
    ("ពេទ្យអត់មកទេបង HC បិទ", "km"),
    ("ខ្ញុំ​ចាំ​យូរ​ណាស់", "km"),  # with zero-width spaces
    ("não há medicamentos no centro", "pt"),
    ("n tem remedio hj no hospital", "pt"),
    ("a policia levou o meu irmao", "pt"),
])
def test_language_detection(text: str, language: str) -> None:
    assert detect(text).language == language


def test_language_of_mixed_script_follows_the_khmer() -> None:
    assert detect("ខ្ញុំ HIV positive, ARV អស់ហើយ").language == "km"


def test_empty_and_symbol_only_text_is_english_with_no_confidence() -> None:
    assert detect("").language == "en" and detect("").confidence == 0.0
    assert detect("?!? 123").language == "en"


def test_normalise_folds_what_looks_the_same() -> None:
    assert normalise("NÃO!!! helppp") == "nao help"
    assert normalise("ប្ដី") == normalise("ប្តី")
    assert normalise("អោយ") == normalise("ឲ្យ")
    assert normalise("អស់ថ្នាំARV") == "អស់ថ្នាំ arv"
    assert normalise("អំបាញ់មិញ") == normalise("អម្បាញ់មិញ")  # "a moment ago", two spellings


def test_a_moment_ago_is_not_a_shooting() -> None:
    # អំបាញ់មិញ ("a moment ago") ends in បាញ់ ("shoot"): a snake bite a moment ago is a medical
    # emergency, not violence
    result = classify_quick("ពស់ចឹកជើងម្ដាយខ្ញុំនៅវាលស្រែអំបាញ់មិញ ឥឡូវជើងហើម")
    rules = {r["rule"] for r in result.reasons if r.get("kind") == "rule"}
    assert result.urgency == "urgent", result.reasons
    assert "urgent/medical_emergency" in rules and "urgent/violence" not in rules, rules


@pytest.mark.parametrize("text,category,subcategory", [
    ("no ARV at the health centre since 2 weeks", "service_quality", "service_quality/stockout"),
    ("they charged me 20000 riel for the free HIV test", "financial_hardship", None),
    ("nurse shouted at me and laughed because i am gay", "stigma_discrimination", None),
    ("អស់ថ្នាំ ARV នៅមណ្ឌលសុខភាព", "service_quality", "service_quality/stockout"),
    ("ke keit luy knhom 2 mern riel", "financial_hardship", "financial_hardship/informal_fee"),
    ("a policia exige dinheiro todo mes", "human_rights_violation", None),
])
def test_category(text: str, category: str, subcategory: str | None) -> None:
    result = classify(text)
    assert result.category == category, result.reasons
    if subcategory:
        assert result.subcategory == subcategory


def test_two_categories_name_a_secondary() -> None:
    result = classify("no ARV at the HC so I go to the province, the moto costs 25000 riel each time, cannot afford")
    assert {result.category, result.secondary_category} == {"service_quality", "financial_hardship"}


def test_population() -> None:
    assert classify("nurse refused to treat me because i am trans").population == "transgender"
    assert classify("ខ្ញុំជាអ្នកប្រើគ្រឿងញៀន ពេទ្យមិនព្រមពិនិត្យ").population == "people_who_use_drugs"
    assert classify("sou mineiro com silicose").population == "miner"
    assert classify("the clinic was closed").population is None


def test_greeting_does_not_make_a_complaint_other() -> None:
    assert classify("hello, no ARV at the hc for 3 weeks, thanks").category == "service_quality"


@pytest.mark.parametrize("text", [
    "the police no longer take our condoms at the market, thank you so much",
    "a policia ja nao nos pede dinheiro na fronteira, obrigado pela ajuda",
    "ប៉ូលិសលែងរឹបអូសស្រោមអនាម័យទៀតហើយ អរគុណច្រើន",
])
def test_thanks_for_an_outcome_is_other_though_it_names_police(text: str) -> None:
    assert classify(text).category == "other"


def test_thanks_does_not_hide_a_problem_that_is_not_over() -> None:
    assert classify("thank you, but the police took our condoms again last night").category == "human_rights_violation"


@pytest.mark.parametrize("text", [
    "the nurse refused to give me PrEP because i am trans",
    "a enfermeira nao me quis atender so porque sou seropositiva",
    "ពេទ្យមិនព្រមពិនិត្យខ្ញុំ ព្រោះខ្ញុំជាខ្ទើយ",
    "pet ot prom pinit knhom pruos knhom chea ktoey",
    # treated worse once they learned who the person is
    "the barber was friendly until he saw the HIV clinic letter in my bag, then he said he is closed for the day",
    "the church group stopped calling me after they knew i am on methadone",
    "o senhorio estava simpatico ate quando soube que tenho tuberculose, agora diz que o quarto ja esta alugado",
    "ម្ចាស់ហាងឈប់ឲ្យខ្ញុំធ្វើការ ក្រោយដឹងថាខ្ញុំមានមេរោគអេដស៍",
    "neak chit khang ot niyeay cheamuoy knhom te pel ke deng tha knhom mean HIV",
])
def test_identity_named_as_the_reason_is_stigma(text: str) -> None:
    result = classify(text)
    stigma = [r for r in result.reasons if r.get("rule") == "category/stigma_discrimination"]
    assert stigma and any(w.startswith("<") and "+" in w for w in stigma[0]["words"]), result.reasons
    assert result.category == "stigma_discrimination", result.reasons


@pytest.mark.parametrize("text", [
    "no ARV at the clinic because the truck did not come",
    "fui ao hospital porque tinha febre e nao havia medico",
    # learning something that is not who the person is
    "when they saw the queue they went home, the clinic had no doctor",
    "ខ្ញុំដឹងថាថ្នាំរបេងឥតគិតថ្លៃ តែគេយកលុយ",
])
def test_a_reason_that_is_not_an_identity_adds_no_stigma_word(text: str) -> None:
    found = reading.analyse(text)[2]
    assert not any(h.term.word.startswith("<") for h in found.categories.get("stigma_discrimination", []))


@pytest.mark.parametrize("text,category", [
    ("the nurse shouted at me because i came late, no doctor all morning", "service_quality"),
    ("the nurse shouted at me in front of everyone because i am gay", "stigma_discrimination"),
    ("a enfermeira gritou comigo porque cheguei tarde, esperei 5 horas", "service_quality"),
])
def test_shouting_is_poor_care_unless_the_identity_is_the_reason(text: str, category: str) -> None:
    assert classify(text).category == category


@pytest.mark.parametrize("text", [
    "since they know my HIV my family makes me eat from my own plate and nobody sits with me",
    "desde que souberam da TB nao me deixam comer no mesmo prato nem usar a mesma caneca",
])
def test_kept_apart_at_home_is_stigma(text: str) -> None:
    assert classify(text).category == "stigma_discrimination"


def test_breathing_typed_as_two_words_in_khmer_latin_is_urgent() -> None:
    assert classify("mit knhom ot dork dong haeum ban, jouy phong").urgency == "urgent"


# Papers kept until a debt is paid, or a test forced before a payment, are a rights
# abuse whatever money comes with them: the definitions ask about rights before money
# (docs/triage.md, "Categories"). Our own messages.
TAKEN_OR_TESTED_WITH_MONEY = [
    "the karaoke owner keeps her ID card and says she can leave when she pays the 600 dollar debt",
    "o patrao ficou com o BI da minha prima e diz que so devolve quando ela pagar 2000 meticais",
    "the company doctor forced us to test for hiv before they pay the last salary",
]


@pytest.mark.parametrize("text", TAKEN_OR_TESTED_WITH_MONEY)
def test_papers_kept_or_a_forced_test_is_a_rights_abuse_whatever_the_money(text: str) -> None:
    result = classify(text)
    assert result.category == "human_rights_violation", result.reasons
    assert result.subcategory in {"human_rights_violation/confiscation", "human_rights_violation/forced_testing"}
