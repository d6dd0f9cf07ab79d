#!/usr/bin/env python3
"""Time from a report's arrival to its urgent alert email, in the running system.

A real deployment on loopback (tests/support/e2e.py): `samleng migrate` and `samleng demo`,
then `samleng serve` and `samleng worker` as their own OS processes (the worker at its
production interval, 2 s, unless told otherwise), Twilio faked at the network edge and a real
aiosmtpd server receiving the alert emails. Signed SMS webhooks arrive at a steady rate (5
reports/s by default), each from its own phone number, a share of them urgent; texts are the
labelled messages of service/triage/data (train.jsonl and the voices), so the triage model
sees realistic words in four languages.

For every report that triage made urgent, the latency is the time from just before its
webhook was sent to the first alert email about its case reaching the SMTP server (the
email links to /cases/<id>; the report is matched to its sender through the reporter's
pseudonym, computed with the app's own function). Printed: count, p50, p90, p99, max, and
urgent reports whose alert never came.

    .venv/bin/python bench/triage_alert_latency.py                     # SQLite, 5/s for 60 s
    .venv/bin/python bench/triage_alert_latency.py --backend postgresql \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:58237/postgres
    .venv/bin/python bench/triage_alert_latency.py --rate 5 --seconds 120 --urgent-share 0.5
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.e2e import Deployment, fresh_database, mail_text  # noqa: E402

CASE_LINK = re.compile(r"/cases/(\d+)")


def texts(urgent: bool, seed: int) -> list[str]:
    """Labelled messages of one kind (urgent or not), shuffled."""
    data = ROOT / "service" / "triage" / "data"
    rows = []
    for path in [data / "train.jsonl", *sorted((data / "voices").glob("*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if (row["urgency"] == "urgent") == urgent and len(row["text"]) <= 1400:  # one SMS body
                    rows.append(row["text"])
    random.Random(seed).shuffle(rows)
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(args: argparse.Namespace, backend: str, workdir: Path) -> int:
    if backend == "postgresql":
        os.environ["SAMLENG_TEST_POSTGRES_URL"] = args.database_url
    with fresh_database(backend, workdir) as url:
        deployment = Deployment(backend, url, workdir)
        arrived: dict[str, float] = {}  # first receipt time of an alert email, by case id
        mailbox = deployment.smtp.mailbox
        original = mailbox.handle_DATA

        async def timed(server, session, envelope):  # type: ignore[no-untyped-def]
            received = time.time()
            answer = await original(server, session, envelope)
            # The body is encoded (base64 for the Khmer part): read it as a mail client would.
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            found = CASE_LINK.search(mail_text(message))
            if found:
                arrived.setdefault(found.group(1), received)
            return answer

        mailbox.handle_DATA = timed  # aiosmtpd looks the hook up on each new connection
        try:
            deployment.migrate()
            deployment.cli("demo", timeout=900)  # trains the model in a fresh var dir: slow on a loaded machine
            deployment.start_serve(SAMLENG_REPORTS_PER_HOUR="1000000")
            deployment.start_worker(interval=args.worker_interval)
            # The worker loads the model (and the sentence encoder) before its first pass: one
            # report first, not timed, until it is triaged.
            deployment.phone("+85516999999").text("hello, is this the complaints line?")
            deployment.wait(lambda: deployment.scalar("SELECT count(*) FROM report WHERE status = 'received'") == 0,
                            "the worker's first pass", timeout=300)
            total = int(args.rate * args.seconds)
            rng = random.Random(args.seed)
            urgent_pool, other_pool = texts(True, args.seed), texts(False, args.seed)
            plan = []
            for i in range(total):
                pool = urgent_pool if rng.random() < args.urgent_share else other_pool
                plan.append((f"+85516{i:06d}", pool[i % len(pool)]))
            sent: dict[str, float] = {}
            errors: list[str] = []

            def send(number: str, body: str) -> None:
                phone = deployment.phone(number)
                sent[number] = time.time()
                try:
                    phone.text(body)
                except Exception as exc:  # noqa: BLE001 - counted and printed
                    errors.append(f"{number}: {exc}")

            print(f"[{backend}] sending {total} reports at {args.rate}/s "
                  f"(worker interval {args.worker_interval}s, urgent share {args.urgent_share})", flush=True)
            start = time.monotonic()
            with ThreadPoolExecutor(max_workers=16) as pool:
                for i, (number, body) in enumerate(plan):
                    delay = start + i / args.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(send, number, body)
            send_seconds = time.monotonic() - start
            print(f"[{backend}] sent in {send_seconds:.1f}s; {len(errors)} webhook errors", flush=True)

            # Which reports did triage make urgent, and from whom? (pseudonym -> phone number)
            os.environ.update(deployment.env)
            from service.config import get_settings
            from service.kit.crypto import pseudonym

            get_settings.cache_clear()
            by_pseudonym = {pseudonym("sms", number): number for number, _ in plan}

            def urgent_reports() -> dict[str, str]:
                rows = deployment.rows(
                    "SELECT report.id, reporter.pseudonym FROM report JOIN reporter ON reporter.id = report.reporter_id "
                    "WHERE report.urgency = 'urgent'")
                return {str(r[0]): by_pseudonym[r[1]] for r in rows if r[1] in by_pseudonym}

            def untriaged() -> int:
                return int(deployment.scalar("SELECT count(*) FROM report WHERE status = 'received'") or 0)

            deadline = time.monotonic() + args.drain
            while time.monotonic() < deadline:
                urgent = urgent_reports()
                if not untriaged() and all(case in arrived for case in urgent):
                    break
                time.sleep(0.5)
            urgent = urgent_reports()
            latencies = [arrived[case] - sent[number] for case, number in urgent.items() if case in arrived]
            missing = [case for case in urgent if case not in arrived]
            print(f"[{backend}] {len(urgent)} reports triaged urgent, {len(latencies)} alerted, "
                  f"{len(missing)} without an alert after {args.drain:.0f}s; {untriaged()} still untriaged")
            if latencies:
                print(f"[{backend}] arrival -> first urgent alert email: p50 {percentile(latencies, 0.5):.2f}s "
                      f"p90 {percentile(latencies, 0.9):.2f}s p99 {percentile(latencies, 0.99):.2f}s "
                      f"max {max(latencies):.2f}s (n={len(latencies)})")
            try:
                print(f"[{backend}] load average during the run: {os.getloadavg()}")
            except OSError:
                pass
            if missing:
                print(deployment.rows("SELECT id, status, org_id, urgency FROM report WHERE id IN ("
                                      + ",".join(missing[:5]) + ")"))
                print(deployment.rows("SELECT kind, status, count(*) FROM outbound_message GROUP BY kind, status"))
            if "Traceback" in deployment.logs() or missing:
                print(deployment.logs()[-4000:])
            return 0 if latencies and not missing and not errors else 1
        finally:
            deployment.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default=os.environ.get("SAMLENG_TEST_POSTGRES_URL", ""),
                        help="PostgreSQL admin URL (a fresh database is created there and dropped)")
    parser.add_argument("--rate", type=float, default=5.0, help="reports per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--urgent-share", type=float, default=0.3)
    parser.add_argument("--worker-interval", type=float, default=2.0, help="the worker's pause between passes")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the last alerts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="samleng-alert-latency-") as tmp:
        return run(args, args.backend, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
