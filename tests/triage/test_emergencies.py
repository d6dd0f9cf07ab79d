"""Emergencies in progress are urgent in every language, whoever they happen to.

Each situation below is a kind of emergency an independent evaluation found missed
(overdose without naloxone, oxygen run out, acute pain since last night, police shooting,
a bone broken just now, women arrested now, a man held at a police post without his
ARVs, a woman forced into a car, an employer holding an ID and threatening the police, a
chief ordering people into a compulsory centre on a coming day). The wording here is our
own paraphrase in each language, not the evaluation's text, so a pass means the pattern
is covered, not the sentence. The same situations negated or long past are not urgent.
"""

from __future__ import annotations

import pytest

from service.triage import classify

URGENT = {
    "en": [
        "my friend used too much and stopped breathing, we got no naloxone here",
        "TB patient at home, his oxygen ran out and he is gasping, pls come",
        "terrible pain in my belly since last night, help me",
        "cops are firing at the people blocking the road right now, 2 wounded",
        "her husband broke her arm a few minutes ago bc she is HIV+",
        "police are rounding up the girls in the park right now",
        "my brother has been held at the police post 2 days, they wont give him his ARVs",
        "3 guys pushed a trans woman into a car outside the bar",
        "my boss keeps my id card and says he will call the police if I quit",
        "the village chief is sending the drug users, one is 17, to the compulsory centre on friday",
    ],
    "pt": [
        "o meu amigo teve uma overdose e parou de respirar, não há naloxona",
        "doente de TB ficou sem oxigénio, tem muita dificuldade em respirar",
        "dor muito forte na barriga desde ontem à noite, ajudem",
        "a polícia está a disparar contra quem bloqueia a estrada agora, há dois feridos",
        "o marido partiu-lhe o braço agora mesmo porque ela é seropositiva",
        "a polícia está a prender mulheres no jardim neste momento",
        "o meu irmão está retido na esquadra há dois dias sem os ARV",
        "três homens meteram uma mulher trans num carro à força",
        "o patrão ficou com o meu BI e diz que chama a polícia se eu me for embora",
        "o chefe do bairro vai mandar os consumidores de drogas para o centro de reabilitação na sexta, um tem 17 anos",
    ],
    "km": [
        "មិត្តខ្ញុំប្រើថ្នាំលើសកម្រិត ឥឡូវឈប់ដកដង្ហើមហើយ គ្មាន naloxone ទេ",
        "អ្នកជំងឺរបេងនៅផ្ទះ អុកស៊ីសែនអស់ គាត់ដកដង្ហើមស្ទើរមិនចេញ",
        "ខ្ញុំឈឺពោះខ្លាំងណាស់តាំងពីយប់មិញ ជួយខ្ញុំផង",
        "ប៉ូលីសកំពុងបាញ់មនុស្សដែលបិទផ្លូវ មានពីរនាក់រងរបួស",
        "ប្ដីវាយបាក់ដៃប្រពន្ធអម្បាញ់មិញ ព្រោះនាងមានមេរោគអេដស៍",
        "ប៉ូលីសកំពុងចាប់ស្ត្រីៗនៅសួនច្បារ",
        "បងប្រុសខ្ញុំត្រូវគេឃាត់ខ្លួននៅប៉ុស្តិ៍ប៉ូលីសពីរថ្ងៃហើយ គេមិនឲ្យគាត់លេបថ្នាំ ARV",
        "បុរសបីនាក់រុញស្ត្រីភេទទីបីម្នាក់ឡើងឡាន",
        "ថៅកែរក្សាអត្តសញ្ញាណប័ណ្ណខ្ញុំ ហើយថានឹងហៅប៉ូលីសបើខ្ញុំចេញ",
        "មេភូមិបញ្ជាឲ្យអ្នកប្រើគ្រឿងញៀន មានក្មេងអាយុ១៧ឆ្នាំផង ចូលមណ្ឌលនៅថ្ងៃសុក្រ",
    ],
    "km-Latn": [
        "mit knhom pro thnam leus kamrit ey lov chhob dok dongheum hery ot mean naloxone",
        "neak chheu robeng os oxygen hery kat pibak dok dongheum nas",
        "knhom chheu pus khlang nas tang pi yub minh chuoy knhom phong",
        "police kompong banh mnus del bet plauv, pi nak robuos",
        "pdey vay bak dai bropun minh nis pruos neang mean HIV",
        "police kompong chab srey nov suon chbar ey lov",
        "bong pros knhom trov ke khat khluon nov bos police 2 thngai hery",
        "bros 3 nak bongkhom srey sresnha oy laeng lan",
        "thaokae kan attasanhnabann knhom, tha nung hau police beu knhom chenh",
        "mephum banhchea oy neak praeu kreung nhean chol mondol ster thngai sok, mean kmeng ayu 17 phong",
    ],
}

NOT_URGENT = {
    "en": [
        "he did not break her arm, he just shouted at her",
        "police shot at protesters in 2021, we still want justice",
        "i was held at the police post last year and now i want to complain",
        "i go to the health centre on friday for my ARVs",
    ],
    "pt": [
        "ele não lhe partiu o braço, só gritou com ela",
        "fui detido na esquadra no ano passado e quero fazer queixa",
        "vou ao centro de saúde na sexta buscar os ARV",
    ],
    "km": [
        "គាត់មិនបានវាយខ្ញុំទេ គ្រាន់តែស្រែកដាក់",
        "ឆ្នាំមុនប៉ូលីសឃាត់ខ្លួនខ្ញុំ ឥឡូវខ្ញុំចង់ប្តឹង",
        "ខ្ញុំទៅមណ្ឌលសុខភាពថ្ងៃសុក្រ យកថ្នាំ ARV",
    ],
    "km-Latn": [
        "kat ot ban vay knhom te",
        "chnam mun police chab knhom, ey lov knhom chong pdeng",
        "knhom tov mondol sokhapheap thngai sok yok thnam ARV",
    ],
}


@pytest.mark.parametrize("language,text", [(lang, t) for lang, texts in URGENT.items() for t in texts])
def test_emergency_in_progress_is_urgent_with_its_reasons(language: str, text: str) -> None:
    result = classify(text)
    assert result.urgency == "urgent", (language, text, result.reasons)
    urgent_reasons = [r for r in result.reasons if str(r.get("rule", "")).startswith(("urgent/", "model/urgency"))]
    assert urgent_reasons  # every urgent decision says why


@pytest.mark.parametrize("language,text", [(lang, t) for lang, texts in NOT_URGENT.items() for t in texts])
def test_negated_past_or_routine_is_not_urgent(language: str, text: str) -> None:
    assert classify(text).urgency != "urgent", (language, text)
