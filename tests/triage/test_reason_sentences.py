"""Triage's reasons read as sentences on the case page (service/queue/reasons.py), in English, Khmer
and Portuguese: every kind of reason triage writes, from real triage of real messages."""

from __future__ import annotations

import pytest

from service.kit.i18n import has_khmer
from service.queue.reasons import sentence, sentences
from service.triage.service import classify

# Messages that between them make triage write every kind of reason it has.
MESSAGES = [
    "The police threatened us and police took my friend away now, he is detained at the station",
    "I was beaten by police last year, now I want to complain",
    "they did not beat me, I am fine",
    "no ARV at the health centre since May, I am MSM",
    "I want to kill myself tonight",
    "my child is not breathing",
    "ប៉ូលិសចាប់ខ្លួនមិត្តខ្ញុំឥឡូវនេះ",
]


def test_the_threat_and_detention_message_reads_as_sentences() -> None:
    reasons = classify(MESSAGES[0]).reasons
    english = sentences(reasons, "en")
    assert "Urgent: ‘threaten…’ — a threat of harm" in english
    assert "Urgent: ‘detain…’, ‘police took…’ — someone detained now" in english
    assert "Model: Rights abuse or police, 100 %" in english
    assert any(s.startswith("Language: English, ") for s in english)
    khmer = sentences(reasons, "km")
    assert "បន្ទាន់៖ ‘threaten…’ — ការគំរាមធ្វើបាប" in khmer
    assert any(s.startswith("គំរូស្វ័យប្រវត្តិ៖ ") and s.endswith("១០០ %") for s in khmer)  # Khmer digits


@pytest.mark.parametrize("lang", ["en", "km", "pt"])
def test_every_reason_triage_writes_has_a_sentence(lang: str) -> None:
    kinds = set()
    for text in MESSAGES:
        for reason in classify(text).reasons:
            kinds.add((reason["kind"], reason["rule"].split("/")[0] if "rule" in reason else None))
            said = sentence(reason, lang)
            assert "{" not in said and '"kind"' not in said and not said.startswith(("Rule ", "ច្បាប់ ", "Regra ")), said
            if lang == "km":
                assert has_khmer(said), said
    # language, urgent/high/category/population rules, past, negated, both model reasons
    assert {("language", None), ("rule", "urgent"), ("rule", "high"), ("rule", "category"), ("rule", "population"),
            ("past", "past"), ("negated", "negation"), ("model", "model")} <= kinds


def test_the_past_negated_and_population_reasons() -> None:
    assert "Not urgent: ‘last year’ — the urgent words describe the past" in sentences(classify(MESSAGES[1]).reasons, "en")
    assert "Not urgent: ‘beat me’ — the urgent words are negated" in sentences(classify(MESSAGES[2]).reasons, "en")
    assert "Population words: ‘msm’ — men who have sex with men" in sentences(classify(MESSAGES[3]).reasons, "en")
    assert "Serious: ‘no arv’ — treatment interrupted" in sentences(classify(MESSAGES[3]).reasons, "en")
    assert "Urgente: ‘kill myself’ — pensamentos de suicídio" in sentences(classify(MESSAGES[4]).reasons, "pt")


def test_model_urgency_and_unknown_reasons_never_show_json() -> None:
    model = {"kind": "model", "rule": "model/urgency", "urgency": "urgent", "score": 0.871}
    assert sentence(model, "en") == "Model: urgent, 87 %"
    assert sentence(model, "km") == "គំរូស្វ័យប្រវត្តិ៖ បន្ទាន់, ៨៧ %"
    assert sentence({"kind": "rule", "rule": "urgent/misspelled", "words": ["polise took"]}, "en") == \
        "Urgent: ‘polise took’ — an urgent phrase with one word misspelled"
    assert sentence({"kind": "something_new", "rule": "x/y", "words": ["a"]}, "en") == "Rule x/y: ‘a’"
    assert sentence({"text": "mentions police"}, "en") == "mentions police"
    assert sentence("threat of violence", "km") == "threat of violence"
    assert sentences(None, "en") == []


def test_the_screens_reasons_read_in_every_language() -> None:
    from service.triage.quick import classify_screened
    from tests.triage.test_screen import SCREEN_ONLY

    screen = next(r for r in classify_screened(SCREEN_ONLY).reasons if r.get("rule") == "provisional/screen")
    said = {lang: sentence(screen, lang) for lang in ("en", "km", "pt")}
    assert said["en"].startswith("Urgent by the quick screen (") and "confirms or lowers" in said["en"]
    assert said["pt"].startswith("Urgente pela triagem rápida (")
    assert has_khmer(said["km"]) and not any(c.isascii() and c.isalpha() for c in said["km"])
    lowered = {"kind": "provisional", "rule": "provisional/screen_lowered", "urgency": "high"}
    assert sentence(lowered, "en") == (
        "Lowered to high: the quick screen read it as urgent and alerted; the full triage reads high")
    assert sentence(lowered, "pt").startswith("Urgência baixada para alta: ")
    assert has_khmer(sentence(lowered, "km")) and "{" not in sentence(lowered, "km")
