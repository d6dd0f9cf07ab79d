"""Triage fixtures: one model trained from the repo per test session, in a temporary file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.triage import model as triage_model


@pytest.fixture(scope="session")
def trained_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("triage") / "model.joblib"
    triage_model.save(triage_model.train(triage_model.repo_examples()), path)
    return path


@pytest.fixture(autouse=True)
def triage_model_env(trained_model_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every triage test uses the session's model file, never the developer's var dir."""
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(trained_model_file))
    triage_model.set_model(None)
    yield trained_model_file
    triage_model.set_model(None)
