#!/usr/bin/env python3
"""Telegram webhook throughput and latency: the whole app against a bare FastAPI floor.

    .venv/bin/python bench/telegram_webhook.py                  # sqlite and postgresql, 10 s per run
    .venv/bin/python bench/telegram_webhook.py --quick          # 3 s per run, short warm-ups
    .venv/bin/python bench/telegram_webhook.py --backends sqlite --duration 20

Same pattern as bench/sms_intake.py (whose helpers it reuses). For each backend the
full app (`samleng serve`, one uvicorn process, TELEGRAM_WEBHOOK_SECRET checked, a
fresh migrated database, the bot talking to a local fake Bot API in this process) is
driven by Debian's `wrk` at 1 and 32 connections with real Update JSON, each a first
message from a new Telegram user (so each becomes a new report). The webhook answers
200 once the update is stored (encrypted) in the inbox; the bot then processes it
(intake dialogue, report, reply through the Bot API). Two figures come out:

- webhook: updates/s and p50/p99 latency of the 200, against the bare floor
  (bench/telegram_bare_app.py: same secret check and JSON parsing, nothing else);
- end to end: updates/s from the first request until every stored update has been
  processed (report created, reply sent to the fake Bot API).

Afterwards the database is counted: one stored update and one report per answered
request, none left unprocessed. Everything is on 127.0.0.1 and bounded in time.
Exit status: 0 all checks passed, 1 a check failed, 2 wrk missing or bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sms_intake as base  # noqa: E402  (helpers: servers, databases, machine description)
from tests.support.telegram_fake import BOT_TOKEN  # noqa: E402

BIN = base.BIN
WRK = base.WRK
LUA = ROOT / "bench" / "telegram_webhook.lua"
BARE_APP = ROOT / "bench" / "telegram_bare_app.py"
PATH = "/webhooks/telegram"
SECRET = "bench-telegram-secret-" + "4b7d1e9a0c"
LOW, HIGH = base.LOW, base.HIGH
say = base.say
BenchError = base.BenchError


class UpdateFactory:
    """Private-chat text messages, each from a new user id and with a new update_id."""

    def __init__(self) -> None:
        self.update_id = 10_000_000
        self.user_id = 5_000_000_000

    def update(self) -> dict:
        self.update_id += 1
        self.user_id += 1
        user = {"id": self.user_id, "is_bot": False, "first_name": "Bench", "language_code": "en"}
        return {"update_id": self.update_id, "message": {
            "message_id": 1, "date": int(time.time()), "from": user,
            "chat": {"id": self.user_id, "type": "private", "first_name": "Bench"},
            "text": base.NARRATIVES[self.update_id % len(base.NARRATIVES)]}}

    def write_pool(self, path: Path, n: int) -> Path:
        with path.open("w") as fh:
            for _ in range(n):
                fh.write(f"{SECRET}\t{json.dumps(self.update(), separators=(',', ':'))}\n")
        return path


def post(port: int, body: str, secret: str | None) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        conn.request("POST", PATH, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def run_wrk(server: base.Server, pool: Path, connections: int, duration: float, log: Path) -> dict:
    threads = base.THREADS.get(connections, min(2, connections))
    cmd = [WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
           f"--timeout={base.WRK_TIMEOUT_S}s", "-s", str(LUA), server.url, "--", str(pool), str(threads)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + base.WRK_TIMEOUT_S + 60)
    log.write_text(result.stdout + result.stderr)
    for line in result.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON "):])
            data["threads"] = threads
            return data
    raise BenchError(f"wrk gave no result (exit {result.returncode}):\n{result.stdout}{result.stderr}")


def counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "stored": conn.execute(text("SELECT count(*) FROM pending_update")).scalar_one(),
                "unprocessed": conn.execute(text(
                    "SELECT count(*) FROM pending_update WHERE processed_at IS NULL")).scalar_one(),
                "reports": conn.execute(text("SELECT count(*) FROM report")).scalar_one(),
            }
    finally:
        engine.dispose()


def drained(url: str, timeout: float) -> tuple[dict[str, int], float]:
    """Wait until every stored update is processed; returns the counts and the time it happened."""
    deadline = time.monotonic() + timeout
    while True:
        current = counts(url)
        if current["unprocessed"] == 0 or time.monotonic() > deadline:
            return current, time.monotonic()
        time.sleep(0.2)


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, stack: ExitStack, api_base: str) -> None:
        self.args, self.work, self.stack, self.api_base = args, work, stack, api_base
        self.factory = UpdateFactory()
        self.rows: list[tuple[str, int, dict, float | None]] = []  # target, conns, wrk, end-to-end/s
        self.problems: list[str] = []
        self.state: dict = {}
        self.pools = 0

    def pool(self, n: int) -> Path:
        self.pools += 1
        return self.factory.write_pool(self.work / f"pool-{self.pools:02d}.txt", n)

    def env(self, url: str, run_dir: Path, port: int) -> dict[str, str]:
        env = base.app_env(url, run_dir, port)
        env.update({"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
                    "TELEGRAM_API_BASE": self.api_base, "SAMLENG_EVIDENCE_DIR": str(run_dir / "evidence")})
        return env

    def measure(self, server: base.Server, connections: int, rate: float, url: str | None, warmup: bool = False) -> float:
        duration = self.args.warmup if warmup else self.args.duration
        n = base.pool_size(rate, duration)
        path = self.pool(n)
        before = counts(url) if url else None
        started = time.monotonic()
        data = run_wrk(server, path, connections, duration, self.work / f"wrk-{self.pools:02d}.log")
        path.unlink(missing_ok=True)
        rps = data["requests"] / (data["duration_us"] / 1e6)
        if warmup:
            say(f"  warm-up {server.name}: {rps:.0f} req/s")
            if url:
                drained(url, 120)
            return rps
        end_to_end = None
        if data["wrapped"] or data["non2xx"] or any(v for k, v in data["errors"].items() if k != "status"):
            self.problems.append(f"{server.name}@{connections}: wrapped={data['wrapped']} non2xx={data['non2xx']} "
                                 f"errors={data['errors']}")
        if url and before is not None:
            after, finished = drained(url, 180)
            stored = after["stored"] - before["stored"]
            reports = after["reports"] - before["reports"]
            done = data["requests"]
            end_to_end = stored / (finished - started)
            line = (f"DB: +{stored} stored updates, +{reports} reports, {after['unprocessed']} unprocessed; "
                    f"wrk completed {done}")
            ok = done - data["non2xx"] <= stored <= done + connections and reports == stored and after["unprocessed"] == 0
            say(("    ok: " if ok else "    PROBLEM: ") + line)
            if not ok:
                self.problems.append(f"{server.name}@{connections}: {line}")
        self.rows.append((server.name, connections, data, end_to_end))
        return rps

    def run_target(self, name: str, cmd: list[str], env: dict[str, str], run_dir: Path, port: int, url: str | None) -> None:
        with ExitStack() as local:
            server = base.start_server(name, cmd, env, run_dir, port, run_dir / "server.log", local)
            probe = json.dumps(self.factory.update())
            if post(port, probe, SECRET) != 200:
                raise BenchError(f"{name}: the probe was not answered 200\n{server.tail()}")
            if post(port, json.dumps(self.factory.update()), "wrong-secret") != 403:
                raise BenchError(f"{name}: a wrong secret was not refused: the check is not on the path")
            rate = self.measure(server, HIGH, 2000 if url is None else 500, url, warmup=True)
            for connections in (LOW, HIGH):
                self.measure(server, connections, rate, url)
            server.stop()

    def run_bare(self) -> None:
        port = base.free_port()
        run_dir = self.work / "bare"
        run_dir.mkdir()
        env = base.app_env("sqlite:///unused.db", run_dir, port)
        say("bare app (bench/telegram_bare_app.py)")
        self.run_target("bare", [str(BIN / "python"), str(BARE_APP), "--host", "127.0.0.1", "--port", str(port),
                                 "--secret", SECRET, "--log-level", "WARNING"], env, run_dir, port, None)

    def run_full(self, backend: str) -> None:
        run_dir = self.work / backend
        run_dir.mkdir()
        url = base.prepare_database(backend, run_dir, self.stack, self.state)
        port = base.free_port()
        say(f"full app on {backend} (samleng serve)")
        self.run_target(f"full/{backend}", [str(BIN / "samleng"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                        self.env(url, run_dir, port), run_dir, port, url)

    def report(self) -> bool:
        print()
        print(f"{'target':<18} {'conns':>5} {'webhook/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'end-to-end/s':>13}")
        for name, conns, data, e2e in self.rows:
            rps = data["requests"] / (data["duration_us"] / 1e6)
            print(f"{name:<18} {conns:>5} {rps:>10.1f} {data['p50_us'] / 1000:>8.2f} {data['p99_us'] / 1000:>8.2f} "
                  f"{'' if e2e is None else f'{e2e:.1f}':>13}")
        bare = next((r for r in self.rows if r[0] == "bare" and r[1] == HIGH), None)
        for backend in self.args.backends:
            full = next((r for r in self.rows if r[0] == f"full/{backend}" and r[1] == HIGH), None)
            if bare and full:
                b, f = bare[2], full[2]
                ratio = (f["requests"] / f["duration_us"]) / (b["requests"] / b["duration_us"])
                print(f"{backend}: full/bare webhook throughput @32 {ratio:.3f}; "
                      f"p99 full/bare @32 {f['p99_us'] / b['p99_us']:.2f}")
        for problem in self.problems:
            print(f"CHECK FAILED: {problem}")
        if not self.problems:
            print("checks: one stored update and one report per answered request, all processed; "
                  "no non-2xx, no socket errors, no replayed requests")
        return not self.problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Telegram webhook benchmark: full app vs a bare FastAPI floor.")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if any(b not in ("sqlite", "postgresql") for b in args.backends):
        parser.error("backends: sqlite,postgresql")
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup or (1.0 if args.quick else 3.0)
    if not (os.path.isfile(WRK) and os.access(WRK, os.X_OK)):
        print(f"telegram_webhook: wrk not found at {WRK} (apt-get install wrk)", file=sys.stderr)
        return 2

    def _terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    from tests.support.telegram_fake import FakeBotApi

    say(base.describe_machine())
    say(f"backends={','.join(args.backends)} duration={args.duration:.0f}s warm-up={args.warmup:.0f}s")
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="samleng-bench-tg-"))
        stack.callback(say, f"kept {work}") if args.keep else stack.callback(shutil.rmtree, work, True)
        api = FakeBotApi()
        api.start()
        stack.callback(api.stop)
        bench = Bench(args, work, stack, api.base_url)
        try:
            bench.run_bare()
            for backend in args.backends:
                bench.run_full(backend)
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        except BenchError as exc:
            say(f"FAILED: {exc}")
            bench.report()
            return 1
        ok = bench.report()
        say(f"fake Bot API answered {len(api.of('sendMessage'))} sendMessage calls")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
