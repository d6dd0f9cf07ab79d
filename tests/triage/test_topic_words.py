"""Rights-abuse topic words against harm words (docs/triage.md, "Categories", `other`).

"Police", "the mine", "compensation", "a lawyer", `direitos`, `សំណង`, `setthi` name what a
message is about, not a harm. A question, a thank-you or a harm said not to have happened that
carries such words only is `other`: "a question about rights is `other` until it says something
was denied". A harm word (arrested, beaten, `confiscaram`), a denial ("never paid", `recusaram`,
`មិនបង់`) or an urgent word keeps the rights-abuse words, and the message stays a complaint.
The messages are our own, written for this test in the four languages.
"""

from __future__ import annotations

import pytest

from service.queue.reasons import sentences
from service.triage import classify
from service.triage.reading import analyse
from service.triage.rules import ruleset

RIGHTS = "human_rights_violation"

TOPIC_ONLY = [
    # a question about rights or a procedure
    "my father worked underground for twenty years and now has silicosis. what are my rights to compensation?",
    "where do i find a lawyer who knows about mine compensation claims?",
    "o meu tio trabalhou na mina muitos anos. como faco para pedir a indemnizacao do fundo?",
    "onde posso encontrar um advogado para os direitos dos mineiros?",
    "តើអ្នកធ្វើការនៅអណ្តូងរ៉ែអាចទាមទារសំណងយ៉ាងម៉េច?",
    "knhom chong deng pi setthi rbos knhom, tver mech ban somnong?",
    # a thank-you that names the topic only
    "thank you for explaining how the compensation claim works, the lawyer was very helpful",
    "obrigada pela informacao sobre os direitos, o advogado foi muito simpatico",
    # a harm said not to have happened (an urgent word negated)
    "my son was not taken by the police, he is at home with us",
    "o meu filho nao foi levado pela policia, esta em casa connosco",
]

STILL_RIGHTS_WORDS = [
    # a harm word, even in a question
    "police arrested my brother last month, what are his rights?",
    "a policia confiscou os meus documentos, como posso reclamar?",
    # a denial
    "thanks, but the mine never paid my compensation",
    "obrigado, mas o fundo recusou a indemnizacao do meu pai",
    "អរគុណ តែក្រុមហ៊ុនអណ្តូងរ៉ែមិនបង់សំណងឲ្យប៉ាខ្ញុំទេ",
    "arkun bong, tae ondong re ot bong somnong oy pa knhom",
    # a plain report with topic words and neither question, thanks nor negation
    "the police came to our room again and the landlord watched",
    # thanks, then "but" says something goes on
    "thanks for the lawyer, but the police are at the market again",
]

URGENT_WITH_QUESTION = [
    "police are beating my friend at the station right now, what are his rights?",
    "a policia esta a bater no meu irmao agora na esquadra, onde encontro um advogado?",
    "ប៉ូលិសកំពុងវាយប្តីខ្ញុំឥឡូវនេះ តើខ្ញុំមានសិទ្ធិអ្វីខ្លះ?",
]


@pytest.mark.parametrize("text", TOPIC_ONLY)
def test_topic_words_only_are_set_aside(text: str) -> None:
    _, _, found = analyse(text)
    assert RIGHTS not in found.categories, found.categories.get(RIGHTS)
    assert found.topics


@pytest.mark.parametrize("text", STILL_RIGHTS_WORDS)
def test_harm_denial_or_plain_report_keeps_the_rights_words(text: str) -> None:
    _, _, found = analyse(text)
    assert found.categories.get(RIGHTS), found.categories
    assert not found.topics


@pytest.mark.parametrize(
    "text",
    [
        "my father worked underground for twenty years and now has silicosis. what are my rights to compensation?",
        "o meu tio trabalhou na mina muitos anos. como faco para pedir a indemnizacao do fundo?",
        "thank you for explaining how the compensation claim works, the lawyer was very helpful",
        "my son was not taken by the police, he is at home with us",
    ],
)
def test_a_question_or_thanks_with_topic_words_is_other(text: str) -> None:
    result = classify(text)
    assert result.category == "other", result.reasons
    assert result.urgency != "urgent"
    assert any(r.get("rule") == "category/topic_only" for r in result.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "thanks, but the mine never paid my compensation",
        "police arrested my brother last month, what are his rights?",
        "obrigado, mas o fundo recusou a indemnizacao do meu pai",
        "អរគុណ តែក្រុមហ៊ុនអណ្តូងរ៉ែមិនបង់សំណងឲ្យប៉ាខ្ញុំទេ",
    ],
)
def test_a_real_denial_or_harm_with_topic_words_stays_a_rights_abuse(text: str) -> None:
    result = classify(text)
    assert result.category == RIGHTS, result.reasons


@pytest.mark.parametrize("text", URGENT_WITH_QUESTION)
def test_urgent_reports_keep_their_rights_words_and_urgency(text: str) -> None:
    _, _, found = analyse(text)
    assert found.categories.get(RIGHTS)
    assert not found.topics
    result = classify(text)
    assert result.urgency == "urgent", result.reasons
    assert result.category == RIGHTS, result.reasons


def test_the_reason_names_the_topic_words_set_aside() -> None:
    result = classify("where do i find a lawyer who knows about mine compensation claims?")
    shown = " ".join(sentences(result.reasons, "en"))
    assert "Topic words only" in shown and "‘lawyer’" in shown, shown
    assert sentences(result.reasons, "km") and sentences(result.reasons, "pt")


def test_every_topic_word_is_a_word_of_the_rights_abuse_lists() -> None:
    # A topic word that is not in the lists would never be set aside: a typo in the file.
    from service.triage.rules import _load_files

    for lang, data in _load_files().items():
        listed = {str(w) for words in data["categories"][RIGHTS].values() for w in words}
        topic = data.get("topic") or {}
        assert topic.get("words"), lang
        missing = [w for w in topic["words"] if w not in listed]
        assert not missing, (lang, missing)


EMERGENCY_NOBODY_CAUSED = [
    # urgent, a question, and of the rights-abuse lists only a topic word (the mine, a miner)
    "my father has silicosis from the mine, he fell in the yard and is breathing badly, lips blue. what do i do?",
    "o meu pai ex mineiro caiu na casa de banho e nao consegue respirar bem, esta roxo. o que faco?",
    "ឪពុកខ្ញុំធ្លាប់ធ្វើការអណ្តូងរ៉ែ ដួលសន្លប់នៅផ្ទះ ដកដង្ហើមមិនរួច តើខ្ញុំត្រូវធ្វើអ្វី?",
]


@pytest.mark.parametrize("text", EMERGENCY_NOBODY_CAUSED)
def test_an_emergency_question_with_topic_words_only_is_not_made_a_rights_abuse(text: str) -> None:
    # A question is a rights abuse first only when it tells a harm or a denial; a topic word
    # ("ex miner") in an emergency nobody caused does not (docs/triage.md, `other`).
    _, _, found = analyse(text)
    assert found.question
    rights = found.categories.get(RIGHTS, [])
    topic = ruleset().topic_words
    assert rights and all((h.term.language, h.term.word) in topic for h in rights), rights
    result = classify(text)
    assert result.urgency == "urgent", result.reasons
    assert result.category != RIGHTS, result.reasons
