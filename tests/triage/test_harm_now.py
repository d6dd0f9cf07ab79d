"""General patterns of harm happening now, read by the word lists alone (the quick step, so an
alert goes out before the model): someone held or kept from leaving with a name between the verb
and the place, a home on fire, bleeding that does not stop, breathing, seizures, snake bites,
head injuries, swallowed pills, suicide in other words, a child who has not come back or is to be
married. The messages are our own, written for these tests in each language (not any voice's
text): a pass means the pattern is covered, not a sentence. Each names the rule that must fire,
so each failed before the rules were added. The same words negated, in the past, or about
something else (burning feet from the pills, medicine not given to take home) stay not urgent."""

from __future__ import annotations

import pytest

from service.triage import classify_quick
from service.triage.rules import ruleset

URGENT = {
    "held": [
        "the landlord locked my aunt and her two boys in the storeroom, they are shouting for help",
        "soldiers put my neighbour Sok in a cell at the camp right now",
        "the karaoke owner will not let my cousin Dara leave, she keeps her phone",
        "o dono da barraca trancou a Rita e o bebe no armazem desde ontem",
        "o patrao nao deixa a minha prima sair do restaurante, tirou-lhe o BI",
        "tamruat chab bong Sokha dak knong kuk ey lov nis",
        "mjas hang ot aoy bong srey knhom chenh pi hang te",
        "ថៅកែមិនឲ្យប្អូនស្រីខ្ញុំចេញពីរោងចក្រទេ យកទូរស័ព្ទគាត់ទុក",
        "ម្ចាស់ផ្ទះចាក់សោម្ដាយខ្ញុំក្នុងបន្ទប់",
        "ថៅកែឲ្យបុរសពីរនាក់យាមមុខបន្ទប់ប្អូនស្រីខ្ញុំ",
        # kept at an office
        "they keep him in the sangkat office since noon and nobody can see him",
        # tied or chained to something, held where they lie
        "the family tied my cousin to the bed with rope because he talks to himself",
        "a enfermeira amarrou o meu tio e ele ta amarrado na cama desde de manha a gritar",
        "ឪពុកគេចងកូនប្រុសនឹងសសរផ្ទះ ព្រោះប្រើថ្នាំ",
        "ke chong p'oun knhom nung kre tang pi pruk",
    ],
    "fire": [
        "the shacks behind the taxi rank are burning, my uncle is still inside",
        "estao a queimar as casas dos vizinhos agora, ajudem",
        "pteah yay knhom kompung chheh, yay nov khang knong",
        "ផ្ទះយាយខ្ញុំកំពុងឆេះ យាយនៅខាងក្នុង",
    ],
    "medical_emergency": [
        "my uncle took a lot of pills and he does not wake up",
        "grandpa fell off the roof and hit his head, he is confused",
        "a snake bit my son in the rice field",
        "boda crash on the main road, her leg is broken and bone sticking out",
        "o meu sobrinho engoliu os comprimidos da avo e esta muito mole",
        "uma cobra mordeu o meu filho na machamba",
        "bong srey knhom cheam chenh min chhob kroy samral",
        "kon knhom prokach tang pi preuk",
        "pos chek pu knhom nov chamkar",
        "mit knhom dok dong hoem min ruoch",
        "ប្រពន្ធខ្ញុំទើបសម្រាល ឈាមចេញខ្លាំងណាស់",
        "ពស់ចឹកប្អូនខ្ញុំនៅចម្ការ",
        # a birth that cannot wait; Khmer-Latin "not breathing" with its negation inside, and joined
        "my sister's waters broke at the market and the clinic is far away",
        "a minha cunhada esta gravida de 9 meses, rebentou a bolsa e nao ha transporte para o hospital",
        "ប្រពន្ធខ្ញុំឈឺពោះ ទឹកភ្លោះបែកហើយ គ្មានឡានទៅពេទ្យ",
        "bong srey knhom chheu poh, tuk phlos bek hz, ot mean lan tov pet",
        "pu knhom duol nov mot tonle ot dak dangheum",
        "kon ke duol ot dokdongheum te, mot svay",
        # trapped by falling rock or earth; lips gone blue in Khmer
        "the wall of the pit fell and my cousin is trapped under the soil",
        "rockfall at level 3, two men pinned under and not answering",
        "យាយខ្ញុំដកដង្ហើមញាប់ មាត់ខៀវទាំងអស់",
    ],
    "suicide": [
        "my brother doesnt want to live any more, he keeps saying it",
        "a minha tia diz que hoje vai acabar com isto",
        "a Ana disse que vai se atirar ao rio",
        "bong knhom chong sompleab khluon yub nis",
        "ប្អូនខ្ញុំចង់លោតចុះពីស្ពាន",
        # the third person and SMS abbreviations
        "o meu vizinho n quer mais viver desde q perdeu o emprego",
        "ela disse q vai tomar tds os comprimidos da mae",
        # the negation is part of the phrase
        "i dont want to be alive anymore, nobody would notice",
        "sometimes i think i will take all my pills at once and sleep forever",
    ],
    "threat": ["those men know where she lives and said they will come"],
    "violence": [
        "គេកាន់ដំបងឈរមុខផ្ទះខ្ញុំឥឡូវ",
        "mit knhom chheam hoh pi kbal klang nas",
        "bong srey knhom cheam hor ot chhob pi pruk",
    ],
    "detained_now": [
        # someone of the family arrested, in Khmer-Latin; police who came to arrest; not yet released
        "polis chab ming knhom pi phsar yub menh",
        "ke mok chab kmuoy knhom nov pteah",
        "pou knhom nov tae khang nov polis srok, ot toan doh leng te",
        "polis jab dak p'oun knhom nov mondol yub menh",
        "they wont let her go from the drug centre, her kids are alone",
        "police didnt let him go after the raid, he is at the post with no arv",
        "polis teb tae chab p'oun knhom nov kbae tuk phsar trey pi mun nis",
        "o meu primo foi levado p esquadra ontem e ainda n soltaram",
        "ainda nao soltaram os rapazes do bairro",
        "ប្តីខ្ញុំនៅជាប់ប៉ុស្តិ៍តាំងពីម្សិលមិញ គេមិនឲ្យជួបទេ",
        # "catch" for arrest, in Cambodian English
        "police catch my cousin at the market this morning, he is at the post now",
    ],
    "child_at_risk": [
        "my granddaughter is 3 and has a fever since this morning, she is shaking",
        "my daughter went with a man from the market this morning and has not come back",
        "a menina da vizinha vai ser dada pra casar com um velho",
    ],
    "imminent": [
        "o capataz disse q hj na saida vao me apanhar la fora",
        "o chefe do posto diz q hj noite vai me levar pra cela se eu n pagar",
        "dizem que hj a noite vao bater nos estrangeiros do bairro",
        "the bar owner says before friday he will sell her to a man across the border",
        "if i dont pay back he send me to the casino on sunday",
        # exposure threatened with a day (blackmail)
        "my ex says he will send my photos to my boss on monday if i dont pay",
        "the man says he will tell my wife on friday that i go with men",
        "ele disse que vai contar a minha mulher amanha que tenho HIV",
        "boroh nouv tea luy 300$ mun thngai sok, bae ot oy vea nung brab propun knhom",
        "គាត់គំរាមប្រាប់គ្រួសារខ្ញុំថ្ងៃសុក្រ ពីស្ថានភាពមេរោគអេដស៍របស់ខ្ញុំ",
        # an eviction ordered for a coming day, in the words of the one who orders it, with or
        # without the threat of breaking the homes
        "the landlord texted that my mother and me must be out by friday or he calls his men",
        "chief says all of us in the back rooms must be out by tomorrow morning",
        "o dono disse q vem partir as casas amanha se nao sairmos",
        # a threat in other words, or the home taken for a debt, with a coming day
        "the shebeen owner says if i show my face there 2nite his guys will sort me out",
        "the loan man says on friday he will take our house if we do not pay",
        "o credor disse que no sabado vai ficar com a casa da minha avo",
        "ម្ចាស់បំណុលថាថ្ងៃស្អែកគេមកដេញម្តាយខ្ញុំនិងប្អូនៗចេញពីផ្ទះ",
        "neak tar luy tha thngai sok ke mok yok pteah yay knhom",
        # to the centre, or bones broken, on a coming day
        "the chief says tomorrow they send them to the centre, the boys are in the pagoda",
        "the loan man says if i do not pay by friday he will break my legs",
        "o homem a quem devo disse que ate sabado vai me partir as pernas",
    ],
}

# "Did not come, now ...": a "now" after a negation starts a new clause; the negation does not
# reach the emergency after it (SMS drops the comma between the two).
# "Since" before a past marker: what began then goes on. Someone held since last week is held now;
# the marker dates other urgent words as before (a cough since last month, below, stays high).
HELD_SINCE = [
    "they locked my brother in a cell at the centre since last week and the guard says nobody can visit",
    "o meu primo esta preso na esquadra desde a semana passada e nao o deixam sair",
    # the `mun` of `khae mun` ("last month") is a date, not a "not" before the verb after it
    "ke dak bong knhom nov mondol tang pi khae mun ot aoy kat chenh te",
    "mjas hang dak p'oun srey knhom nov knong hang tang pi atit mun ot aoy bong srey chenh te",
    "ពួកគេឃុំប្អូនខ្ញុំនៅមណ្ឌលតាំងពីសប្តាហ៍មុន មិនឲ្យចេញទេ",
    # ចាប់តាំងពី is "since" too: its ចាប់ ("arrest") is set aside, its តាំងពី is still read
    "ប្តីខ្ញុំនៅមណ្ឌលចាប់តាំងពីសប្តាហ៍មុន គេមិនឲ្យចេញ",
]

NOW_AFTER_A_NEGATION = [
    "doctor not come, now bleeding a lot",
    "a parteira nao veio, agora sangra muito",
    "o medico nao veio agr convulsoes",
    "ruthyun ot mok ey lov bong prokach",
    "pet ot mok ailov kon prokach",
]

# A condition's "not" negates its own verb, not the threat after it: "if I do not pay, they
# will take me" (Portuguese SMS runs the clauses together without a comma).
CONDITION_THEN_THREAT = [
    "se eu n pagar hj vao me levar p esquadra",
    "o chefe disse q se eu nao assinar hoje ele vai me bater",
    "se a minha mae nao pagar ate amanha eles vao levar o meu irmao",
]

# A harm announced for a coming day carries its own date: a past day earlier in the message
# (when the threat was made, when it began) does not make it the past.
COMING_DAY_AFTER_A_PAST_DAY = [
    "the loan man came last week and texted me today that tonight he will beat me",
    "o fiscal q me multou ontem mandou mensagem q amanha de manha vem buscar a banca e me levar",
    "mjas phteah mok pi atit mun, thngai nis yub nis nung veay knhom",
]

NOT_URGENT = [
    "my feet are burning from the TB pills, the clinic says it is normal",
    "os pes estao a arder desde que comecei os comprimidos",
    "last year the boss locked my sister in the storeroom for a night, now she has a new job",
    "ja nao quero acabar com isto, estou melhor graças ao conselheiro",
    "in 2022 our house burnt down, we still have no papers for the land",
    "ពេទ្យមិនឲ្យថ្នាំយកទៅផ្ទះទេ ត្រូវមកលេបរាល់ថ្ងៃ",
    "no hospital puseram o meu pai num quarto sozinho e ninguem lhe traz comida",
    "my waters broke last year at home, the baby is fine, thank you",
    "chnam mun pu knhom ot dak dangheum pel dek, ilov sok sabay",
    "a bolsa rebentou no ano passado e correu tudo bem",
    "the police did not arrest anyone at the clinic today",
    "two years ago my uncle was trapped under rocks in the mine, now he walks again",
    "o meu irmao ja foi solto, obrigada",
    # telling one's own family is a choice, not a threat
    "i want to tell my wife about my status next week, can the counsellor help me",
    "eu vou contar a minha mulher na sexta que tomo PrEP, como faco",
    "knhom nung brab propun knhom thngai sok pi PrEP",
    # a state of health since a past day is not an emergency for it; a past arrest stays past
    "i have been coughing since last month and have chest pain at night",
    "tosse desde o mes passado e dor no peito, a clinica nao tem remedio",
    "my brother was arrested last week and beaten at the station",
    "he was locked up since last year, released in june, now he is fine",
    # right after the "not", the future is what it negates
    "a policia nao vai me levar, o advogado falou com eles",
    "ele nao vai bater mais, foi embora para joanesburgo",
    # a word the lists use as itself is not another word misspelled ("eating" is not "beating")
    "since my husband lost his job we are eating only rice and salt",
    # Khmer ចង់ and Khmer-Latin `chong` ("want") begin like the word for "tie": never held in a room
    "ខ្ញុំចង់ទៅបន្ទប់ពិគ្រោះ តែរង់ចាំយូរណាស់",
    "knhom chong tov bontup pet tae ot mean pet te",
    # a word of its own one letter from an urgent word is not its misspelling
    "i got off the tuk tuk at the traffic light and walked to the clinic, the queue was long",
    "the nurses keep talking about my status in the corridor, everyone hears",
    "a consulta e de manha cedo e o chapa custa 50mt, nao tenho",
]

# "Just" is a word of the present (`teb tae`, `ទើបតែ`, `acabou de`): a past marker later in the
# message ("the stall he has rented since last year") does not date the arrest.
JUST_THEN_A_PAST_MARKER = [
    "ប៉ូលិសទើបតែចាប់ប្អូនប្រុសខ្ញុំនៅតូបលក់ត្រីដែលគាត់ជួលតាំងពីឆ្នាំមុន",
    "a policia acabou de levar o meu irmao preso da banca de peixe da mae dele ha anos",
    "polis teb tae chab p'oun knhom nov kbae tuk phsar trey pi mun nis",
]


# Khmer ធ្លាប់ ("used to", "have ever") dates the verb after it and nothing beyond its phrase (a
# space between two Khmer letters): what follows in the next phrase is now.
USED_TO_THEN_HARM_NOW = [
    "ឪពុកខ្ញុំធ្លាប់ធ្វើការអណ្តូងរ៉ែ ដួលសន្លប់នៅផ្ទះ ដកដង្ហើមមិនរួច",
    "បងស្រីខ្ញុំធ្លាប់លក់នៅផ្សារ ប៉ូលិសកំពុងចាប់គាត់ដាក់ឡាន",
    "ម្ដាយខ្ញុំធ្លាប់ព្យាបាលរបេង ឥឡូវក្អកចេញឈាមច្រើន",
]
USED_TO_IN_ITS_OWN_PHRASE = [
    "ខ្ញុំធ្លាប់គិតចង់សម្លាប់ខ្លួន តែឥឡូវធូរហើយ",
    "គាត់ធ្លាប់ត្រូវប៉ូលិសវាយនៅប៉ុស្តិ៍ ឥឡូវសុខសប្បាយ",
]


def assert_urgent_without(text: str, kind: str) -> None:
    """Urgent, and no reason of `kind` ("past", "negated") took the urgency away or was given."""
    result = classify_quick(text)
    assert result.urgency == "urgent", (text, result.reasons)
    assert not any(r.get("kind") == kind for r in result.reasons), result.reasons


@pytest.mark.parametrize("rule,text", [(rule, t) for rule, texts in URGENT.items() for t in texts])
def test_harm_now_is_urgent_by_the_word_lists(rule: str, text: str) -> None:
    result = classify_quick(text)
    fired = {r["rule"] for r in result.reasons if r.get("kind") == "rule"}
    assert result.urgency == "urgent", (text, result.reasons)
    assert f"urgent/{rule}" in fired, (text, sorted(fired))


@pytest.mark.parametrize("text", HELD_SINCE)
def test_held_since_a_past_day_is_held_now(text: str) -> None:
    assert_urgent_without(text, "past")


@pytest.mark.parametrize("text", NOW_AFTER_A_NEGATION)
def test_a_now_after_a_negation_ends_its_reach(text: str) -> None:
    assert_urgent_without(text, "negated")


@pytest.mark.parametrize("text", JUST_THEN_A_PAST_MARKER)
def test_just_is_the_present_against_a_past_marker_later(text: str) -> None:
    assert_urgent_without(text, "past")


@pytest.mark.parametrize("text", CONDITION_THEN_THREAT)
def test_a_conditions_not_ends_at_its_verb(text: str) -> None:
    assert_urgent_without(text, "negated")


@pytest.mark.parametrize("text", COMING_DAY_AFTER_A_PAST_DAY)
def test_a_harm_for_a_coming_day_is_not_dated_by_an_earlier_past_day(text: str) -> None:
    assert_urgent_without(text, "past")


@pytest.mark.parametrize("text", USED_TO_THEN_HARM_NOW)
def test_used_to_dates_only_its_own_phrase(text: str) -> None:
    assert_urgent_without(text, "past")


@pytest.mark.parametrize("text", USED_TO_IN_ITS_OWN_PHRASE)
def test_used_to_still_dates_the_harm_in_its_phrase(text: str) -> None:
    result = classify_quick(text)
    assert result.urgency != "urgent", result.reasons
    assert any(r.get("kind") == "past" for r in result.reasons), result.reasons


def test_a_negation_right_before_the_urgent_word_still_holds() -> None:
    assert classify_quick("the police did not arrest him, now he is home").urgency != "urgent"


@pytest.mark.parametrize("text", NOT_URGENT)
def test_the_same_words_negated_past_or_about_something_else_are_not_urgent(text: str) -> None:
    assert classify_quick(text).urgency != "urgent", (text, classify_quick(text).reasons)


def test_a_place_far_from_the_verb_does_not_make_someone_held() -> None:
    # "put" and "truck" fifty characters apart belong to two sentences, not to someone held.
    text = "they put the new posters on the clinic wall last week. the water truck comes on monday"
    pairs = {r["rule"] for r in classify_quick(text).reasons if r.get("kind") == "rule"}
    assert "urgent/held" not in pairs


def test_the_held_and_fire_rules_exist_in_every_language() -> None:
    rules = ruleset()
    for name in ("held", "not_let_go", "tied", "fire"):
        first, second = rules.pairs[name]
        for matcher in (first, second):
            terms = [t for group in matcher.exact.values() for _, _, ts in group for t in ts]
            terms += [t for ts in matcher.prefix.values() for t in ts]
            terms += [t for ts in matcher.khmer.values() for t in ts]
            assert {t.language for t in terms} == {"en", "km", "km-Latn", "pt"}, name
