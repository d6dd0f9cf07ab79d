"""Benchmark: the dashboard's chart queries on a million-case database, SQLite and PostgreSQL.

    .venv/bin/python bench/dashboard.py --cases 1000000 [--backends sqlite,postgresql] [--repeat 15]

Builds a fresh database per backend with bench/make_cases.py (the review queue's generator:
two years, realistic mixes of category, urgency, channel, population, status, handling
times, and escalations to grievance bodies up the ladder), then times every chart query of
the dashboard and every body metric (escalations by body and level, answered within the
deadline, median hours to the body's answer: all places, one province, one district's
scorecard) for the default 12-month window, and `SELECT count(*) FROM report` on the same
table in the same run as the baseline. Prints p50/p95 per query and the ratio p95 / baseline p95.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

os.environ.setdefault("SAMLENG_VAR_DIR", tempfile.mkdtemp(prefix="samleng-bench-var-"))


def _queries(session: Session, filters, province_id: int, district_id: int) -> dict:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from service.analytics import escalations as esc, queries as q

    in_province = replace(filters, place_id=province_id)
    in_district = replace(filters, place_id=district_id)
    return {
        "over_time_by_category (month)": lambda: q.reports_over_time(session, by="category", period="month", filters=filters),
        "over_time_by_urgency (week)": lambda: q.reports_over_time(session, by="urgency", period="week", filters=filters),
        "by_channel": lambda: q.counts_by(session, by="channel", filters=filters),
        "by_population": lambda: q.counts_by(session, by="population", filters=filters),
        "by_place (provinces)": lambda: q.by_place(session, filters=filters),
        "by_place (drill-down into a province)": lambda: q.by_place(session, parent_id=province_id, filters=filters),
        "open_vs_resolved (month)": lambda: q.open_vs_resolved(session, period="month", filters=filters),
        "time_to_first_response": lambda: q.time_to_first_response(session, filters=filters),
        "time_to_resolution": lambda: q.time_to_resolution(session, filters=filters),
        "satisfaction": lambda: q.satisfaction(session, filters=filters),
        "deadline_compliance": lambda: q.deadline_compliance(session, filters=filters),
        "active_clusters": lambda: q.active_clusters(session, filters=filters),
        "body: escalations by body and level": lambda: esc.by_body_and_level(session, filters),
        "body: answered within the deadline": lambda: esc.answered_on_time(session, filters),
        "body: median hours to the answer": lambda: esc.median_hours_to_answer(session, filters),
        "body: all three, one province": lambda: q.body_metrics(session, filters=in_province),
        "body: all three, district scorecard (table)": lambda: q.body_metrics(session, filters=in_district),
    }


def _time(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    fn()  # warm the cache once, as a dashboard in use would be
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def run_backend(url: str, cases: int, repeat: int) -> list[tuple[str, float, float, float, float]]:
    import importlib.util

    from service.analytics import publish, queries as q

    spec = importlib.util.spec_from_file_location("make_cases", ROOT / "bench" / "make_cases.py")
    make_cases = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["make_cases"] = make_cases  # its worker processes' functions are pickled by module name
    spec.loader.exec_module(make_cases)  # type: ignore[union-attr]
    started = time.perf_counter()
    make_cases.build(url, cases)  # migrates, loads, rebuilds the indexes and ANALYZEs
    engine = create_engine(url)
    with engine.connect() as conn:
        n_esc = conn.execute(text("SELECT count(*) FROM escalation")).scalar_one()
    print(f"  loaded {cases} cases, {n_esc} escalations in {time.perf_counter() - started:.0f} s", flush=True)
    from service.analytics import rollup

    rows = []
    with Session(engine) as session:
        since, until = publish.default_window()
        filters = q.Filters(since, until)
        tree = q.place_tree(session)
        province = next(p for p in tree.provinces() if p.code == "KH-12")
        district = next(p for p in tree.children[province.id] if p.kind == "od")
        base = _time(lambda: session.execute(text("SELECT count(*) FROM report")).scalar_one(), repeat)
        rows.append(["baseline: SELECT count(*) FROM report", statistics.median(base), p95(base), 0.0, 0.0])
        table_path = {}
        for name, fn in _queries(session, filters, province.id, district.id).items():
            samples = _time(fn, repeat)
            table_path[name] = (statistics.median(samples), p95(samples))
        session.commit()
        started = time.perf_counter()
        rollup.rebuild(session)
        session.commit()
        build = time.perf_counter() - started
        n_rollup = session.execute(text("SELECT count(*) FROM report_rollup")).scalar_one()
        print(f"  rollup built in {build:.1f} s ({n_rollup} rows)", flush=True)
        started = time.perf_counter()
        rollup.refresh(session)  # nothing changed: the cost of the per-minute check
        session.commit()
        print(f"  incremental refresh with nothing changed: {(time.perf_counter() - started) * 1000:.0f} ms")
        for name, fn in _queries(session, filters, province.id, district.id).items():
            samples = _time(fn, repeat)
            rows.append([name, *table_path[name], statistics.median(samples), p95(samples)])
        base = _time(lambda: session.execute(text("SELECT count(*) FROM report")).scalar_one(), repeat)
        rows[0][3:] = [statistics.median(base), p95(base)]
    engine.dispose()
    return rows  # type: ignore[return-value]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        cluster = None
        scratch = None
        if backend == "sqlite":
            scratch = tempfile.mkdtemp(prefix="samleng-bench-")
            url = f"sqlite:///{scratch}/bench.db"
        else:
            sys.path.insert(0, str(ROOT))
            from dev import ThrowawayPostgres, _pg_bindir

            bindir = _pg_bindir()
            if bindir is None:
                print("no PostgreSQL here; skipping")
                continue
            cluster = ThrowawayPostgres(bindir, durable=True)
            url = cluster.start()
        print(f"== {backend}, {args.cases} cases, {args.repeat} runs each", flush=True)
        try:
            rows = run_backend(url, args.cases, args.repeat)
        finally:
            if cluster is not None:
                cluster.stop()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        base_p95 = rows[0][2]
        print(f"| {backend}: chart query | report table p50 / p95 ms | rollup p50 / p95 ms | rollup p95 / count(*) p95 |")
        print("| --- | ---: | ---: | ---: |")
        for name, p50, p95_, r50, r95 in rows:
            print(f"| {name} | {p50:.1f} / {p95_:.1f} | {r50:.1f} / {r95:.1f} | {r95 / base_p95:.2f} |")
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
