"""A scorecard's suppression: its figures together with the whole-page check, against table by table.

    SAMLENG_DATABASE_URL=sqlite:///var/demo.db python -m bench.scorecard_suppression [--rounds 5]

For every province (and the districts of the busiest one), loads the scorecard's raw tables for the
last 3 months once, then times `publish.scorecard_tables` (every figure together, the page check
included) and the former table-by-table `suppression.suppress`, interleaved; reports the medians
over all cards and how many more cells the whole-page suppression hides.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlmodel import Session

from service.analytics import publish, queries as q
from service.analytics.suppression import suppress
from service.db import get_engine


def _raw(session: Session, place_id: int, filters: q.Filters) -> tuple[dict, list[str], list[str]]:  # type: ignore[type-arg]
    scoped = q.Filters(filters.since, filters.until, place_id)
    cats = q.counts_by(session, by="category", filters=scoped)
    top = [v for v, _n in sorted(cats.items(), key=lambda kv: -kv[1])]
    trend = q.reports_over_time(session, by="category", period="month", filters=scoped)
    first = q.time_to_first_response(session, filters=scoped)
    resolution = q.time_to_resolution(session, filters=scoped)
    raw = {"top": ([[cats[v]] for v in top], top, ["Reports"]),
           "trend": (trend.table(), list(trend.values), list(trend.periods)),
           "timing": ([list(first.buckets.values()), list(resolution.buckets.values())], ["first", "resolution"],
                      list(first.buckets))}
    return raw, top, list(trend.values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with Session(get_engine()) as session:
        filters = q.Filters(*publish.default_window(months=3))
        tree = q.place_tree(session)
        places = [p.place for p in q.by_place(session, filters=filters) if p.place]
        busiest = max(q.by_place(session, filters=filters), key=lambda p: p.total).place
        if busiest is not None:
            places += [p.place for p in q.by_place(session, parent_id=busiest.id, filters=filters) if p.place]
        cards = [_raw(session, p.id, filters) for p in places]
        cards = [c for c in cards if sum(row[0] for row in c[0]["top"][0])]  # cards with reports only
    del tree
    for raw, top, trend in cards[:1]:  # warm up: the first page check imports scipy
        publish.scorecard_tables(raw, top, trend)
    together: list[float] = []
    alone: list[float] = []
    more = 0
    for r in range(args.rounds):
        for raw, top, trend in cards:
            start = time.perf_counter()
            pubs = publish.scorecard_tables(raw, top, trend)
            together.append(time.perf_counter() - start)
            start = time.perf_counter()
            single = {k: suppress(tab, row_labels=rows, col_labels=cols, threshold=publish.threshold())
                      for k, (tab, rows, cols) in raw.items()}
            alone.append(time.perf_counter() - start)
            if r == 0:
                more += sum(len(p.hidden) for p in pubs.values()) - sum(len(p.hidden) for p in single.values())
    print(f"cards with reports: {len(cards)} (provinces and the busiest province's districts), rounds: {args.rounds}")
    print(f"together (page check): median {statistics.median(together) * 1000:.1f} ms, "
          f"max {max(together) * 1000:.1f} ms, all cards once {sum(together) / args.rounds * 1000:.0f} ms")
    print(f"table by table:        median {statistics.median(alone) * 1000:.1f} ms, max {max(alone) * 1000:.1f} ms, "
          f"all cards once {sum(alone) / args.rounds * 1000:.0f} ms")
    print(f"cells hidden in addition, over all cards: {more}")


if __name__ == "__main__":
    main()
