#!/usr/bin/env python3
"""From a report's arrival to its urgent alert email, while 100 reports a second arrive.

    .venv/bin/python bench/alert_latency.py                       # 100 SMS/s for 30 s, 1 serve, 1 worker
    .venv/bin/python bench/alert_latency.py --serve 2 --workers 2 # as compose.yaml runs it

A throwaway PostgreSQL cluster with its durable defaults and a fresh database, migrated and
loaded with `samleng demo` (its organisations' handlers and supervisors get the alerts). Then
this checkout's `samleng serve` and `samleng worker` as their own processes (the worker at its
default interval unless `--interval`), Twilio's REST API faked on 127.0.0.1 (the worker redacts
every SMS there) and an SMTP server (aiosmtpd) that notes when each email arrives.

SMS from distinct numbers, signed with the `twilio` library's RequestValidator, are sent at a
fixed rate (open loop: a slow answer does not slow the sender) for `--seconds`; every
`--urgent-every`-th is urgent ("arrested ... detained at the station now"). For each urgent
report: latency = the first alert email's arrival (its Message-ID names the case) - the moment
`serve` acknowledged the SMS (its TwiML answer). Reported: p50/p95/p99/max, how many alerts
arrived, the rate really sent and the webhook's own answer time.

Exit status: 0 ok, 1 a check failed (an SMS refused, an alert missing), 2 no PostgreSQL here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.outbox import KEYS, say  # noqa: E402  (the same development keys)

URGENT = "Police arrested my friend {m} at the clinic gate and he is detained at the station now"
PLAIN = "The nurse at the health centre shouted at me {m} and refused to give me my medicine"
MESSAGE_ID = re.compile(r"urgent-alert:(\d+):")


class Mailbox:
    """aiosmtpd handler: the arrival time of every email, by its Message-ID."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[tuple[str, float]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        at = time.perf_counter()
        found = re.search(rb"^Message-ID:\s*(\S+)", envelope.content, re.MULTILINE | re.IGNORECASE)
        with self.lock:
            self.arrivals.append((found.group(1).decode() if found else "", at))
        return "250 OK"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:  # noqa: C901, PLR0915
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="SMS per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--urgent-every", type=int, default=10, help="one urgent SMS in this many")
    parser.add_argument("--serve", type=int, default=1, help="serve processes (requests spread over them)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--interval", type=float, default=None, help="worker --interval (default: its own)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the last alert")
    args = parser.parse_args()
    import dev
    import httpx
    from aiosmtpd.controller import Controller
    from twilio.request_validator import RequestValidator

    from tests.support.server import free_port
    from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi

    bindir = dev._pg_bindir()
    if bindir is None:
        print("no PostgreSQL here; run `python3 dev.py test` once to install it", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="samleng-bench-alerts-"))
    cluster = dev.ThrowawayPostgres(bindir, durable=True)
    admin_url = cluster.start()
    procs: list[subprocess.Popen] = []
    twilio = FakeTwilioApi()
    twilio.start()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    failed = False
    try:
        from sqlalchemy import create_engine, text

        name = f"samleng_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        ports = [free_port() for _ in range(args.serve)]
        public = f"http://127.0.0.1:{ports[0]}"  # the proxy's address: every serve checks signatures over it
        env = {**os.environ, **KEYS, "SAMLENG_ENV": "development", "SAMLENG_DATABASE_URL": url,
               "SAMLENG_VAR_DIR": str(work / "var"), "SAMLENG_SPOOL_DIR": str(work / "spool"),
               "SAMLENG_EVIDENCE_DIR": str(work / "evidence"), "SAMLENG_PUBLIC_URL": public,
               "SAMLENG_LOG_LEVEL": "WARNING", "SAMLENG_SMS_DRIVER": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": "+85523000000", "TWILIO_API_BASE": twilio.base_url,
               "SAMLENG_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "SAMLENG_MAIL_FROM": "samleng@bench.test",
               "SAMLENG_DEV_OUTBOX": "false",  # development would keep messages in the dev outbox
               "PYTHONPATH": str(ROOT)}
        cli = [sys.executable, "-m", "service.cli"]  # this checkout's code, not an installed script
        say("migrating and loading the demo organisations (a minute or two)")
        subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run([*cli, "demo"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=1200)
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
        procs += [subprocess.Popen([*cli, *worker_args], env={**env, "SAMLENG_LOG_LEVEL": "INFO"}, cwd=ROOT,
                                   stdout=wlog, stderr=subprocess.STDOUT)
                  for _ in range(args.workers)]
        time.sleep(5)  # the workers load the triage model before their first pass

        validator = RequestValidator(AUTH_TOKEN)
        local = threading.local()
        total = int(args.rate * args.seconds)
        acked: dict[str, float] = {}
        answer_times: list[float] = []
        refused: list[int] = []
        lock = threading.Lock()

        def send(i: int, at: float) -> None:
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(timeout=60)
            marker = "zb" + "".join(chr(ord("a") + int(d)) for d in f"{i:06d}") + "q"  # letters: ids are masked
            urgent = i % args.urgent_every == 0
            params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": f"+8551{i:08d}",
                      "To": "+85523000000", "Body": (URGENT if urgent else PLAIN).format(m=marker), "NumMedia": "0"}
            headers = {"X-Twilio-Signature": validator.compute_signature(public + "/webhooks/twilio/sms", params),
                       "Content-Type": "application/x-www-form-urlencoded"}
            started = time.perf_counter()
            try:
                status = client.post(f"http://127.0.0.1:{ports[i % len(ports)]}/webhooks/twilio/sms",
                                     content=urlencode(params), headers=headers).status_code
            except httpx.HTTPError:
                status = 0
            done = time.perf_counter()
            with lock:
                answer_times.append(done - started)
                if status != 200:
                    refused.append(status)
                elif urgent:
                    acked[marker] = done

        say(f"sending {total} SMS at {args.rate:.0f}/s for {args.seconds:.0f} s, one in {args.urgent_every} urgent, "
            f"to {args.serve} serve process(es); {args.workers} worker(s)")
        start = time.perf_counter() + 0.5
        with ThreadPoolExecutor(96) as pool:
            for i in range(total):
                pool.submit(send, i, start + i / args.rate)
        sent_span = time.perf_counter() - start
        say(f"sent in {sent_span:.1f} s ({total / sent_span:.0f}/s); {len(refused)} refused {sorted(set(refused))}")
        failed |= bool(refused)

        def report_ids() -> dict[str, int]:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT id, narrative_masked FROM report WHERE id > :b AND urgency = 'urgent'"),
                                    {"b": before}).all()
            out = {}
            for rid, narrative in rows:
                found = re.search(r"zb[a-j]{6}q", narrative)
                if found:
                    out[found.group(0)] = rid
            return out

        deadline = time.monotonic() + args.timeout
        while True:
            ids = report_ids()
            with mailbox.lock:
                alerted = {int(m.group(1)) for mid, _ in mailbox.arrivals if (m := MESSAGE_ID.search(mid))}
            missing = [m for m in acked if ids.get(m) not in alerted]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with mailbox.lock:
            first: dict[int, float] = {}
            for mid, at in mailbox.arrivals:
                m = MESSAGE_ID.search(mid)
                if m:
                    first[int(m.group(1))] = min(at, first.get(int(m.group(1)), at))
        latencies = [first[ids[m]] - at for m, at in acked.items() if m in ids and ids[m] in first]
        failed |= bool(missing)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM report WHERE id > :b"), {"b": before}).scalar()
        say(f"{stored} reports stored of {total - len(refused)} acknowledged; "
            f"{len(latencies)} of {len(acked)} urgent reports alerted" + (f"; {len(missing)} MISSING" if missing else ""))
        if latencies:
            say(f"arrival -> urgent alert email: p50 {percentile(latencies, 50):.2f} s, p95 {percentile(latencies, 95):.2f} s, "
                f"p99 {percentile(latencies, 99):.2f} s, max {max(latencies):.2f} s, mean {statistics.mean(latencies):.2f} s")
        with engine.connect() as conn:
            kinds = conn.execute(text("SELECT kind, status, count(*) FROM outbound_message GROUP BY kind, status "
                                      "ORDER BY kind, status")).all()
            routed = conn.execute(text("SELECT count(*) FROM report_route WHERE report_id > :b"), {"b": before}).scalar()
        say(f"routed {routed} of {stored}; outbox: " + ", ".join(f"{k}/{st} {n}" for k, st, n in kinds))
        say(f"webhook answer time: p50 {percentile(answer_times, 50) * 1000:.0f} ms, "
            f"p99 {percentile(answer_times, 99) * 1000:.0f} ms")
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
        cluster.stop()
        asyncio.set_event_loop(None)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
