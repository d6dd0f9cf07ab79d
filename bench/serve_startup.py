"""How long `samleng serve` takes from launch to its first answer, with and without a cached
triage model, for this checkout or another (e.g. an export of an older commit).

    .venv/bin/python bench/serve_startup.py [--root DIR] [--runs 3]

Each run starts `python -m service.cli serve` as its own process on a free 127.0.0.1 port
(SQLite database migrated first, fresh var dir for the "cold" case: no triage model cached
yet) and polls GET /healthz until it answers 200; prints the seconds from launch.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_once(root: Path, var: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(root), "SAMLENG_VAR_DIR": str(var),
           "SAMLENG_DATABASE_URL": f"sqlite:///{var}/samleng.db"}
    env.pop("SAMLENG_TRIAGE_MODEL", None)
    if not (var / "samleng.db").exists():
        subprocess.run([sys.executable, "-m", "service.cli", "migrate"], cwd=root, env=env, check=True,
                       capture_output=True)
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 180
        while time.perf_counter() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    took = time.perf_counter() - started
                    cache = var / "triage" / "model.joblib"
                    while not cache.exists() and time.perf_counter() < deadline:  # background warm-up
                        time.sleep(0.2)
                    return took
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("server exited")
            time.sleep(0.05)
        raise RuntimeError("server did not answer in 180 s")
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(args.root)
    cold, warm = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="samleng-start-") as tmp:
            var = Path(tmp)
            cold.append(start_once(root, var))
            warm.append(start_once(root, var))
    print(f"{root}: first answer after launch, cold var dir (no model cache): median "
          f"{statistics.median(cold):.2f}s {[round(x, 2) for x in cold]}; cached model: median "
          f"{statistics.median(warm):.2f}s {[round(x, 2) for x in warm]}")


if __name__ == "__main__":
    main()
