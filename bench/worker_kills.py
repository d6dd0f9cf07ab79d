#!/usr/bin/env python3
"""How many outbox messages go out twice when a worker is killed outright (SIGKILL) mid-batch.

    .venv/bin/python bench/worker_kills.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/worker_kills.py --database-url sqlite:////tmp/kills.db --kills 5

Creates (and afterwards drops) a fresh migrated database, queues `--messages` signed
webhooks to a local receiver on 127.0.0.1 that answers in `--delay` seconds and counts every
request by `webhook-id`, then starts `python -m service.cli worker` (this checkout) and
SIGKILLs it at a random moment while it delivers, `--kills` times, each time starting a new
one (lease 1 s, so the dead worker's claims lapse quickly). A last worker finishes the queue.
Prints messages delivered twice per kill.

`--channel sms` queues SMS to `--messages` made-up numbers instead, sent through the real
`twilio` library to the local fake Twilio API (tests/support/twilio_fake.py), and counts the
messages Twilio created per number: there a worker that finds a row marked "sending" asks
Twilio's Messages list before sending again. Webhooks (and Telegram, email) cannot be asked:
they go again with the same key, which a receiver that honours `webhook-id` drops.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.outbox import KEYS  # noqa: E402  (the same development keys as the outbox benchmark)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="an admin URL (PostgreSQL) or a sqlite:/// file")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--channel", choices=("webhook", "sms"), default="webhook")
    args = parser.parse_args()
    # The local receiver is on 127.0.0.1, which webhooks refuse unless allowed.
    os.environ.update({**KEYS, "SAMLENG_ENV": "development", "SAMLENG_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"})
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    work = Path(tempfile.mkdtemp(prefix="samleng-kills-"))
    url, admin = args.database_url, None
    if make_url(url).get_backend_name() == "postgresql":
        name = f"samleng_kills_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(url).set(database=name).render_as_string(hide_password=False)
    twilio = None
    if args.channel == "sms":
        from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi

        twilio = FakeTwilioApi()
        twilio.start()
        delay = args.delay

        def slow(_form: dict[str, str]) -> None:  # Twilio has it; the answer takes `delay`
            time.sleep(delay)

        twilio.on_create = slow
        os.environ.update({"SAMLENG_SMS_DRIVER": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                           "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": "+85523000000",
                           "TWILIO_API_BASE": twilio.base_url})
    env = {**os.environ, "SAMLENG_DATABASE_URL": url, "SAMLENG_VAR_DIR": str(work / "var"),
           "SAMLENG_SPOOL_DIR": str(work / "spool"), "SAMLENG_LOG_LEVEL": "ERROR", "PYTHONPATH": str(ROOT),
           "SAMLENG_OUTBOX_LEASE_SECONDS": "1"}
    cli = [sys.executable, "-m", "service.cli"]
    subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    os.environ["SAMLENG_DATABASE_URL"] = url
    from sqlmodel import Session

    import bots.telegram.models  # noqa: F401  (the Telegram adapter's tables)
    import service.models  # noqa: F401  (every table, for the foreign keys)
    from service.bodies.service import upsert_body, webhook_secret
    from service.config import get_settings
    from service.db import build_engine
    from service.outbox.service import enqueue_message, enqueue_to_body
    from tests.support.receiver import WebhookReceiver

    get_settings.cache_clear()
    engine = build_engine(get_settings())
    receiver = WebhookReceiver(delay=args.delay)
    try:
        with Session(engine) as s:
            body = upsert_body(s, slug="kills", name_en="Kills", level="national", webhook_url=receiver.url)
            receiver.secret = webhook_secret(body) or ""
            for i in range(args.messages):
                if twilio is not None:
                    enqueue_message(s, channel="sms", to=f"+8551{i:07d}", body=f"Update {i} on your report")
                    continue
                enqueue_to_body(s, body_id=body.id, kind="webhook", dedupe_key=f"kill-{i:05d}",  # type: ignore[arg-type]
                                payload={"type": "case.escalated", "data": {"n": i}})
            s.commit()

        def raw() -> int:  # every delivery, repeats included
            return len(twilio.created) if twilio is not None else len(receiver.raw)

        def distinct() -> int:  # messages delivered at least once
            return len({f["To"] for f in twilio.created}) if twilio is not None else len(receiver.processed)
        rng = random.Random(14)
        kills = 0
        for _ in range(args.kills):
            proc = subprocess.Popen([*cli, "worker", "--interval", "0.05"], env=env, cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            start = raw()
            deadline = time.monotonic() + 120
            while raw() == start and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.2, 1.5))
            done = distinct() >= args.messages
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            if done:
                break
            kills += 1
        proc = subprocess.Popen([*cli, "worker", "--interval", "0.05"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 900  # a loaded machine: the worker's start-up alone can take a minute
        while distinct() < args.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
        twice = raw() - distinct()
        print(f"[kills] {make_url(url).get_backend_name()} {args.channel}: {distinct()}/{args.messages} delivered, "
              f"{kills} SIGKILLs mid-batch, {twice} delivered twice ({twice / max(kills, 1):.2f} per kill, "
              f"{twice / args.messages:.2%} of messages)")
        return 0 if distinct() == args.messages else 1
    finally:
        receiver.stop()
        if twilio is not None:
            twilio.stop()
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
