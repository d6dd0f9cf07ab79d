"""Debian's chromium for the browser tests, launched by Playwright's bundled driver (never a browser
download of its own: `playwright install` is not used).

One place for the path and the flags. As root Chromium needs --no-sandbox; without the background
networking flags it keeps trying to reach Google's hosts on a closed network (update checks, field
trials, sync), which is slow and noisy; with no screen it needs no GPU.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SAMLENG_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-quic", "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Playwright waits 30 s by default; a page of the app takes tens of seconds on a loaded 2-core machine.
TIMEOUT_MS = 180_000

# Outside CI a machine without chromium skips the browser tests; CI (CI=true) must run them.
needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists() and not IN_CI,
    reason="Debian's chromium is not installed (python3 dev.py test installs it as root)")


def launch() -> Iterator[Any]:
    """A headless Chromium for one test (a generator for a pytest fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, timeout=TIMEOUT_MS)
        try:
            yield browser
        finally:
            browser.close()
