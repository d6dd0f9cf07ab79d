"""A handler's correction changes the next training run (`samleng triage train`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import main
from service.reports.service import add_event
from service.triage import model as triage_model
from service.triage import reading, rules
from service.triage.service import corrections
from tests.support.factories import make_report

# A message the repo data does not settle: the handler knows it is a rights violation.
TEXT = "the commune guard keeps writing down the names of everyone who comes to the clinic"


def _correct(session, text: str, *, to_category: str, to_urgency: str) -> None:  # type: ignore[no-untyped-def]
    report = make_report(session, narrative=text, category="other", category_source="handler", urgency=to_urgency)
    add_event(session, report, "triage_corrected", actor="user:1", detail={
        "from": {"category": "other", "urgency": "normal"}, "to": {"category": to_category, "urgency": to_urgency}})
    report.category = to_category
    session.add(report)
    session.flush()


def test_corrections_are_read_from_the_masked_narrative(session) -> None:  # type: ignore[no-untyped-def]
    _correct(session, "call me on 012 345 678, " + TEXT, to_category="human_rights_violation", to_urgency="high")
    found = corrections(session)
    assert len(found) == 1
    assert found[0].category == "human_rights_violation" and found[0].urgency == "high"
    assert "345 678" not in found[0].text and found[0].source == "correction"


def test_latest_correction_of_a_report_wins(session) -> None:  # type: ignore[no-untyped-def]
    report = make_report(session, narrative=TEXT)
    for category in ("financial_hardship", "human_rights_violation"):
        add_event(session, report, "triage_corrected", detail={"from": {}, "to": {"category": category}})
    session.flush()
    assert [c.category for c in corrections(session)] == ["human_rights_violation"]


def test_a_correction_changes_the_next_model(session) -> None:  # type: ignore[no-untyped-def]
    repo = triage_model.read_examples(triage_model.TRAIN_FILE)
    before = triage_model.train(repo)
    _correct(session, TEXT, to_category="human_rights_violation", to_urgency="high")
    after = triage_model.train(repo, corrections=corrections(session))
    text, _language, found = reading.analyse(TEXT)
    (cat_before, _), = before.scores([text], [rules.features(found)])
    (cat_after, urg_after), = after.scores([text], [rules.features(found)])
    assert max(cat_before, key=cat_before.get) != "human_rights_violation"
    assert max(cat_after, key=cat_after.get) == "human_rights_violation"
    assert cat_after["human_rights_violation"] > cat_before["human_rights_violation"] + 0.2
    assert after.meta["corrections"][0]["category"] == "human_rights_violation"


def test_cli_train_reads_corrections_and_writes_the_model(session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:  # type: ignore[no-untyped-def]
    _correct(session, TEXT, to_category="human_rights_violation", to_urgency="high")
    session.commit()
    target = tmp_path / "model.joblib"
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(target))
    assert main(["triage", "train"]) == 0
    assert "1 corrections" in capsys.readouterr().out
    saved = triage_model.load(target)
    assert len(saved.meta["corrections"]) == 1


def test_stale_cache_is_retrained_and_keeps_its_corrections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    correction = triage_model.Example(TEXT, "human_rights_violation", "high", "en", "correction")
    stale = triage_model.train(triage_model.read_examples(triage_model.TRAIN_FILE), corrections=[correction])
    stale.meta["repo_fingerprint"] = "older-data"
    path = tmp_path / "model.joblib"
    triage_model.save(stale, path)
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(path))
    triage_model.set_model(None)
    fresh = triage_model.get_model()
    assert fresh.meta["repo_fingerprint"] == triage_model.repo_fingerprint()
    assert fresh.meta["corrections"] == [correction.as_dict()]
    assert triage_model.load(path).meta["repo_fingerprint"] == triage_model.repo_fingerprint()


def test_damaged_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.joblib"
    path.write_bytes(b"not a model")
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(path))
    triage_model.set_model(None)
    assert triage_model.get_model().meta["format"] == triage_model.FORMAT


def test_a_changed_rule_file_makes_the_cached_model_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules' findings are features of the model: a model trained before a rule changed is not
    the model the figures were measured with, so it is retrained (docs/triage.md)."""
    import shutil

    from service.triage import rules

    before = triage_model.repo_fingerprint()
    copy = tmp_path / "rules"
    shutil.copytree(rules.RULES_DIR, copy)
    monkeypatch.setattr(rules, "RULES_DIR", copy)
    assert triage_model.repo_fingerprint() == before, "the same rules, the same fingerprint"
    with (copy / "en.yaml").open("a", encoding="utf-8") as f:
        f.write("\n# a rule changed\n")
    assert triage_model.repo_fingerprint() != before
