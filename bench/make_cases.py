#!/usr/bin/env python3
"""A realistic million-case database for the review-queue and dashboard benchmarks (SQLite or PostgreSQL).

    .venv/bin/python bench/make_cases.py --url sqlite:////tmp/cases.db             # 1,000,000 cases
    .venv/bin/python bench/make_cases.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/make_cases.py --url sqlite:////tmp/small.db --cases 50000
    .venv/bin/python bench/make_cases.py --url ... --baseline   # also time a plain COPY/insert of the same rows

The one generator of both benchmarks and of the demo's history (its case life and narratives are
service/demo_history.py's; bench/review_queue.py runs this file; bench/dashboard.py
imports `build`). The schema comes from `samleng migrate` (Alembic heads). Then places are
loaded, 20 organisations with handlers, a supervisor and an admin each, a platform admin,
2,000 clusters, grievance bodies along the place tree (a third of the health centres, every
operational district and province, one national body per country, one regional body) with
their jurisdictions, and N reports drawn from realistic distributions: most cases closed, 5 %
urgent, deadlines (some past), places across the health-centre tree (some centres much
busier), narratives in Khmer, English and Portuguese, first response / resolution / closure times and
satisfaction. About 13 % of cases were escalated, some several rungs up the ladder
(health centre → district → province → national), each body with its own habits: bodies
answer on time, late or never (the worker then moves the case up a rung), acknowledge,
act, resolve or say "not ours"; escalations still waiting when a case closed were cancelled.

Loading: the rows come in two seeded parts (the same rows on both backends). SQLite: two child
processes generate them while the parent inserts with executemany in one transaction, the
secondary indexes, FTS5 triggers and FTS table dropped and rebuilt after the load (PRAGMA
threads: sorter helper threads), checked against the schema read before.
PostgreSQL: one binary COPY session per part, in parallel, with the secondary indexes and foreign keys of `report` and
`escalation` dropped, then recreates exactly the definitions it read from the catalog (two
sessions in parallel: the pg_trgm GIN index in one, the B-trees in the other), checks they all
came back, and ANALYZEs. The load session runs with synchronous_commit off. Every user's
password is `bench-password-123` (hashed once: argon2id takes ~50 ms per hash).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/review_queue.py is named like the standard library's `queue`: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-123"
ORGS = 20
CLUSTERS = 2000
CATEGORIES = ("service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation", "other")
CATEGORY_WEIGHTS = (45, 20, 20, 10, 5)
CHANNELS, CHANNEL_WEIGHTS = ("sms", "telegram", "whatsapp", "web"), (70, 20, 8, 2)
POPULATIONS = ("msm", "transgender", "sex_worker", "people_who_use_drugs", "plhiv", "tb", "miner", "general", None)
POPULATION_WEIGHTS = (8, 5, 8, 8, 25, 12, 4, 15, 15)
REPORT_COLUMNS = (
    "id", "receipt_hash", "channel", "narrative_masked", "language", "category", "category_source", "urgency",
    "place_id", "consent_followup", "assisted", "status", "created_at", "updated_at", "population",
    "triage_confidence", "cluster_id", "org_id", "assigned_user_id", "due_at", "first_response_at", "resolved_at",
    "closed_at", "satisfaction")
TABLES = ("report", "escalation")
# The case life and the narratives are the demo history's (service/demo_history.py): one generator.
from service.demo_history import (  # noqa: E402
    ESCALATED_SHARE, ESCALATION_COLUMNS, LEVEL_HOURS, OPEN, STATUS_WEIGHTS, URGENCY_WEIGHTS, bench_narrative,
)
from service.demo_history import escalate_case as _escalate  # noqa: E402


def say(message: str) -> None:
    print(f"[make_cases] {message}", flush=True)


# -- schema, places, organisations, users, clusters, bodies ----------------------------------------

def setup(url: str) -> dict:
    """Migrate, load places, create organisations, users, clusters and bodies; returns ids for the generator."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from service.bodies.models import BodyPlace, GrievanceBody
    from service.config import get_settings
    from service.db import build_engine
    from service.migrate import upgrade
    from service.orgs.models import Organisation, User
    from service.orgs.service import create_org, hasher
    from service.places.models import Place
    from service.places.service import load_places
    from service.reports.models import Report, ReportCluster

    upgrade(url)
    engine = build_engine(get_settings(), url=url)
    with Session(engine) as s:
        if s.exec(select(func.count()).select_from(Report)).one():
            raise SystemExit("make_cases: the database already holds reports; give it an empty one")
        load_places(s)
        password_hash = hasher.hash(PASSWORD)  # one argon2id hash for every bench user: 141 hashes take ~8 s
        known = {u.email: u for u in s.exec(select(User)).all()}
        org_ids, users = [], {}
        for i in range(ORGS):
            org = (s.exec(select(Organisation).where(Organisation.slug == f"bench-org-{i:02d}")).first()
                   or create_org(s, slug=f"bench-org-{i:02d}", name=f"Bench organisation {i}"))
            org_ids.append(org.id)
            members = []
            for role, n in (("handler", 5), ("supervisor", 1), ("admin", 1)):
                for j in range(n):
                    email = f"{role}{j}@org{i:02d}.bench"
                    user = known.get(email) or User(email=email, org_id=org.id, role=role, password_hash=password_hash)
                    s.add(user)
                    members.append(user)
            users[org.id] = members
        if "root@bench" not in known:
            s.add(User(email="root@bench", org_id=None, role="admin", password_hash=password_hash))
        s.flush()
        users = {org: [u.id for u in members] for org, members in users.items()}
        clusters = [c.id for c in s.exec(select(ReportCluster)).all()]
        for _ in range(CLUSTERS - len(clusters)):
            cluster = ReportCluster(size=2)
            s.add(cluster)
            clusters.append(cluster)
        s.flush()
        clusters = [c if isinstance(c, int) else c.id for c in clusters]
        places = s.exec(select(Place)).all()
        ladders, profiles = _bodies(s, places, GrievanceBody, BodyPlace)
        facilities = [p for p in places if p.kind in ("health_centre", "mine")]
        s.commit()
        ids = {
            "orgs": org_ids, "users": users, "clusters": clusters,
            # Some health centres are far busier than others (one in eleven: nine times the reports).
            "facilities": [p.id for p in facilities],
            "facility_weights": [1 + 8 * (i % 11 == 0) for i in range(len(facilities))],
            "districts": [p.id for p in places if p.kind == "od"],
            "ladders": ladders, "profiles": profiles,
        }
    engine.dispose()
    return ids


def _bodies(s, places, GrievanceBody, BodyPlace) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """Bodies along the place tree, each with a response habit; the ladder (body ids, bottom first) per place."""
    from sqlmodel import select

    by_id = {p.id: p for p in places}
    rng = random.Random(11)
    existing = {b.slug: b for b in s.exec(select(GrievanceBody)).all()}
    bodies: dict[int, object] = {}  # place id -> body at that place
    made = []

    def body(place, level: str, slug: str, name: str):  # type: ignore[no-untyped-def]
        b = existing.get(slug) or GrievanceBody(slug=slug, name_en=name, name_km=name, level=level,
                                                network="health", email=f"{slug}@bodies.bench")
        s.add(b)
        made.append((b, place))
        return b

    for i, p in enumerate(sorted(places, key=lambda p: p.id)):
        if p.kind == "health_centre" and i % 3 == 0:
            bodies[p.id] = body(p, "facility", f"bench-hc-{p.id}", f"{p.name_en} (management)")
        elif p.kind == "od":
            bodies[p.id] = body(p, "operational_district", f"bench-od-{p.id}", f"{p.name_en} OD")
        elif p.kind == "province":
            bodies[p.id] = body(p, "province", f"bench-phd-{p.id}", f"{p.name_en} health department")
        elif p.kind == "country":
            bodies[p.id] = body(p, "national", f"bench-nat-{p.id}", f"{p.name_en} ministry of health")
    regional = body(None, "regional", "bench-regional", "Regional TB in mining body")
    s.flush()
    for b, p in made:
        if p is not None and b.slug not in existing:
            s.add(BodyPlace(body_id=b.id, place_id=p.id))
    s.flush()
    # Each body's habit: how often it answers, how fast (a share of its deadline), how often on its own.
    profiles = {}
    for b, _ in made:
        profiles[b.id] = (rng.uniform(0.45, 0.97), rng.uniform(0.15, 1.4), LEVEL_HOURS[b.level])
    ladders: dict[int | None, list[int]] = {}
    for p in places:
        chain, node = [], p
        while node is not None:
            if node.id in bodies:
                chain.append(bodies[node.id].id)
            node = by_id.get(node.parent_id) if node.parent_id is not None else None
        if p.kind == "mine":
            chain.append(regional.id)
        ladders[p.id] = chain
    national = [b.id for b, p in made if b.level == "national" and p is not None and p.code == "KH"]
    ladders[None] = national or [made[0][0].id]
    return ladders, profiles


# -- the generator ------------------------------------------------------------------------------------

def generate(n: int, ids: dict, *, first_id: int = 1, seed: int = 7, now: datetime | None = None):  # type: ignore[no-untyped-def]
    """Yield (report row in REPORT_COLUMNS order, [escalation rows in ESCALATION_COLUMNS order]); aware UTC datetimes.

    The data's "now" is an hour ago by default, so that a rollup refresh right after loading has nothing to do
    and nothing happens in the future.
    """
    rng = random.Random(seed)
    statuses, status_w = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    urgencies, urgency_w = list(URGENCY_WEIGHTS), list(URGENCY_WEIGHTS.values())
    now = now or datetime.now(timezone.utc) - timedelta(hours=1)
    span = 730 * 86400
    # Organisations differ in size (a few big CSOs, many small ones).
    org_w = [1.0 / (i + 1) ** 0.8 for i in range(len(ids["orgs"]))]
    facilities, facility_w, districts = ids["facilities"], ids["facility_weights"], ids["districts"]
    ladders, profiles = ids["ladders"], ids["profiles"]
    batch = 20000
    hour = timedelta(hours=1)
    for start in range(0, n, batch):
        count = min(batch, n - start)
        status = rng.choices(statuses, status_w, k=count)
        urgency = rng.choices(urgencies, urgency_w, k=count)
        category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS, k=count)
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS, k=count)
        population = rng.choices(POPULATIONS, POPULATION_WEIGHTS, k=count)
        org = rng.choices(ids["orgs"], org_w, k=count)
        facility = rng.choices(facilities, facility_w, k=count)
        for i in range(count):
            k = start + i
            rid = first_id + k
            st = status[i]
            # Older cases are mostly closed: open ones lean to the last 60 days.
            is_open = st in OPEN
            created = now - timedelta(seconds=rng.random() * (60 * 86400 if is_open else span))
            roll = rng.random()
            place = facility[i] if roll < 0.8 else rng.choice(districts) if roll < 0.92 else None
            due = None
            if is_open:
                due = created + hour * {"urgent": 24, "high": 72, "normal": 240}[urgency[i]]
            assigned = rng.choice(ids["users"][org[i]]) if (is_open and rng.random() < 0.6) or not is_open else None
            text, language = bench_narrative(rng)
            first = created + hour * rng.lognormvariate(3, 1.2) if st != "received" else None
            resolved = created + hour * rng.lognormvariate(5, 1) if st in ("resolved", "closed") else None
            first = min(first, now) if first else None
            resolved = min(resolved, now) if resolved else None
            closed = min(resolved + timedelta(days=2), now) if st == "closed" and resolved else None
            satisfaction = rng.choice(("yes", "yes", "partly", "no", None)) if st == "closed" else None
            escalations: list[tuple] = []
            if rng.random() < ESCALATED_SHARE.get(st, 0.0):
                escalations, due = _escalate(rng, rid, st, created, resolved or closed, now,
                                                     ladders.get(place) or ladders[None], profiles, due)
            changed = max(x for x in (created, first, resolved, closed, *(e[12] or e[6] for e in escalations)) if x)
            yield ((rid, hashlib.sha256(f"bench{rid}".encode()).hexdigest(), channel[i], text, language, category[i],
                    "reporter" if rng.random() < 0.5 else "triage", urgency[i], place, rng.random() < 0.4, False,
                    st, created, min(changed, now), population[i], round(rng.uniform(0.3, 0.99), 2),
                    rng.choice(ids["clusters"]) if rng.random() < 0.03 else None, org[i], assigned, due, first,
                    resolved, closed, satisfaction), escalations)


# -- loading ----------------------------------------------------------------------------------------

PARTS = 2  # the rows come in two seeded parts: PostgreSQL loads them in parallel, SQLite one after the other


def parts(n: int, first_id: int, seed: int = 7) -> list[tuple[int, int, int]]:
    """(first report id, count, seed) of each part: the same rows whatever the backend."""
    size = -(-n // PARTS)
    return [(first_id + i * size, min(size, n - i * size), seed * 100 + i) for i in range(PARTS) if n > i * size]


def _now() -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=1)


def _sqlite_text(v):  # type: ignore[no-untyped-def]
    """The text UTCDateTime stores on SQLite (SQLAlchemy's "%Y-%m-%d %H:%M:%S.%f"), so string comparisons stay right."""
    return v.isoformat(" ", "microseconds")[:26] if isinstance(v, datetime) else v


def _sqlite_part(part: tuple[int, int, int], ids: dict, now: datetime, out) -> None:  # type: ignore[no-untyped-def]
    """Generate one part in a child process, rows already in SQLite's text form, in batches onto `out`."""
    start, count, seed = part
    rows: list[tuple] = []
    escs: list[tuple] = []
    for row, found in generate(count, ids, first_id=start, seed=seed, now=now):
        rows.append(tuple(map(_sqlite_text, row)))
        escs.extend(tuple(map(_sqlite_text, e)) for e in found)
        if len(rows) == 10000:
            out.put((rows, escs))
            rows, escs = [], []
    out.put((rows, escs))
    out.put(None)


def _sqlite_batches(n: int, ids: dict, first_id: int, now: datetime):  # type: ignore[no-untyped-def]
    """(report rows, escalation rows) batches, generated by one child process per part while the parent inserts."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue(maxsize=16)
    workers = [ctx.Process(target=_sqlite_part, args=(p, ids, now, queue)) for p in parts(n, first_id)]
    for w in workers:
        w.start()
    running = len(workers)
    while running:
        item = queue.get()
        if item is None:
            running -= 1
            continue
        yield item
    for w in workers:
        w.join()
        if w.exitcode:
            raise SystemExit("make_cases: a generator process failed")


def load_sqlite(path: str, n: int, ids: dict, *, baseline: bool = False) -> dict[str, float]:
    import sqlite3

    timings: dict[str, float] = {}
    now = _now()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a generated benchmark database; the app keeps FULL
    conn.execute("PRAGMA cache_size=-400000")
    conn.execute("PRAGMA threads=2")  # helper threads for the sorts of CREATE INDEX
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM report").fetchone()[0]
    rsql = f"INSERT INTO report ({', '.join(REPORT_COLUMNS)}) VALUES ({', '.join('?' * len(REPORT_COLUMNS))})"
    esql = (f"INSERT INTO escalation ({', '.join(ESCALATION_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(ESCALATION_COLUMNS))})")
    if baseline:  # the same rows into a bare copy of the table: no index, no trigger
        conn.execute("CREATE TEMP TABLE bench_baseline AS SELECT * FROM report WHERE 0")
        t = time.perf_counter()
        conn.execute("BEGIN")
        for rows, _ in _sqlite_batches(n, ids, first, now):
            conn.executemany(rsql.replace("INTO report", "INTO bench_baseline"), rows)
        conn.execute("COMMIT")
        timings["baseline"] = time.perf_counter() - t
        conn.execute("DROP TABLE bench_baseline")
        say(f"sqlite baseline: {n} rows into an unindexed table in {timings['baseline']:.1f}s")
    started = time.perf_counter()
    schema = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('report', 'escalation') "
                          "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name").fetchall()
    conn.execute("BEGIN")
    for kind, name, _ in schema:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    n_esc = 0
    t = time.perf_counter()
    for rows, escs in _sqlite_batches(n, ids, first, now):
        conn.executemany(rsql, rows)
        conn.executemany(esql, escs)
        n_esc += len(escs)
    timings["rows"] = time.perf_counter() - t
    say(f"sqlite: {n} reports, {n_esc} escalations inserted in {timings['rows']:.1f}s (generated by "
        f"{len(parts(n, first))} processes)")
    t = time.perf_counter()
    for kind, _, ddl in schema:
        if kind == "index":
            conn.execute(ddl)
    timings["indexes"] = time.perf_counter() - t
    say(f"sqlite: {sum(k == 'index' for k, _, _ in schema)} indexes built in {timings['indexes']:.1f}s")
    t = time.perf_counter()
    conn.execute("INSERT INTO report_fts(report_fts) VALUES ('rebuild')")
    # Every row is indexed now: move the worker's high-water mark (migration 0008) past them.
    conn.execute("UPDATE report_fts_state SET indexed_upto = (SELECT coalesce(max(id), 0) FROM report) WHERE id = 1")
    for kind, _, ddl in schema:
        if kind == "trigger":
            conn.execute(ddl)
    timings["search"] = time.perf_counter() - t
    say(f"sqlite: FTS5 trigram index rebuilt in {timings['search']:.1f}s")
    conn.execute("COMMIT")
    after = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('report', 'escalation') "
                         "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name").fetchall()
    assert after == schema, "the indexes and triggers did not all come back"
    t = time.perf_counter()
    conn.execute("PRAGMA analysis_limit=1000")  # sampled statistics: seconds, not minutes
    conn.execute("ANALYZE")
    timings["analyze"] = time.perf_counter() - t
    timings["load"] = time.perf_counter() - started
    conn.close()
    return timings


def _pg_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return (f"host={u.host} port={u.port or 5432} user={u.username or 'postgres'} dbname={u.database}"
            + (f" password={u.password}" if u.password else ""))


def _pg_session(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute("SET synchronous_commit = off")  # a generated database: losing the last commit on a crash is fine
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET max_parallel_maintenance_workers = 2")


def _pg_schema(cur) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:  # type: ignore[no-untyped-def]
    """(secondary indexes, foreign keys) of report and escalation as (table, name, definition), from the catalog.

    Indexes behind a constraint (primary keys, UNIQUE constraints) stay: only plain and unique
    indexes are dropped, and only the foreign keys these tables declare.
    """
    cur.execute("""SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x
                   JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
                   JOIN pg_namespace ns ON ns.oid = c.relnamespace
                   WHERE ns.nspname = current_schema() AND c.relname = ANY(%s)
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
                   ORDER BY c.relname, i.relname""", (list(TABLES),))
    indexes = cur.fetchall()
    cur.execute("""SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k
                   JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace ns ON ns.oid = c.relnamespace
                   WHERE ns.nspname = current_schema() AND c.relname = ANY(%s) AND k.contype = 'f'
                   ORDER BY c.relname, k.conname""", (list(TABLES),))
    return indexes, cur.fetchall()


def _pg_types(cur, table: str, columns: tuple[str, ...]) -> list[int]:  # type: ignore[no-untyped-def]
    """The type oids of the columns, for binary COPY (PostgreSQL parses binary rows ~3x faster than text)."""
    cur.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                (table,))
    oids = dict(cur.fetchall())
    return [int(oids[c]) for c in columns]


def _pg_copy_part(dsn: str, part: tuple[int, int, int], ids: dict, now: datetime, report_table: str,
                  escalations: bool) -> int:
    """One part of the rows by binary COPY in its own session and transaction; returns its escalation count."""
    import psycopg

    start, count, seed = part
    esc_rows: list[tuple] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        _pg_session(conn)
        cur = conn.cursor()
        types = _pg_types(cur, "report", REPORT_COLUMNS), _pg_types(cur, "escalation", ESCALATION_COLUMNS)
        with conn.transaction():
            with cur.copy(f"COPY {report_table} ({', '.join(REPORT_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types[0])
                for row, escs in generate(count, ids, first_id=start, seed=seed, now=now):
                    copy.write_row(row)
                    esc_rows.extend(escs)
            if escalations:
                with cur.copy(f"COPY escalation ({', '.join(ESCALATION_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(types[1])
                    for e in esc_rows:
                        copy.write_row(e)
    return len(esc_rows)


def _pg_copy(dsn: str, n: int, ids: dict, *, first_id: int, now: datetime, report_table: str = "report",
             escalations: bool = True) -> int:
    """All parts at once, one process each (generating rows is Python-bound; each part gets a core)."""
    import multiprocessing

    todo = parts(n, first_id)
    with multiprocessing.get_context("fork").Pool(len(todo)) as pool:
        return sum(pool.starmap(_pg_copy_part, [(dsn, p, ids, now, report_table, escalations) for p in todo]))


def load_postgres(url: str, n: int, ids: dict, *, baseline: bool = False) -> dict[str, float]:
    import psycopg

    timings: dict[str, float] = {}
    dsn = _pg_dsn(url)
    now = _now()
    with psycopg.connect(dsn, autocommit=True) as conn:
        _pg_session(conn)
        cur = conn.cursor()
        cur.execute("SELECT coalesce(max(id), 0) + 1 FROM report")
        first_report = cur.fetchone()[0]  # type: ignore[index]
        if baseline:  # the same rows, loaded the same way, into a bare copy of the table: no index, no constraint
            cur.execute("CREATE TABLE bench_baseline (LIKE report INCLUDING DEFAULTS)")
            t = time.perf_counter()
            _pg_copy(dsn, n, ids, first_id=first_report, now=now, report_table="bench_baseline", escalations=False)
            timings["baseline"] = time.perf_counter() - t
            cur.execute("DROP TABLE bench_baseline")
            say(f"postgresql baseline: {n} rows COPied into an unindexed table in {timings['baseline']:.1f}s")
        started = time.perf_counter()
        indexes, fkeys = _pg_schema(cur)
        with conn.transaction():
            for table, name, _ in fkeys:
                cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for _, name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
        try:
            t = time.perf_counter()
            n_esc = _pg_copy(dsn, n, ids, first_id=first_report, now=now)
            cur.execute("SELECT setval(pg_get_serial_sequence('report', 'id'), (SELECT max(id) FROM report))")
            timings["rows"] = time.perf_counter() - t
            say(f"postgresql: {n} reports, {n_esc} escalations copied in {timings['rows']:.1f}s "
                f"({len(parts(n, first_report))} sessions)")
        finally:
            t = time.perf_counter()
            _pg_build(dsn, [ddl for _, _, ddl in indexes])
            timings["indexes"] = time.perf_counter() - t
            say(f"postgresql: {len(indexes)} indexes (incl. pg_trgm GIN) rebuilt in {timings['indexes']:.1f}s, "
                "two sessions")
            t = time.perf_counter()
            with conn.transaction():
                for table, name, definition in fkeys:
                    cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            timings["foreign_keys"] = time.perf_counter() - t
            say(f"postgresql: {len(fkeys)} foreign keys added back (and checked) in {timings['foreign_keys']:.1f}s")
        if _pg_schema(cur) != (indexes, fkeys):
            raise SystemExit("make_cases: the indexes or foreign keys did not all come back")
        t = time.perf_counter()
        cur.execute("ANALYZE report")
        cur.execute("ANALYZE escalation")
        timings["analyze"] = time.perf_counter() - t
        timings["load"] = time.perf_counter() - started
    return timings


def _pg_build(dsn: str, ddls: list[str]) -> None:
    """Run CREATE INDEX statements in two sessions: the long GIN build first, the B-trees alongside."""
    import psycopg

    todo = sorted(ddls, key=lambda d: (" USING gin " not in d, -d.count(",")))
    lock, errors = threading.Lock(), []

    def work() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                _pg_session(conn)
                while True:
                    with lock:
                        if not todo:
                            return
                        ddl = todo.pop(0)
                    conn.execute(ddl)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - reported below, after both sessions end
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]


def build(url: str, cases: int, *, baseline: bool = False) -> dict[str, float]:
    """Make the database: setup + load. Returns timings in seconds (setup, rows, indexes, …, total)."""
    from sqlalchemy.engine import make_url

    started = time.perf_counter()
    ids = setup(url)
    setup_s = time.perf_counter() - started
    say(f"schema, places, {ORGS} organisations, users, clusters, {len(ids['profiles'])} bodies in {setup_s:.1f}s")
    if make_url(url).get_backend_name() == "sqlite":
        timings = load_sqlite(make_url(url).database, cases, ids, baseline=baseline)  # type: ignore[arg-type]
    else:
        timings = load_postgres(url, cases, ids, baseline=baseline)
    timings["setup"] = setup_s
    timings["total"] = setup_s + timings["load"]
    say(f"{cases} cases loaded in {timings['load']:.1f}s; total {timings['total']:.1f}s (without the baseline)"
        + (f"; baseline {timings['baseline']:.1f}s, total / baseline = {timings['total'] / timings['baseline']:.2f}"
           if "baseline" in timings else ""))
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty (or new) database")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--baseline", action="store_true",
                        help="first time a plain load of the same report rows into an unindexed table")
    args = parser.parse_args()
    build(args.url, args.cases, baseline=args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
