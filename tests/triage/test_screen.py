"""The urgency screen of the quick step (service/triage/quick.py `classify_screened`): a linear
model without the sentence embedding, trained and cached with the triage model, that makes urgent
at once what the word lists miss; never against their negation or past, never trained at run time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.triage import model as triage_model
from service.triage import reading, rules
from service.triage.quick import SCREEN_URGENT, classify_quick, classify_screened

DATA = Path(__file__).resolve().parents[2] / "service" / "triage" / "data"
# Written for this test (in no labelled file): suicidal intent without the word lists' phrases.
SCREEN_ONLY = "I feel so tired of everything, tonight I will finish it with the pills"
ORDINARY = [
    "The nurse at the health centre was rude to me and made me wait all day",
    "No condoms at the drop-in centre for a month, please tell them",
    "The clinic asked me to pay 20000 riel for the blood test, it should be free",
    "O posto de saúde não tinha medicamentos para a tuberculose esta semana",
    "Staff at the hospital told my neighbours about my HIV status",
]


def test_the_screen_makes_urgent_what_the_word_lists_miss() -> None:
    assert classify_quick(SCREEN_ONLY).urgency != "urgent"
    result = classify_screened(SCREEN_ONLY)
    assert result.urgency == "urgent"
    screen = [r for r in result.reasons if r.get("rule") == "provisional/screen"]
    assert screen and screen[0]["score"] >= SCREEN_URGENT
    assert result.reasons[0]["rule"] == "provisional/rules_only" and result.confidence == 0.0


def test_the_screen_leaves_ordinary_reports_and_the_rules_veto_alone() -> None:
    for text in ORDINARY:
        assert classify_screened(text).urgency != "urgent", text
    # The word lists found the urgent words in the past, or negated: the screen may not overrule.
    assert classify_screened("he beat me last year, now I want to complain").urgency == "high"
    assert classify_screened("I do not want to die, I want my ARV").urgency != "urgent"


def test_the_screen_only_adds_to_the_word_lists_on_every_labelled_message() -> None:
    texts = [json.loads(line)["text"] for path in [DATA / "train.jsonl", *sorted((DATA / "voices").glob("*.jsonl"))]
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    quick = [classify_quick(t).urgency == "urgent" for t in texts]
    screened = [classify_screened(t).urgency == "urgent" for t in texts]
    assert all(s for q, s in zip(quick, screened, strict=True) if q), "every word-list emergency stays urgent"
    assert sum(screened) > sum(quick)


def test_the_fast_sums_are_scikit_learns_probabilities() -> None:
    model = triage_model.get_model()
    assert model.screen is not None
    texts = [SCREEN_ONLY, *ORDINARY, "ប៉ូលីសចាប់ប្ដីខ្ញុំ", "bong knhom chhu klang nas", ""]
    analysed = [reading.analyse(t) for t in texts]
    normalised, features = [a[0] for a in analysed], [rules.features(a[2]) for a in analysed]
    fast = model.screen_scores(normalised, features)
    x = triage_model._with_features(model.vectorizer.transform(normalised), features)
    column = [str(c) for c in model.screen.classes_].index("True")
    expected = [float(p[column]) for p in model.screen.predict_proba(x)]
    assert fast == pytest.approx(expected, abs=1e-5)


def test_without_a_cached_model_the_quick_step_is_the_word_lists_and_trains_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "model.joblib"
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(missing))
    triage_model.set_model(None)
    assert classify_screened(SCREEN_ONLY).urgency == classify_quick(SCREEN_ONLY).urgency != "urgent"
    assert not missing.exists(), "the quick step never trains"


def test_the_screen_is_cached_with_the_model(tmp_path: Path) -> None:
    model = triage_model.get_model()
    path = tmp_path / "copy.joblib"
    triage_model.save(model, path)
    loaded = triage_model.load(path)
    assert loaded.screen is not None and loaded.meta["format"] == triage_model.FORMAT
    analysed = reading.analyse(SCREEN_ONLY)
    assert loaded.screen_scores([analysed[0]], [rules.features(analysed[2])]) == pytest.approx(
        model.screen_scores([analysed[0]], [rules.features(analysed[2])]))
