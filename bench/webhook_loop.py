#!/usr/bin/env python3
"""The SMS webhook's event-loop CPU per request, in process, full app against the bare app.

Calls the ASGI apps directly (no sockets, no uvicorn: that part is the same for both) with
signed Twilio webhooks, each a new report from a new number, `--concurrency` at a time, and
prints the event-loop thread's CPU time per request (`time.thread_time`, which hardly moves
when other jobs share the machine). The writer thread's work is not counted (see
bench/writer_path.py for that). `--cprofile` adds a profile of the event-loop thread.

    .venv/bin/python bench/webhook_loop.py                 # fresh SQLite file
    .venv/bin/python bench/webhook_loop.py --cprofile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sms_intake import AUTH_TOKEN, SMS_PATH, RequestFactory  # noqa: E402

PUBLIC_URL = "http://127.0.0.1:8000"


def scope_for(body: bytes, signature: str) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "POST", "scheme": "http", "path": SMS_PATH, "raw_path": SMS_PATH.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode()), (b"x-twilio-signature", signature.encode())],
    }


async def call(app, body: bytes, signature: str) -> int:  # type: ignore[no-untyped-def]
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    status = 0

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_for(body, signature), receive, send)
    return status


async def drive(app, requests: list[tuple[bytes, str]], concurrency: int) -> None:  # type: ignore[no-untyped-def]
    it = iter(requests)

    async def worker() -> None:
        for body, signature in it:
            status = await call(app, body, signature)
            if status != 200:
                raise RuntimeError(f"status {status}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(name: str, app, factory: RequestFactory, n: int, concurrency: int,  # type: ignore[no-untyped-def]
                  profile: cProfile.Profile | None) -> float:
    await drive(app, [make(factory) for _ in range(200)], concurrency)  # warm up
    requests = [make(factory) for _ in range(n)]
    if profile:
        profile.enable()
    cpu, wall = time.thread_time(), time.perf_counter()
    await drive(app, requests, concurrency)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    if profile:
        profile.disable()
    print(f"  {name:>5}: {1000 * cpu / n:6.3f} ms event-loop CPU/request  ({n / wall:6.0f} req/s in process)")
    return cpu / n


def make(factory: RequestFactory) -> tuple[bytes, str]:
    signature, body = factory.signed(PUBLIC_URL, factory.params(factory.new_sender()))
    return body.encode(), signature


async def lifespan(app, coro):  # type: ignore[no-untyped-def]
    async with app.router.lifespan_context(app):
        return await coro


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="samleng-webhook-loop-"))
    try:
        url = f"sqlite:///{work / 'samleng.db'}"
        os.environ.update({
            "SAMLENG_ENV": "development", "SAMLENG_DATABASE_URL": url, "SAMLENG_VAR_DIR": str(work / "var"),
            "SAMLENG_SPOOL_DIR": str(work / "spool"), "SAMLENG_REPORTS_PER_HOUR": "1000000",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "SAMLENG_PUBLIC_URL": PUBLIC_URL, "SAMLENG_LOG_LEVEL": "WARNING",
        })
        from bench import bare_app
        from service.app import create_app
        from service.config import get_settings
        from service.migrate import upgrade
        from service.ops.logs import configure_logging

        settings = get_settings()
        configure_logging(settings.log_level)
        upgrade(url)
        full = create_app(settings)
        factory = RequestFactory()
        profile = cProfile.Profile() if args.cprofile else None

        async def run() -> None:
            results: dict[str, list[float]] = {"bare": [], "full": []}
            for _ in range(args.rounds):
                results["bare"].append(await measure("bare", bare_app.app, factory, args.requests, args.concurrency, None))
                results["full"].append(await measure("full", full, factory, args.requests, args.concurrency, profile))
            med = {k: sorted(v)[len(v) // 2] for k, v in results.items()}
            print(f"median: full {1000 * med['full']:.3f} ms, bare {1000 * med['bare']:.3f} ms, "
                  f"full minus bare {1000 * (med['full'] - med['bare']):.3f} ms event-loop CPU/request")

        asyncio.run(lifespan(full, run()))
        if profile:
            stats = pstats.Stats(profile)
            stats.sort_stats("tottime").print_stats(35)
            stats.sort_stats("cumulative").print_stats(r"service/|bots/|starlette|fastapi", 40)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
