"""SAMLENG_CLOCK_OFFSET: a development clock shift, parsed strictly and refused in production."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from service.config import ConfigError, Settings
from service.kit import clock
from tests.support.database import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "expected"), [
    ("+73h", timedelta(hours=73)), ("-2d", timedelta(days=-2)), ("+90m", timedelta(minutes=90)),
    ("+30s", timedelta(seconds=30)), ("73h", timedelta(hours=73)), ("+1d12h", timedelta(hours=36)),
    (" +1.5h ", timedelta(minutes=90)), ("+2D", timedelta(days=2)), ("", timedelta(0)), ("  ", timedelta(0)),
])
def test_offsets_are_parsed(text: str, expected: timedelta) -> None:
    assert clock.parse_offset(text) == expected


@pytest.mark.parametrize("text", ["73", "+h", "+3w", "tomorrow", "+-3h", "3h+", "++3h", "1e3h"])
def test_a_malformed_offset_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"\+73h"):
        clock.parse_offset(text)


def test_now_follows_the_configured_offset() -> None:
    before = clock.now()
    clock.set_offset(timedelta(hours=73))
    try:
        shifted = clock.now()
    finally:
        clock.set_offset(timedelta(0))
    assert timedelta(hours=73) <= shifted - before < timedelta(hours=73, minutes=5)
    assert clock.now() - before < timedelta(minutes=5)


def test_settings_refuse_an_offset_in_production_and_a_malformed_one_anywhere() -> None:
    with pytest.raises(ConfigError, match="SAMLENG_CLOCK_OFFSET is for development and testing only"):
        Settings(SAMLENG_ENV="production", SAMLENG_CLOCK_OFFSET="+73h")
    with pytest.raises(ConfigError, match="SAMLENG_CLOCK_OFFSET"):
        Settings(SAMLENG_ENV="test", SAMLENG_CLOCK_OFFSET="soon", **{k: v for k, v in TEST_KEYS.items()})
    assert Settings(SAMLENG_ENV="test", SAMLENG_CLOCK_OFFSET="-2d", **TEST_KEYS).clock_offset == "-2d"


@pytest.mark.parametrize("command", [["worker", "--once"], ["serve", "--port", "1"]])
def test_serve_and_worker_refuse_to_start_in_production_with_an_offset(command: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMLENG_", "TWILIO_", "TELEGRAM_"))}
    env.update(PYTHONPATH=str(ROOT), SAMLENG_ENV="production", SAMLENG_CLOCK_OFFSET="+73h",
               SAMLENG_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", SAMLENG_VAR_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "service.cli", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines == ["samleng: SAMLENG_CLOCK_OFFSET is for development and testing only: unset it in production"], \
        done.stderr
