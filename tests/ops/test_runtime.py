"""`samleng serve` tunes the garbage collector once it has loaded everything long-lived; an app a test
or a script builds leaves the process's collector alone."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service import cli
from service.app import create_app


@pytest.fixture
def untuned() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        yield gc.get_threshold()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_an_app_built_in_a_test_leaves_the_collector_alone(settings, untuned) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(settings)):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == untuned


def test_serve_freezes_what_is_loaded_and_raises_the_young_threshold(settings, untuned, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    served: list[FastAPI] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))  # the app `samleng serve` runs
    cli.cmd_serve(argparse.Namespace(host="127.0.0.1", port=0, forwarded_allow_ips=None))
    assert gc.get_freeze_count() == 0  # not at build time: at start, once everything is loaded
    with TestClient(served[0]):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 50_000
