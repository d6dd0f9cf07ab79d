"""Three more kinds of emergency, found missed on writers the model had never seen (the
fourth round of voices, docs/triage.md): a suicide planned for tonight with the means at
hand, poison swallowed and the person not waking, and blackmail with a deadline (intimate
photos to be posted unless money is paid by a set hour). The wording here is our own, in
each language, not the voices' text: a pass means the kind is covered, not the sentence.
The same kinds long past or negated are not urgent. These passed as soon as the fourth
round's voices joined the training data (the model catches them, no rule was added): the
test guards that, and fails if a later change loses them."""

from __future__ import annotations

import pytest

from service.triage import classify

URGENT = {
    "en": [
        "i cant go on, i have the rope ready and i will do it tonight",
        "my cousin swallowed rat poison and now he wont wake up",
        "someone has pics of me and my bf, says pay 100 dollars before 9 tonight or he posts them on facebook",
    ],
    "pt": [
        "ja nao aguento, tenho a corda e hoje a noite acabo com isto",
        "a minha vizinha bebeu veneno de rato e nao acorda",
        "um homem tem fotos minhas nua e diz que publica no facebook amanha se eu nao pagar",
    ],
    "km": [
        "ខ្ញុំទ្រាំលែងបានហើយ យប់នេះខ្ញុំនឹងចងកសម្លាប់ខ្លួន",
        "មិត្តខ្ញុំលេបថ្នាំកម្ចាត់កណ្ដុរ ឥឡូវសន្លប់ដាស់មិនដឹងខ្លួន",
        "មានគេមានរូបខ្ញុំ ថាបើមិនឲ្យលុយមុនម៉ោង៨យប់នេះ គេនឹងបង្ហោះលើហ្វេសប៊ុក",
    ],
    "km-Latn": [
        "knhom ot trom ban te, yub nis knhom nung chong ka",
        "bong knhom lep thnam kamchat kondol, ey lov ot dung khluon",
        "mean ke kan rup knhom, tha min oy luy mun mao 9 yub nis ke post loa facebook",
    ],
}

NOT_URGENT = {
    "en": ["last year i thought of ending it all, now i am ok and want to thank the counsellor"],
    "pt": ["no ano passado alguem publicou fotos minhas, agora quero saber os meus direitos"],
    "km-Latn": ["chnam mun knhom chong slab, ey lov knhom sok sabay hery"],
}


@pytest.mark.parametrize("language,text", [(lang, t) for lang, texts in URGENT.items() for t in texts])
def test_these_kinds_in_progress_are_urgent(language: str, text: str) -> None:
    result = classify(text)
    assert result.urgency == "urgent", (language, text, result.reasons)


@pytest.mark.parametrize("language,text", [(lang, t) for lang, texts in NOT_URGENT.items() for t in texts])
def test_these_kinds_past_are_not_urgent(language: str, text: str) -> None:
    assert classify(text).urgency != "urgent", (language, text)
