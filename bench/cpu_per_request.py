#!/usr/bin/env python3
"""CPU per request of the review queue's busiest pages, measured in process (load-independent).

    .venv/bin/python bench/cpu_per_request.py --url sqlite:////tmp/cases.db [--n 2000] [--profile json]

The whole app (every middleware, routing, dependencies, the reader threads, the templates) is built
by `create_app` with its lifespan (the writer thread), and driven through ASGI directly: no socket,
no server. For each page the process's CPU time (`time.process_time`: every thread of the process)
is taken over `--n` requests, `--concurrency` of them in flight at once (32 = what `wrk -c32` puts
on one `samleng serve`), and divided by `--n`. On a shared, loaded machine this figure stays put
where wall-clock latencies do not: it is what one request costs the one core the GIL gives a
process, and so what bounds the rate and the p95 under 32 handlers.

Pages: HTML first page `/` (session cookie), JSON first page `/api/v1/cases` (bearer token), the
case page `/cases/{id}` (fifty open cases of the handler in turn; each view writes its audit entry,
so use a COPY of the database), and `/healthz` (the bare endpoint). `--profile PAGE` prints the
cProfile of that page's calls (the main thread only: the reader threads' work shows as waits).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import cProfile
import os
import pstats
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


async def call(app, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """One GET through the ASGI app; the status code."""
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
             "query_string": query.encode(), "root_path": "", "headers": [(b"host", b"127.0.0.1"), *headers],
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {}}
    status = 0
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(app, paths: list[str], headers, n: int, concurrency: int) -> tuple[float, float, dict[int, int]]:
    """CPU ms and wall ms per request over n requests, `concurrency` at once; the status codes seen."""
    statuses: dict[int, int] = {}
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            code = await call(app, paths[i % len(paths)], headers)
            statuses[code] = statuses.get(code, 0) + 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - cpu) * 1000 / n, (time.perf_counter() - wall) * 1000 / n, statuses


async def main(args: argparse.Namespace) -> int:
    os.environ["SAMLENG_DATABASE_URL"] = args.url
    from review_queue import case_ids, sample_ids, tokens  # the load test's own helpers

    from service.app import create_app
    from service.ops.logs import quiet_libraries

    quiet_libraries()
    tok = tokens(args.url)
    org = sample_ids(args.url)["org"]
    cases = case_ids(args.url, org)
    web = [(b"cookie", f"__Host-samleng={tok['web']}".encode())]
    bearer = [(b"authorization", f"Bearer {tok['handler']}".encode())]
    pages = {"html": (["/"], web), "json": (["/api/v1/cases"], bearer),
             "case": ([f"/cases/{c}" for c in cases], web), "healthz": (["/healthz"], [])}
    chosen = args.pages.split(",")
    app = create_app()
    async with app.router.lifespan_context(app):
        for name in chosen:
            paths, headers = pages[name]
            await measure(app, paths, headers, min(200, args.n), args.concurrency)  # warm: caches, pools, plans
            rounds = []
            for _ in range(args.rounds):
                rounds.append(await measure(app, paths, headers, args.n, args.concurrency))
            cpus = sorted(r[0] for r in rounds)
            print(f"{name:8} CPU ms/request: min {cpus[0]:.3f} median {cpus[len(cpus) // 2]:.3f} "
                  f"(wall {rounds[-1][1]:.3f} ms at {args.concurrency} in flight; statuses {rounds[-1][2]})",
                  flush=True)
            if args.profile == name:
                prof = cProfile.Profile()
                prof.enable()
                await measure(app, paths, headers, args.n, args.concurrency)
                prof.disable()
                pstats.Stats(prof).sort_stats("tottime").print_stats(35)
                pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pages", default="html,json,case,healthz")
    parser.add_argument("--profile", default=None)
    sys.exit(asyncio.run(main(parser.parse_args())))
