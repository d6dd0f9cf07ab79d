"""Population precedence: when a report names several populations, a fixed, documented order
decides (docs/triage.md), never the number of words or the alphabet. A miner with TB is a miner."""

from __future__ import annotations

import pytest

from service.reports.models import POPULATIONS
from service.triage import classify
from service.triage.service import POPULATION_PRECEDENCE, apply_triage
from tests.support.factories import make_report

MINER_WITH_TB = [
    ("en", "I am an ex-miner, I have TB and the compensation fund never paid me"),
    ("en", "I worked 15 years at the mine and got TB, the compensation fund never answered"),
    # TB said more often than mining: still a miner
    ("en", "Ex-mineworker here. TB clinic gave me no tuberculosis pills, TB is back, DOTS nurse absent"),
    ("pt", "Sou ex-mineiro, trabalhei 12 anos nas minas da África do Sul, tenho tuberculose e o fundo não responde"),
    ("pt", "tenho tuberculose, tuberculose outra vez, fui mineiro em Carletonville"),
    ("km", "ខ្ញុំជាកម្មកររ៉ែ ខ្ញុំមានជំងឺរបេង ហើយគ្លីនិកមិនឲ្យថ្នាំ"),
    ("km-Latn", "knhom kamkor re, knhom mean robeng, ot mean thnam"),
]


@pytest.mark.parametrize("language,text", MINER_WITH_TB, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(MINER_WITH_TB)])
def test_a_miner_with_tb_is_a_miner(language: str, text: str) -> None:
    result = classify(text)
    assert result.population == "miner"
    reason = next(r for r in result.reasons if r.get("rule") == "population/miner")
    # The reason says which other populations were named and lost on precedence.
    assert "tb" in reason["also"]


@pytest.mark.parametrize("text,population", [
    # a trans woman called "gay" by staff is transgender (the narrower identity wins)
    ("The nurse called me gay and laughed, I am a trans woman", "transgender"),
    # someone who uses drugs and lives with HIV: drug use (detention, police) comes first
    ("I have HIV and they sent me to the drug centre, no ARV there", "people_who_use_drugs"),
    ("ខ្ញុំផ្ទុកមេរោគអេដស៍ ហើយជាស្រីរកស៊ី ប៉ូលីសយកស្រោមអនាម័យ", "sex_worker"),
    ("tenho HIV e tuberculose, o hospital não deu TARV", "plhiv"),
])
def test_precedence_between_other_populations(text: str, population: str) -> None:
    assert classify(text).population == population


def test_the_pronoun_mine_is_not_mining() -> None:
    assert classify("This phone is mine, the TB clinic refused me").population == "tb"
    assert classify("The card is mine but the HIV clinic kept it").population == "plhiv"


def test_the_precedence_names_every_population_once() -> None:
    assert sorted(POPULATION_PRECEDENCE) == sorted(p for p in POPULATIONS if p != "general")
    assert POPULATION_PRECEDENCE[0] == "miner"
    assert POPULATION_PRECEDENCE.index("transgender") < POPULATION_PRECEDENCE.index("msm")
    assert POPULATION_PRECEDENCE.index("plhiv") < POPULATION_PRECEDENCE.index("tb")


def test_stored_population_follows_precedence(session) -> None:  # type: ignore[no-untyped-def]
    text = "Fui mineiro na África do Sul. Tenho tuberculose, TB, e o hospital de Xai-Xai não dá medicamentos"
    report = make_report(session, narrative=text)
    apply_triage(session, report, text)
    assert report.population == "miner"


@pytest.mark.parametrize("text", [
    "ជួយផងបង ប្អូនប្រុសខ្ញុំត្រូវគេវាយ ហើយកំពុងជាប់ឃុំក្នុងមណ្ឌលញៀនថ្នាំឥឡូវនេះ",
    "ប្អូនខ្ញុំនៅមណ្ឌលស្ដារនីតិសម្បទា គេវាយរាល់ថ្ងៃ",
])
def test_khmer_words_for_the_compulsory_centres_name_people_who_use_drugs(text: str) -> None:
    assert classify(text).population == "people_who_use_drugs"
