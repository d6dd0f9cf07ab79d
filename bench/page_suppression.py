"""The public page's suppression with and without its whole-page attacker check, on a loaded database.

    SAMLENG_DATABASE_URL=sqlite:///var/demo.db python -m bench.page_suppression [--rounds 5]

Loads the public page's raw tables once per window (the default 12-month window and each
province's page), then times `publish.public_tables` as shipped and with the page check turned
off (`suppression.page_disclosed` answering "nothing"), interleaved, and reports the median, the
integer programs solved and the cells hidden; then times one Open311 requests call.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlmodel import Session

from service.analytics import publish, queries as q, suppression
from service.db import get_engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    engine = get_engine()
    with Session(engine) as session:
        since, until = publish.default_window()
        page = publish.public_raw(session, filters=q.Filters(since, until))
    solves: list[int] = []
    real_check = suppression.PageCheck.pinned

    def counting(self):  # type: ignore[no-untyped-def]
        out = real_check(self)
        solves.append(self.solves)
        return out

    timings: dict[str, list[float]] = {"with check": [], "without": []}
    hidden: dict[str, int] = {}
    for _ in range(args.rounds):
        for name in ("with check", "without"):
            orig = publish.page_disclosed
            if name == "without":
                publish.page_disclosed = lambda *_a, **_k: []  # type: ignore[assignment]
            else:
                suppression.PageCheck.pinned = counting  # type: ignore[method-assign]
            solves.clear()
            start = time.perf_counter()
            pubs = publish.public_tables(page.raw)
            timings[name].append(time.perf_counter() - start)
            publish.page_disclosed = orig  # type: ignore[assignment]
            suppression.PageCheck.pinned = real_check  # type: ignore[method-assign]
            hidden[name] = sum(len(p.hidden) for p in pubs.values())
            if name == "with check":
                checks, programs = len(solves), sum(solves)
    cells = sum((len(rows) + 1) * (len(cols) + 1) for _t, rows, cols in page.raw.values())
    print(f"page: {len(page.raw)} tables, {cells} published cells (totals included)")
    for name, values in timings.items():
        print(f"{name:>10}: median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms "
              f"over {len(values)} rounds; hidden cells {hidden[name]}")
    print(f"page checks per suppression: {checks}, integer programs solved: {programs}")
    # The Open311 feed as the route calls it (the last 90 days, whole months): it suppresses the page twice.
    from datetime import timedelta

    from service.analytics import open311
    from service.kit.clock import now

    feed: list[float] = []
    for _ in range(args.rounds):
        since, until = open311.month_window(now() - timedelta(days=90), None)
        with Session(engine) as session:
            start = time.perf_counter()
            listed = open311.requests(session, filters=q.Filters(since, until), limit=1000)
            feed.append(time.perf_counter() - start)
    print(f"open311 requests (90 days): median {statistics.median(feed) * 1000:.0f} ms, {len(listed)} listed")


if __name__ == "__main__":
    main()
