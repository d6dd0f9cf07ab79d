"""Triage fixtures: every test uses the session's model file (tests/support/triage_model.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.triage import model as triage_model


@pytest.fixture(autouse=True)
def triage_model_env(trained_model_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every triage test uses the session's model file, never the developer's var dir."""
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(trained_model_file))
    triage_model.set_model(None)
    yield trained_model_file
    triage_model.set_model(None)
