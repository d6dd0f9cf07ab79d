"""The quick, provisional reading (word lists only) is never more urgent than the full triage of
the same text, so the worker's urgent step never raises an alert the full triage would not
(recall first: the full triage may only add urgency later)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.triage import classify_quick
from service.triage.service import _RANK, classify_many

DATA = Path(__file__).resolve().parents[2] / "service" / "triage" / "data"


def test_quick_urgency_is_the_floor_of_the_full_triage_on_every_voice() -> None:
    texts = [json.loads(line)["text"] for path in sorted((DATA / "voices").glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(texts) > 300
    full = []
    for i in range(0, len(texts), 32):
        full += classify_many(texts[i:i + 32])
    above = [t for t, f in zip(texts, full, strict=True) if _RANK[classify_quick(t).urgency] > _RANK[f.urgency]]
    assert above == []
    urgent_quick = sum(classify_quick(t).urgency == "urgent" for t in texts)
    urgent_full = sum(f.urgency == "urgent" for f in full)
    assert 0 < urgent_quick <= urgent_full


def test_quick_reading_names_its_rules_and_says_it_is_provisional() -> None:
    result = classify_quick("Police arrested my friend at the clinic and he is detained at the station now")
    assert result.urgency == "urgent" and result.category == "human_rights_violation"
    assert result.reasons[0]["kind"] == "provisional"
    assert any(r.get("rule", "").startswith("urgent/") for r in result.reasons)
    assert not any(r.get("kind") == "model" for r in result.reasons)
    assert classify_quick("he beat me last year, now I want to complain").urgency == "high"
    assert classify_quick("I do not want to die, I want my ARV").urgency != "urgent"
    assert classify_quick("").urgency == "normal"


@pytest.mark.parametrize("lang", ["en", "km", "pt"])
def test_provisional_reasons_read_as_sentences(lang: str) -> None:
    from service.kit.i18n import has_khmer
    from service.queue.reasons import sentence

    quick = classify_quick("Police arrested my friend, he is detained at the station now").reasons[0]
    kept = {"kind": "provisional", "rule": "provisional/kept_urgent", "urgency": "high", "effect": "…"}
    for said in (sentence(quick, lang), sentence(kept, lang)):
        assert "{" not in said and "provisional/" not in said and not said.startswith(("Rule ", "Regra ")), said
        if lang == "km":
            assert has_khmer(said), said
    if lang == "en":
        assert sentence(kept, "en").endswith("the full triage reads high")
