"""Fixtures for the end-to-end tests: a fresh, migrated deployment per test, on each backend.

`deployment` gives a migrated database (by `samleng migrate` as its own process) and the fakes
at the network edge; the test starts `serve` and `worker` when it wants them
(`deployment.start_serve()`, `deployment.start_worker()`), or `deployed` has both running.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.database import _backends
from tests.support.e2e import Deployment, fresh_database
from tests.support.triage_model import seed_model


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def deployment(backend: str, tmp_path: Path, trained_model_file: Path) -> Iterator[Deployment]:
    """A freshly migrated database and the outside world's fakes; no process running yet. Its
    var dir holds the triage model (the one a running deployment's worker cached earlier)."""
    with fresh_database(backend, tmp_path) as url:
        deployment = Deployment(backend, url, tmp_path)
        seed_model(trained_model_file, Path(deployment.env["SAMLENG_VAR_DIR"]))
        try:
            deployment.migrate()
            yield deployment
        finally:
            deployment.close()


@pytest.fixture
def deployed(deployment: Deployment) -> Deployment:
    """`deployment` with `samleng serve` and `samleng worker` running."""
    deployment.start_serve()
    deployment.start_worker()
    return deployment
