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
    # "everyone is fine", "let us go on": the person or the group is safe
    "the police checked the bar but did not arrest anyone, everyone is fine",
    "a policia parou o chapa mas nao levaram ninguem, deixaram seguir",
    # the police only passed: "we fine", `ta tudo calmo`, nothing taken
    "the police did not take anyone from our street tonight, they just passed by, we fine",
    "os policias vieram a noite mas nao levaram ninguem, so passaram, ta tudo calmo",
    "polis mok phum yub menh tae ot ban yok ey pi yeung te, ot ey te",
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


# Released and safe now: being held is over. Our own wording, in the four languages.
RELEASED = [
    "my cousin was released from the police station at noon, he is home now, thanks for the calls",
    "the boys got out of jail yesterday evening and are safe now, thank you",
    "soltaram a minha vizinha da esquadra hoje cedo, ja esta em casa, obrigada",
    "ប៉ូលិសដោះលែងពូខ្ញុំពីប៉ុស្តិ៍ហើយ គាត់មកដល់ផ្ទះហើយ អរគុណច្រើន",
    "polis dohleng pou knhom pi post haey, kat nov pteah haey, orkun bong",
    "they let him go from the police post at noon, he is home now",
]

STILL_HELD_OR_HARMED = [
    # not yet released: still held
    "my brother is not yet released from the police station, the family is at home waiting",
    "ainda nao soltaram o meu irmao da esquadra, a familia esta em casa a espera",
    # released, but something goes on
    "released from the police post this morning, he is home, but police arrested his wife at noon",
    "ប៉ូលិសដោះលែងប្អូនខ្ញុំហើយ គាត់នៅផ្ទះ តែប៉ូលិសចាប់បងប្រុសខ្ញុំម្តងទៀត",
    # released and home, but hurt now
    "they released my friend from the cells, he is home, he cannot breathe and his lips are blue",
]


@pytest.mark.parametrize("text", RELEASED)
def test_released_and_safe_now_is_not_urgent(text: str) -> None:
    _, _, found = analyse(text)
    assert found.released, text
    result = classify(text)
    assert result.urgency != "urgent", result.reasons
    assert any(r.get("kind") == "released" for r in result.reasons)
    assert not any(r.get("rule") == "urgent/detained_now" for r in result.reasons), result.reasons


@pytest.mark.parametrize("text", STILL_HELD_OR_HARMED)
def test_not_yet_released_or_a_harm_going_on_stays_urgent(text: str) -> None:
    _, _, found = analyse(text)
    assert not found.released, text
    assert classify(text).urgency == "urgent", classify(text).reasons


def test_the_release_reason_reads_as_a_sentence_in_each_language() -> None:
    from service.kit.i18n import has_khmer
    from service.queue.reasons import sentence

    reason = next(r for r in classify(RELEASED[0]).reasons if r.get("kind") == "released")
    said = {lang: sentence(reason, lang) for lang in ("en", "km", "pt")}
    assert all("{" not in s for s in said.values()), said
    assert said["en"].startswith("Not urgent: ") and said["en"].endswith("released and safe now"), said["en"]
    assert said["pt"].startswith("Não urgente: ") and said["pt"].endswith("em segurança agora"), said["pt"]
    assert has_khmer(said["km"]) and said["km"] != said["en"], said["km"]
