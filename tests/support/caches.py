"""Every test starts with the app's in-process caches empty (service/kit/cache.py): rendered rows,
kept statements and the place tree of one test never show in the next."""

from __future__ import annotations

import pytest

from service.kit import cache


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    cache.clear_all()
