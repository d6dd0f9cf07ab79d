"""Documentation codes suggested by triage (service/triage/codes.py): perpetrator and violation types read
from the words of a report in English, Khmer, Khmer in Latin letters and Portuguese, with the matched
lexicon words as reasons; none where the words point to none; only on human-rights-violation reports;
never over a handler's code."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from service.reports.codes import PERPETRATOR_TYPES, VIOLATION_TYPES, set_codes, suggestion_reasons
from service.reports.models import Report, ReportEvent
from service.triage import apply_triage
from service.triage.codes import suggest
from service.triage.service import suggest_codes
from tests.support.factories import make_report

FOUND = [
    # English
    ("The police arrested me at the park and kept me two nights", "police", "arbitrary_detention", "en"),
    ("my husband beat me when he learned I take ARV", "family_member", "physical_violence", "en"),
    ("the nurse told my family my status without my consent", "health_worker", "forced_testing_disclosure", "en"),
    ("the village chief threatened to send me away if I keep the needles", "community_leader", "threats", "en"),
    ("police took my condoms and said they are evidence", "police", "confiscation", "en"),
    ("my boss fired me and the landlord evicted me", "employer", "eviction", "en"),
    ("my boss at the karaoke takes our id cards until we pay the debt", "employer", "confiscation", "en"),
    # Khmer
    ("ប៉ូលីសចាប់ខ្លួនខ្ញុំនៅសួនច្បារ", "police", "arbitrary_detention", "km"),
    ("តម្រួតរឹបអូសស្រោមអនាម័យរបស់យើង", "police", "confiscation", "km"),
    ("គ្រូពេទ្យមិនព្រមព្យាបាលខ្ញុំ ព្រោះខ្ញុំប្រើគ្រឿងញៀន", "health_worker", "denial_of_treatment", "km"),
    ("ប្តីខ្ញុំវាយខ្ញុំ", "family_member", "physical_violence", "km"),
    ("មេភូមិគំរាមខ្ញុំ", "community_leader", "threats", "km"),
    ("ថៅកែបណ្តេញខ្ញុំចេញពីផ្ទះ", "employer", "eviction", "km"),
    # Khmer in Latin letters (SMS)
    ("tamruot chab khluon knhom nov pteah", "police", "arbitrary_detention", "km-Latn"),
    ("polis som luy 20000 riel mun leng knhom", "police", "extortion", "km-Latn"),
    ("pdey knhom vay knhom rial thngai", "family_member", "physical_violence", "km-Latn"),
    ("me phum kumream knhom", "community_leader", "threats", "km-Latn"),
    # Portuguese
    ("A polícia prendeu-me à saída da clínica", "police", "arbitrary_detention", "pt"),
    ("o chefe do bairro ameaçou-me por ser trabalhadora do sexo", "community_leader", "threats", "pt"),
    ("a enfermeira recusou atender e mandaram-me embora", "health_worker", "denial_of_treatment", "pt"),
    ("o patrão da mina despediu-me e fui despejado", "employer", "eviction", "pt"),
    ("os polícias tiraram os preservativos e pediram dinheiro", "police", "extortion", "pt"),
    ("na fronteira o polícia pediu refresco de 500 meticais", "police", "extortion", "pt"),
]


@pytest.mark.parametrize(("text", "perpetrator", "violation", "language"), FOUND)
def test_suggested_in_four_languages_with_the_words_as_reasons(text: str, perpetrator: str, violation: str,
                                                              language: str) -> None:
    found = suggest(text)
    assert (found.perpetrator_type, found.violation_type) == (perpetrator, violation), found.reasons
    rules = [r["rule"] for r in found.reasons]
    assert rules == [f"perpetrator/{perpetrator}", f"violation/{violation}"]
    for reason in found.reasons:
        assert reason["kind"] == "code" and reason["words"] and language in reason["languages"]
    json.dumps(found.reasons)


NOTHING = [
    "the clinic had no ARV again this month",  # a service problem: no one did anything to anyone
    "ថ្នាំអស់ពីមណ្ឌលសុខភាព",  # "the medicine ran out at the health centre": a centre, not a rehab centre
    "ot mean thnam nov mondol sokhapheap",
    "não havia medicamentos no centro de saúde",
    "the preservativo box was empty",  # Portuguese 'preservativo' is no arrest ('pres…')
]


NOT_THE_PERPETRATOR_OR_NOT_DONE = [
    # A family member as the victim or the one asking for help: no family perpetrator.
    ("my father worked in the mines 20 years and got tb", None, None),
    ("my daughter 14 yr, the neighbour took her to his house an hour ago", None, None),
    ("o meu pai diz que a mina nunca deu o certificado", None, None),
    ("krousar ot deng thar knhom nov na", None, None),
    # A negated violation word: nothing was done.
    ("he did not hit me but he took all the money from my bag", None, None),
    ("bom dia ele n me bateu mas levou o dinheiro da bolsa", None, None),
    ("គេមិនបានវាយខ្ញុំទេ", None, None),
    ("ke min ban vay knhom te", None, None),
    # ... while the family member who does it is suggested.
    ("a month ago my father beat me and locked me in my room", "family_member", "physical_violence"),
]


@pytest.mark.parametrize(("text", "perpetrator", "violation"), NOT_THE_PERPETRATOR_OR_NOT_DONE)
def test_a_family_word_beside_no_act_and_a_negated_act_suggest_nothing(text: str, perpetrator: str | None,
                                                                       violation: str | None) -> None:
    found = suggest(text)
    assert (found.perpetrator_type, found.violation_type) == (perpetrator, violation), found.reasons


@pytest.mark.parametrize("text", NOTHING)
def test_nothing_suggested_where_the_words_point_to_nothing(text: str) -> None:
    found = suggest(text)
    assert (found.perpetrator_type, found.violation_type, found.reasons) == (None, None, [])


def test_one_code_without_the_other_and_the_longer_phrase_wins() -> None:
    only_who = suggest("a policeman came to the drop-in centre")
    assert (only_who.perpetrator_type, only_who.violation_type) == ("police", None)
    # 'chefe do bairro' is a community leader; its first word alone would be the employer's 'chefe'.
    assert suggest("o chefe do bairro veio").perpetrator_type == "community_leader"
    assert suggest("o meu chefe no trabalho").perpetrator_type == "employer"
    # Two violation types: the one with more distinct words wins (arrest + jail over a single threat).
    assert suggest("they threatened me, arrested me and put me in jail").violation_type == "arbitrary_detention"


def test_other_is_never_suggested() -> None:
    every = [suggest(t) for t, *_ in FOUND]
    assert "other" not in {f.perpetrator_type for f in every} | {f.violation_type for f in every}
    assert set(PERPETRATOR_TYPES) >= {f.perpetrator_type for f in every if f.perpetrator_type}
    assert set(VIOLATION_TYPES) >= {f.violation_type for f in every if f.violation_type}


def test_only_on_human_rights_violation_reports(session) -> None:  # type: ignore[no-untyped-def]
    text = "police arrested my friend at the park just now, they beat him, pls help"
    report = make_report(session, narrative=text)
    apply_triage(session, report, text)
    session.commit()
    stored = session.get_one(Report, report.id)
    assert stored.category == "human_rights_violation"
    assert (stored.perpetrator_type, stored.perpetrator_source) == ("police", "triage")
    assert (stored.violation_type, stored.violation_source) == ("arbitrary_detention", "triage")
    assert [r["rule"] for r in stored.code_reasons or []] == ["perpetrator/police", "violation/arbitrary_detention"]
    assert text not in json.dumps(stored.code_reasons), "lexicon words, never the reporter's text"
    events = session.exec(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                    ReportEvent.kind == "codes")).all()
    assert len(events) == 1 and events[0].actor == "triage"

    # Another category: no suggestion, even with the same words in it.
    fees = make_report(session, narrative="x", category="financial_hardship", category_source="handler")
    assert suggest_codes(session, fees, "the police asked for money to release me") is None
    assert (fees.perpetrator_type, fees.violation_type) == (None, None)
    # ... unless triage read rights violation as the second category.
    second = make_report(session, narrative="x", category="service_quality", category_source="reporter",
                         secondary_category="human_rights_violation")
    assert suggest_codes(session, second, "the police asked for money to release me") is not None
    assert (second.perpetrator_type, second.violation_type) == ("police", "extortion")


def test_a_handlers_code_is_never_overwritten(session) -> None:  # type: ignore[no-untyped-def]
    report = make_report(session, narrative="x", category="human_rights_violation", category_source="handler")
    suggest_codes(session, report, "they threatened me")
    assert (report.violation_type, report.violation_source) == ("threats", "triage")
    # The handler sets the perpetrator and removes the suggested violation type (none).
    set_codes(session, report, source="handler", actor="h@a.test", perpetrator_type="employer", violation_type=None)
    assert suggest_codes(session, report, "the police arrested me and beat me") is not None
    assert (report.perpetrator_type, report.perpetrator_source) == ("employer", "handler")
    assert (report.violation_type, report.violation_source) == (None, "handler"), "a handler's 'none' stays too"
    # A triage code is refined by later words; a code nothing points to stays as it was.
    other = make_report(session, narrative="x", category="human_rights_violation", category_source="handler")
    suggest_codes(session, other, "the police came")
    suggest_codes(session, other, "they took me to the rehab centre by force")
    assert (other.perpetrator_type, other.violation_type) == ("police", "compulsory_detention")
    assert [r["rule"] for r in other.code_reasons or []] == ["perpetrator/police", "violation/compulsory_detention"], (
        "the perpetrator's reasons stay beside the new violation's")
    assert [r["rule"] for r in suggestion_reasons(report)] == [], "no suggestion left: the handler set both"
    assert [r["rule"] for r in suggestion_reasons(other)] == ["perpetrator/police", "violation/compulsory_detention"]
