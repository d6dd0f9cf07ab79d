#!/usr/bin/env python3
"""Outbox delivery rate on PostgreSQL: 1, 2 and 4 `samleng worker` processes against a receiver
that takes 50 ms to answer, and the raw insert rate.

    .venv/bin/python bench/outbox.py                          # 400 messages per run, 50 ms receiver
    .venv/bin/python bench/outbox.py --delay 0 --messages 2000  # an instant receiver

A throwaway PostgreSQL cluster with its durable defaults (fsync, synchronous_commit,
full_page_writes on) and a fresh migrated database. The baseline is the raw insert rate:
messages queued with `enqueue_to_body`, one transaction each (as each escalation commits
its own). Then the same number of signed webhooks is delivered by 1, 2 and 4 worker
processes (this checkout's `python -m service.cli worker`, batch 100) to a local receiver
on 127.0.0.1 that answers 204 after `--delay` seconds and counts every request by
`webhook-id`. Rate = messages / (last receipt - first receipt). The run fails if any
message is lost or delivered twice.

Exit status: 0 ok, 1 a check failed, 2 no PostgreSQL here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEYS = {
    "SAMLENG_SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuv",
    "SAMLENG_PSEUDONYM_KEY": "bench-pseudonym-key-0123456789abcdefghijklmnopqr",
    "SAMLENG_VAULT_KEY": "bench-vault-key-0123456789abcdefghijklmnopqrstuvw",
}


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


class Receiver:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.ids: list[str] = []
        self.times: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.ids.append(self.headers.get("webhook-id", ""))
                    receiver.times.append(time.perf_counter())
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def reset(self) -> None:
        with self.lock:
            self.ids, self.times = [], []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds the receiver takes to answer")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to run, comma-separated")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    import dev

    bindir = dev._pg_bindir()
    if bindir is None:
        print("no PostgreSQL here; run `python3 dev.py test` once to install it", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="samleng-bench-outbox-"))
    cluster = dev.ThrowawayPostgres(bindir, durable=True)
    admin_url = cluster.start()
    workers: list[subprocess.Popen] = []
    failed = False
    try:
        from sqlalchemy import create_engine, text

        name = f"samleng_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        env = {**os.environ, **KEYS, "SAMLENG_ENV": "development", "SAMLENG_DATABASE_URL": url,
               "SAMLENG_VAR_DIR": str(work / "var"), "SAMLENG_SPOOL_DIR": str(work / "spool"),
               "SAMLENG_LOG_LEVEL": "WARNING", "SAMLENG_OUTBOX_BATCH": "100", "PYTHONPATH": str(ROOT)}
        cli = [sys.executable, "-m", "service.cli"]  # this checkout's code, not an installed script
        subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
        os.environ.update({k: v for k, v in env.items() if k.startswith("SAMLENG_")})
        from sqlmodel import Session

        import bots.telegram.models  # noqa: F401  (the Telegram adapter's tables)
        import service.models  # noqa: F401  (every table, for the foreign keys)
        from service.bodies.service import upsert_body
        from service.config import get_settings
        from service.db import build_engine
        from service.outbox.service import enqueue_to_body

        get_settings.cache_clear()
        engine = build_engine(get_settings())
        receiver = Receiver(args.delay)
        with Session(engine) as s:
            body = upsert_body(s, slug="bench", name_en="Bench body", level="national", webhook_url=receiver.url)
            body_id = body.id
            s.commit()

        def insert(tag: str) -> float:
            started = time.perf_counter()
            for i in range(args.messages):
                with Session(engine) as s:
                    enqueue_to_body(s, body_id=body_id, kind="webhook", dedupe_key=f"{tag}-{i:06d}",  # type: ignore[arg-type]
                                    payload={"type": "case.escalated", "data": {"case": i, "text": "x" * 400}})
                    s.commit()
            return args.messages / (time.perf_counter() - started)

        results: dict[str, float] = {}
        results["insert"] = insert("baseline")
        say(f"raw insert: {results['insert']:.0f} messages/s (one transaction each)")
        with engine.begin() as conn:  # the baseline rows are not part of the delivery runs
            conn.execute(text("UPDATE outbound_message SET status = 'cancelled'"))
        counts = [int(n) for n in args.workers.split(",")]
        for count in counts:
            receiver.reset()
            insert(f"run{count}")
            workers = [subprocess.Popen([*cli, "worker", "--interval", "0.05"], env=env, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
            deadline = time.monotonic() + args.timeout
            while len(receiver.ids) < args.messages and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            for proc in workers:  # SIGTERM: each ends its pass and exits
                proc.terminate()
            for proc in workers:
                proc.wait(120)
            workers = []
            unique = len(set(receiver.ids))
            span = receiver.times[-1] - receiver.times[0] if len(receiver.times) > 1 else float("nan")
            results[f"workers{count}"] = args.messages / span
            ok = unique == args.messages == len(receiver.ids)
            failed |= not ok
            say(f"{count} worker(s): {results[f'workers{count}']:.0f} messages/s delivered; "
                f"{unique} unique of {args.messages}, {len(receiver.ids) - unique} twice"
                + ("" if ok else "  <-- CHECK FAILED"))
        engine.dispose()
        say(f"receiver answers in {args.delay * 1000:.0f} ms; {args.messages} messages per run")
        say("| run | messages/s | vs raw insert | vs 1 worker |")
        say("| --- | ---: | ---: | ---: |")
        say(f"| raw insert (1 txn each) | {results['insert']:.0f} | 1.00 | |")
        base = results.get(f"workers{counts[0]}")
        for count in counts:
            rate = results[f"workers{count}"]
            say(f"| {count} worker{'s' if count > 1 else ''} | {rate:.0f} | {rate / results['insert']:.2f} | "
                f"{rate / base:.2f} |" if base else "")
    finally:
        for proc in workers:
            proc.kill()
        cluster.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
