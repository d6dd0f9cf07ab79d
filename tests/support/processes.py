"""The worker as deployed: `python -m service.cli worker` in its own process, this checkout's code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from tests.support.database import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]


def spawn_worker(database_url: str, tmp_path: Path, *, lease: float = 300.0, batch: int = 50,
                 interval: float = 0.05, **env: str) -> subprocess.Popen:
    full = {**os.environ, **TEST_KEYS, "SAMLENG_ENV": "test", "SAMLENG_DATABASE_URL": database_url,
            "SAMLENG_SPOOL_DIR": str(tmp_path / "spool"), "SAMLENG_VAR_DIR": str(tmp_path / "var"),
            "SAMLENG_OUTBOX_LEASE_SECONDS": str(lease), "SAMLENG_OUTBOX_BATCH": str(batch),
            "SAMLENG_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--interval", str(interval)], cwd=ROOT,
                            env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
    """Send `sig` (the graceful stop), then SIGKILL if the process has not gone after `timeout` s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll `predicate`; a database busy with the worker's write (SQLite) counts as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OperationalError:
            pass
        time.sleep(0.05)
    return predicate()


def spawn_serve(database_url: str, tmp_path: Path, port: int, **env: str) -> subprocess.Popen:
    """`samleng serve` on 127.0.0.1:`port` (wait for it with `wait_until_serving`); its log in tmp_path."""
    full = {**os.environ, **TEST_KEYS, "SAMLENG_ENV": "test", "SAMLENG_DATABASE_URL": database_url,
            "SAMLENG_SPOOL_DIR": str(tmp_path / "spool"), "SAMLENG_VAR_DIR": str(tmp_path / "var"),
            "SAMLENG_PUBLIC_URL": f"http://127.0.0.1:{port}", "SAMLENG_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT), **env}
    log = open(tmp_path / f"serve-{port}.log", "wb")  # noqa: SIM115  (closed with the process)
    return subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)], cwd=ROOT,
                            env=full, stdout=log, stderr=subprocess.STDOUT)


def wait_until_serving(proc: subprocess.Popen, base_url: str, log: Path, timeout: float = 300) -> None:
    """Poll /healthz (start-up loads catalogues and the triage model: slow on a loaded machine)."""
    import httpx

    def up() -> bool:
        if proc.poll() is not None:
            return True
        try:
            return httpx.get(base_url + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
    started = wait_for(up, timeout) and proc.poll() is None
    assert started, f"{base_url} did not start: {log.read_text(errors='replace')[-2000:]}"
