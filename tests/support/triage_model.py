"""One triage model trained from the repo per test session, in a temporary file.

Training takes tens of seconds of CPU (minutes on a loaded machine). Tests of triage itself
point SAMLENG_TRIAGE_MODEL at this file; deployments started as processes (tests/e2e) get a
copy in their own var dir, as a running deployment has the model its worker cached earlier
(a copy: a test that retrains with corrections changes only its own)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.triage import model as triage_model


@pytest.fixture(scope="session")
def trained_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("triage") / "model.joblib"
    triage_model.save(triage_model.train(triage_model.repo_examples()), path)
    return path


def seed_model(model_file: Path, var_dir: Path) -> Path:
    """Copy the session's model to where a process with `var_dir` as SAMLENG_VAR_DIR looks for it."""
    target = var_dir / "triage" / "model.joblib"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_file, target)
    return target
