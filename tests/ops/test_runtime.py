"""The web app tunes the garbage collector once it has loaded everything long-lived."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from service.app import create_app


def test_app_start_freezes_what_is_loaded_and_raises_the_young_threshold(settings) -> None:  # type: ignore[no-untyped-def]
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        with TestClient(create_app(settings)):
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] == 50_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
