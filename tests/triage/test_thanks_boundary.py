"""Thanks for a good outcome against a complaint that says thanks, in the four ways people write.

A message that thanks someone because a problem is over ("the police don't ask money any
more, thanks") names the police, a fee or a clinic only to say what is over: it is `other`.
A complaint with a thank-you in it ("thanks, but they asked money again") stays a complaint.
The messages are written the way people text (short, abbreviations, little punctuation), and
none of them is in the labelled data the model learns from.
"""

from __future__ import annotations

import pytest

from service.queue.reasons import sentences
from service.triage import classify

GOOD_OUTCOMES = [
    # en
    "bong police dont chase us from the park anymore since the meeting, thank u samleng",
    "the hc stopped asking 5000 riel for the card, no more fee now. thanks a lot",
    "nurse at methadone clinic not shout at us anymore, she is kind now thx",
    "my friend released from police station this morning thank you so much team",
    # pt
    "a policia ja nao nos pede dinheiro na fronteira, obrigado pela ajuda",
    "ja nao pagamos a taxa no centro de saude desde a reuniao, obrigada a todos",
    "os policias deixaram de nos bater no mercado. mt obrigada samleng",
    "a enfermeira ja nao grita com a gente, brigado pela ajuda",
    "meu irmao foi solto pela policia ontem a noite, obrigada por tudo",
    "ja nao ha aquele guarda q cobrava 100mt na entrada do hospital, obrigada",
    # km
    "ប៉ូលិសលែងដេញយើងពីសួនហើយ អរគុណបងៗ",
    "មណ្ឌលសុខភាពលែងយកលុយ៥០០០រៀលហើយ អរគុណច្រើន",
    "ពេទ្យលែងស្តីឲ្យយើងទៀតហើយ អរគុណណាស់",
    "មិត្តខ្ញុំត្រូវបានដោះលែងពីប៉ុស្តិ៍ប៉ូលិសហើយ សូមអរគុណ",
    # km-Latn
    "polis leng denh yerng pi suon hz, orkun bong",
    "mondol sokhapheap leng yok luy 5000 riel hz arkun chroen",
    "pet leng sdey oy knhom tiet te, arkun nas bong",
    "mit knhom ban chenh pi polis hz pel pruk nis, orkun bong srey",
    # let go with no bribe paid: the money words name what did not happen ("no money" is not a loss)
    "they let my cousin go from the station last night, no money paid, he is home. thank you all",
    "soltaram o meu tio da esquadra sem pagar nada, ja ta em casa, mt obrigada",
]

STILL_A_COMPLAINT = [
    ("obrigado mas a policia voltou a pedir dinheiro na fronteira ontem", "human_rights_violation"),
    ("ja nao tenho dinheiro pro chapa ate o hospital, obrigada", "financial_hardship"),
    ("i have no money for the bus to the tb clinic this month, thank you", "financial_hardship"),
    ("the clinic no longer give methadone take home, we come every day. thanks", "service_quality"),
    ("thank you but they still ask 10000 riel at the hc for the blood test", "financial_hardship"),
    ("orkun bong, tae polis chab mit knhom tiet yub mij", "human_rights_violation"),
    ("អរគុណបង តែប៉ូលិសចាប់មិត្តខ្ញុំម្តងទៀតយប់មិញ", "human_rights_violation"),
]


@pytest.mark.parametrize("text", GOOD_OUTCOMES)
def test_thanks_for_a_good_outcome_is_other(text: str) -> None:
    result = classify(text)
    assert result.category == "other", result.reasons


@pytest.mark.parametrize("text", [t for t in GOOD_OUTCOMES if "released from police station" not in t])
def test_thanks_for_a_good_outcome_is_not_urgent(text: str) -> None:
    # "released from police station this morning" stays urgent: a word for "released" before
    # a detention is not read as its negation ("not yet released from the police station").
    assert classify(text).urgency != "urgent"


@pytest.mark.parametrize("text", [
    "nao deixaram de nos bater no mercado ontem a noite, socorro",
    "a policia ainda nao parou de bater no meu amigo agora",
])
def test_a_harm_that_did_not_stop_stays_urgent(text: str) -> None:
    assert classify(text).urgency == "urgent"


@pytest.mark.parametrize("text,category", STILL_A_COMPLAINT)
def test_a_complaint_that_says_thanks_keeps_its_category(text: str, category: str) -> None:
    result = classify(text)
    assert result.category == category, result.reasons


@pytest.mark.parametrize("lang,start", [
    ("en", "Thanks for a problem that is over: "),
    ("km", "អរគុណចំពោះបញ្ហាដែលចប់ហើយ៖ "),
    ("pt", "Agradecimento por um problema que acabou: "),
])
def test_the_case_page_says_why_thanks_decided_other(lang: str, start: str) -> None:
    reasons = classify("a policia ja nao nos pede dinheiro na fronteira, obrigado pela ajuda").reasons
    said = [s for s in sentences(reasons, lang) if s.startswith(start)]
    assert len(said) == 1 and "thanks_for_outcome" not in said[0], sentences(reasons, lang)
