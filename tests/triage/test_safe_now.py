"""A harm said not to have happened, with the person safe now (docs/triage.md, "Categories", `other`).

"The police did not take him, he is at home" names the police and a harm, but nobody was harmed: it
is an update, `other`, and not urgent. A verb of taking or hurting negated ("did not take", `nao
levaram`, `ot ban chab`, `មិនបានចាប់`) followed by words saying the person is safe now ("is at home",
`esta em casa`, `nov pteah`, `នៅផ្ទះ`) sets the rights-abuse words aside (harm words too) and keeps the
model from making the message urgent. A "but" after the safe words, a denial, or an urgent word in the
present keeps the complaint. The messages are our own, written for this test in the four languages.
"""

from __future__ import annotations

import pytest

from service.triage import classify
from service.triage.reading import analyse

RIGHTS = "human_rights_violation"

SAFE_NOW = [
    "the police did not take my uncle in the end, he is at home with my aunt",
    "just to tell you, the cops never caught Sokha, she is safe now",
    "os agentes nao levaram o meu primo, ele esta em casa com a familia",
    "a policia municipal nao prendeu a Dona Ana, ela ja esta bem",
    "polis ot ban chab pou knhom te, kat nov pteah hoey",
    "សន្តិសុខមិនបានចាប់បងប្រុសខ្ញុំទេ គាត់នៅផ្ទះហើយ",
]

# the ones the model, without the rights-abuse words, reads as `other` (it still reads "os agentes nao
# levaram" as a rights abuse: the rule only removes the words and the urgency, the model decides)
CATEGORY_OTHER = (0, 1, 3, 4, 5)

STILL_A_COMPLAINT = [
    # a "but" after the safe words: something goes on
    "the police did not take my uncle, he is at home, but they kept his phone and his ID",
    "os agentes nao levaram o meu primo, ele esta em casa, mas ficaram com o passaporte dele",
    # no safe words: a harm said not to have happened next to another one
    "the police did not arrest him but they took all his money",
    # the safe words negated
    "the police did not release my brother, he is not at home yet",
]

URGENT_ANYWAY = [
    # an emergency in the present beside the negated harm
    "the police did not take him to the clinic, he is at home not breathing",
    "nao levaram o meu tio ao hospital, esta em casa a sangrar muito agora",
]


@pytest.mark.parametrize("text", SAFE_NOW)
def test_a_harm_that_did_not_happen_with_the_person_safe_sets_the_rights_words_aside(text: str) -> None:
    _, _, found = analyse(text)
    assert found.safe, text
    assert RIGHTS not in found.categories, found.categories.get(RIGHTS)
    assert found.negated, text  # the negated verb vetoes the model's urgency
    result = classify(text)
    assert result.urgency != "urgent", result.reasons
    assert any(r.get("rule") == "category/topic_only" for r in result.reasons)
    assert any(r.get("rule") == "negation" for r in result.reasons)


@pytest.mark.parametrize("text", [SAFE_NOW[i] for i in CATEGORY_OTHER])
def test_such_an_update_is_other(text: str) -> None:
    # The rule removes the rights-abuse words; the model then reads the rest (here: `other`).
    assert classify(text).category == "other", classify(text).reasons


@pytest.mark.parametrize("text", STILL_A_COMPLAINT)
def test_a_but_a_second_harm_or_negated_safe_words_keep_the_complaint(text: str) -> None:
    _, _, found = analyse(text)
    assert not found.safe, text


@pytest.mark.parametrize("text", URGENT_ANYWAY)
def test_an_emergency_beside_the_negated_harm_stays_urgent(text: str) -> None:
    _, _, found = analyse(text)
    assert not found.safe, text
    assert classify(text).urgency == "urgent", text
