#!/usr/bin/env python3
"""From a report's arrival to its urgent alert email, in the running system, at a given rate.

    .venv/bin/python bench/alert_latency.py --rate 5 --seconds 60 --backend sqlite
    .venv/bin/python bench/alert_latency.py --rate 5 --seconds 60 --backend postgresql \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/alert_latency.py --rate 100 --seconds 30 --serve 2 --workers 2   # throwaway cluster
    .venv/bin/python bench/alert_latency.py --rate 100 --seconds 30 --serve 2 --workers 2 --split-triage 10

A fresh database (a SQLite file, a new database at `--database-url`, or a throwaway durable
PostgreSQL cluster when no URL is given), migrated and loaded with `samleng demo` (its
organisations' handlers and supervisors get the alerts). Then this checkout's `samleng serve`
(`--serve` processes; SQLite: one) and `samleng worker` (`--workers`; at its production interval,
2 s, unless `--interval`) as their own OS processes, Twilio's REST API faked on 127.0.0.1 (the
worker redacts every SMS there) and an SMTP server (aiosmtpd) noting when each email arrives.

SMS signed with the `twilio` library's RequestValidator, each from its own number, are sent at
a fixed rate (open loop: a slow answer does not slow the sender) for `--seconds`. Texts: the
labelled messages of service/triage/data (four languages), `--urgent-share` of them labelled
urgent (`--texts labelled`, the default), or one fixed urgent and one fixed ordinary English
text (`--texts fixed`). One report is triaged before the clock starts (model loading is not
counted). Latency, for each report that ends up urgent in the database: the first alert email
about its case at the SMTP server (its dedupe key names the case) minus the moment just before
its webhook was sent. Printed: the rate really sent, serve's answer time, reports stored,
urgent and alerted, p50/p90/p99/max, and the machine's load average.

Exit status: 0 ok, 1 a check failed (an SMS refused, an alert missing), 2 no PostgreSQL here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.outbox import KEYS, say  # noqa: E402  (the same development keys)

URGENT = "Police arrested my friend at the clinic gate and he is detained at the station now"
PLAIN = "The nurse at the health centre shouted at me and refused to give me my medicine"
MESSAGE_ID = re.compile(r"urgent-alert:(\d+):")


class Mailbox:
    """aiosmtpd handler: the arrival time of every email, by its Message-ID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[tuple[str, float]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        at = time.perf_counter()
        # The dedupe key (also the Message-ID, which the sender may fold over two lines) names the case.
        found = re.search(rb"^Idempotency-Key:\s*(\S+)", envelope.content, re.MULTILINE | re.IGNORECASE)
        with self.lock:
            self.arrivals.append((found.group(1).decode() if found else "", at))
        return "250 OK"

    def first_alerts(self) -> dict[int, float]:
        with self.lock:
            first: dict[int, float] = {}
            for mid, at in self.arrivals:
                if m := MESSAGE_ID.search(mid):
                    first[int(m.group(1))] = min(at, first.get(int(m.group(1)), at))
        return first


def tail(engine, urgent: dict[int, str], first: dict[int, float], sent: dict[str, float],
         sent_wall: dict[str, float], count: int = 10) -> None:
    """Where the slowest alerts spent their time: seconds after the webhook was sent at which the
    report was stored, first triaged (quick step or full triage), its alert queued, and its first
    alert email marked sent."""
    from sqlalchemy import text

    slow = sorted((first[c] - sent[n], c, n) for c, n in urgent.items() if c in first and n in sent)[-count:]
    say(f"the {len(slow)} slowest alerts (seconds after sending: stored / first triage / alert queued / email sent):")
    with engine.connect() as conn:
        for latency, case, number in reversed(slow):
            at = sent_wall[number]
            stored = conn.execute(text("SELECT created_at FROM report WHERE id = :i"), {"i": case}).scalar()
            events = conn.execute(text("SELECT kind, detail, created_at FROM report_event WHERE report_id = :i "
                                       "AND kind IN ('triage', 'urgent_alert') ORDER BY id"), {"i": case}).all()
            mailed = conn.execute(text("SELECT min(sent_at) FROM outbound_message WHERE dedupe_key LIKE :k"),
                                  {"k": f"urgent-alert:{case}:%"}).scalar()

            def off(stamp) -> str:
                if stamp is None:
                    return "-"
                if isinstance(stamp, str):
                    stamp = datetime.fromisoformat(stamp)
                if stamp.tzinfo is None:
                    stamp = stamp.replace(tzinfo=timezone.utc)
                return f"{stamp.timestamp() - at:.2f}"

            triage = [e for e in events if e[0] == "triage"]
            detail = triage[0][1] if triage else {}
            if isinstance(detail, str):
                detail = json.loads(detail)
            how = "quick" if detail.get("provisional") else "full"
            queued = next((e[2] for e in events if e[0] == "urgent_alert"), None)
            say(f"  {latency:6.2f} s  report {case}: {off(stored)} / {off(triage[0][2] if triage else None)} ({how}) / "
                f"{off(queued)} / {off(mailed)}")


def labelled(urgent: bool, seed: int) -> list[str]:
    """Labelled messages of one kind (urgent or not), shuffled; at most one SMS body long."""
    data = ROOT / "service" / "triage" / "data"
    rows = []
    for path in [data / "train.jsonl", *sorted((data / "voices").glob("*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if (row["urgency"] == "urgent") == urgent and len(row["text"]) <= 1400:
                    rows.append(row["text"])
    random.Random(seed).shuffle(rows)
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main() -> int:  # noqa: C901, PLR0912, PLR0915
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=5.0, help="SMS per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--database-url", default="", help="PostgreSQL admin URL (a fresh database is made there "
                                                           "and dropped); none: a throwaway cluster")
    parser.add_argument("--serve", type=int, default=1, help="serve processes (requests spread over them)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--interval", type=float, default=None, help="worker --interval (default: its own)")
    parser.add_argument("--split-triage", type=int, default=0, metavar="NICE",
                        help="the --workers skip the full triage; one more worker runs only it, at this nice level "
                             "(docs/deployment.md, \"Under load\")")
    parser.add_argument("--texts", choices=("labelled", "fixed"), default="labelled")
    parser.add_argument("--urgent-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (its name is printed)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the last alert")
    args = parser.parse_args()
    if args.backend == "sqlite" and (args.serve > 1 or args.workers > 1):
        parser.error("SQLite runs one serve and one worker")
    import httpx
    from aiosmtpd.controller import Controller
    from sqlalchemy import create_engine, text
    from twilio.request_validator import RequestValidator

    from tests.support.server import free_port
    from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi

    work = Path(tempfile.mkdtemp(prefix="samleng-bench-alerts-"))
    cluster = None
    admin_url = args.database_url
    if args.backend == "postgresql" and not admin_url:
        import dev

        bindir = dev._pg_bindir()
        if bindir is None:
            print("no PostgreSQL here; run `python3 dev.py test` once to install it", file=sys.stderr)
            return 2
        cluster = dev.ThrowawayPostgres(bindir, durable=True)
        admin_url = cluster.start()
    procs: list[subprocess.Popen] = []
    twilio = FakeTwilioApi()
    twilio.start()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    failed = False
    name = f"samleng_bench_{uuid.uuid4().hex[:8]}"
    try:
        if args.backend == "postgresql":
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        else:
            url = f"sqlite:///{work / 'samleng.db'}"
        ports = [free_port() for _ in range(args.serve)]
        public = f"http://127.0.0.1:{ports[0]}"  # the proxy's address: every serve checks signatures over it
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SAMLENG_", "TWILIO_"))}, **KEYS,
               "SAMLENG_ENV": "development", "SAMLENG_DATABASE_URL": url,
               "SAMLENG_VAR_DIR": str(work / "var"), "SAMLENG_SPOOL_DIR": str(work / "spool"),
               "SAMLENG_EVIDENCE_DIR": str(work / "evidence"), "SAMLENG_PUBLIC_URL": public,
               "SAMLENG_LOG_LEVEL": "WARNING", "SAMLENG_SMS_DRIVER": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": "+85523000000", "TWILIO_API_BASE": twilio.base_url,
               "SAMLENG_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "SAMLENG_MAIL_FROM": "samleng@bench.test",
               "SAMLENG_DEV_OUTBOX": "false",  # development would keep messages in the dev outbox
               "SAMLENG_REPORTS_PER_HOUR": "1000000", "PYTHONPATH": str(ROOT)}
        cli = [sys.executable, "-m", "service.cli"]  # this checkout's code, not an installed script
        say(f"{args.backend}: migrating and loading the demo organisations (a minute or two); load {load()}")
        subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([*cli, "demo"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=1800)
        engine = create_engine(url)
        with engine.connect() as conn:
            before = conn.execute(text("SELECT coalesce(max(id), 0) FROM report")).scalar()
        logs = [open(work / f"serve-{port}.log", "wb") for port in ports]  # noqa: SIM115
        procs += [subprocess.Popen([*cli, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT) for port, log in zip(ports, logs, strict=True)]
        for port in ports:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"serve on {port} did not start: {(work / f'serve-{port}.log').read_text()[-2000:]}")
                time.sleep(0.2)
        worker_args = ["worker"] + (["--interval", str(args.interval)] if args.interval is not None else [])
        wlog = open(work / "workers.log", "wb")  # noqa: SIM115
        rest = ["--skip", "triage"] if args.split_triage else []
        procs += [subprocess.Popen([*cli, *worker_args, *rest], env={**env, "SAMLENG_LOG_LEVEL": "INFO"}, cwd=ROOT,
                                   stdout=wlog, stderr=subprocess.STDOUT)
                  for _ in range(args.workers)]
        if args.split_triage:  # the model's reading in a worker of its own, behind everything else for the CPU
            procs.append(subprocess.Popen(["nice", "-n", str(args.split_triage), *cli, *worker_args, "--only", "triage"],
                                          env={**env, "SAMLENG_LOG_LEVEL": "INFO"}, cwd=ROOT,
                                          stdout=wlog, stderr=subprocess.STDOUT))

        validator = RequestValidator(AUTH_TOKEN)
        local = threading.local()

        def post(i: int, number: str, body: str) -> int:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(timeout=60)
            params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": number,
                      "To": "+85523000000", "Body": body, "NumMedia": "0"}
            headers = {"X-Twilio-Signature": validator.compute_signature(public + "/webhooks/twilio/sms", params),
                       "Content-Type": "application/x-www-form-urlencoded"}
            try:
                return client.post(f"http://127.0.0.1:{ports[i % len(ports)]}/webhooks/twilio/sms",
                                   content=urlencode(params), headers=headers).status_code
            except httpx.HTTPError:
                return 0

        # Warm-up: one report, fully triaged, before the clock starts (the workers load the model).
        post(0, "+85516999999", "hello, is this the complaints line?")
        deadline = time.monotonic() + 600
        while True:
            with engine.connect() as conn:
                left = conn.execute(text("SELECT count(*) FROM report WHERE id > :b AND triage_confidence IS NULL"),
                                    {"b": before}).scalar()
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with engine.connect() as conn:
            before = conn.execute(text("SELECT coalesce(max(id), 0) FROM report")).scalar()

        total = int(args.rate * args.seconds)
        rng = random.Random(args.seed)
        if args.texts == "labelled":
            urgent_pool, other_pool = labelled(True, args.seed), labelled(False, args.seed)
        else:
            urgent_pool, other_pool = [URGENT], [PLAIN]
        plan = []
        for i in range(total):
            pool = urgent_pool if rng.random() < args.urgent_share else other_pool
            plan.append((f"+8551{i:08d}", pool[i % len(pool)]))
        sent: dict[str, float] = {}
        sent_wall: dict[str, float] = {}  # the same moment on the wall clock, to read the database's stamps against
        answer_times: list[float] = []
        refused: list[int] = []
        lock = threading.Lock()

        def send(i: int, at: float) -> None:
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            number, body = plan[i]
            started, wall = time.perf_counter(), time.time()
            status = post(i, number, body)
            done = time.perf_counter()
            with lock:
                sent[number] = started
                sent_wall[number] = wall
                answer_times.append(done - started)
                if status != 200:
                    refused.append(status)

        say(f"sending {total} SMS at {args.rate:g}/s for {args.seconds:g} s ({args.texts} texts, urgent share "
            f"{args.urgent_share:g}) to {args.serve} serve process(es); {args.workers} worker(s); load {load()}")
        start = time.perf_counter() + 0.5
        with ThreadPoolExecutor(96 if args.rate > 20 else 16) as pool:
            for i in range(total):
                pool.submit(send, i, start + i / args.rate)
        sent_span = time.perf_counter() - start
        say(f"sent in {sent_span:.1f} s ({total / sent_span:.1f}/s); {len(refused)} refused {sorted(set(refused))}; "
            f"load {load()}")
        failed |= bool(refused)

        os.environ.update({k: v for k, v in env.items() if k.startswith("SAMLENG_")})
        from service.config import get_settings
        from service.kit.crypto import pseudonym

        get_settings.cache_clear()
        by_pseudonym = {pseudonym("sms", number): number for number, _ in plan}

        def urgent_reports() -> dict[int, str]:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT report.id, reporter.pseudonym FROM report JOIN reporter ON reporter.id = report.reporter_id "
                    "WHERE report.id > :b AND report.urgency = 'urgent'"), {"b": before}).all()
            return {int(r[0]): by_pseudonym[r[1]] for r in rows if r[1] in by_pseudonym}

        def unrefined() -> int:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM report WHERE id > :b AND triage_confidence IS NULL"),
                                        {"b": before}).scalar() or 0)

        deadline = time.monotonic() + args.timeout
        while True:
            urgent, first = urgent_reports(), mailbox.first_alerts()
            missing = [case for case in urgent if case not in first]
            if (not missing and not unrefined()) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        latencies = [first[case] - sent[number] for case, number in urgent.items() if case in first and number in sent]
        failed |= bool(missing)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM report WHERE id > :b"), {"b": before}).scalar()
            routed = conn.execute(text("SELECT count(*) FROM report_route WHERE report_id > :b"), {"b": before}).scalar()
            kinds = conn.execute(text("SELECT kind, status, count(*) FROM outbound_message GROUP BY kind, status "
                                      "ORDER BY kind, status")).all()
        say(f"{stored} reports stored of {total - len(refused)} acknowledged; {len(urgent)} urgent, {len(latencies)} "
            f"alerted" + (f", {len(missing)} MISSING after {args.timeout:.0f} s" if missing else "")
            + f"; {unrefined()} not yet fully triaged")
        if latencies:
            say(f"arrival -> urgent alert email: p50 {percentile(latencies, 50):.2f} s, p90 {percentile(latencies, 90):.2f} s, "
                f"p99 {percentile(latencies, 99):.2f} s, max {max(latencies):.2f} s (n={len(latencies)})")
        if latencies:
            tail(engine, urgent, first, sent, sent_wall)
        say(f"routed {routed} of {stored}; outbox: " + ", ".join(f"{k}/{st} {n}" for k, st, n in kinds))
        if answer_times:
            say(f"serve's answer time: p50 {percentile(answer_times, 50) * 1000:.0f} ms, "
                f"p99 {percentile(answer_times, 99) * 1000:.0f} ms; load {load()}")
        engine.dispose()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                proc.kill()
        smtp.stop()
        twilio.stop()
        if cluster is not None:
            cluster.stop()
        elif args.backend == "postgresql" and args.keep:
            say(f"kept the database {name}")
        elif args.backend == "postgresql":
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        asyncio.set_event_loop(None)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
