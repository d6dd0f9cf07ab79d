#!/usr/bin/env python3
"""A realistic million-case database for the review-queue benchmark (SQLite or PostgreSQL).

    .venv/bin/python bench/make_cases.py --url sqlite:////tmp/cases.db             # 1,000,000 cases
    .venv/bin/python bench/make_cases.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/make_cases.py --url sqlite:////tmp/small.db --cases 50000

The schema comes from `samleng migrate` (Alembic heads). Then places are loaded, 20
organisations with handlers, a supervisor and an admin each, a platform admin, 2,000 clusters,
and N reports drawn from realistic distributions: most cases closed, 5% urgent, deadlines
(some past), places across the health-centre tree, narratives in English and Khmer.
SQLite: executemany in one transaction with the queue indexes, the FTS5 triggers and
the FTS table rebuilt after the load. PostgreSQL: COPY, with the indexes built afterwards.
Every user's password is `bench-password-123`.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
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
STATUS_WEIGHTS = {"closed": 45, "resolved": 15, "rejected": 3, "duplicate": 4, "withdrawn": 3, "received": 8,
                  "triaged": 7, "in_progress": 9, "escalated": 4, "responded": 2}
OPEN = ("received", "triaged", "in_progress", "escalated", "responded")
URGENCY_WEIGHTS = {"urgent": 5, "high": 20, "normal": 75}
CATEGORIES = ("service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation", "other")
CATEGORY_WEIGHTS = (45, 20, 20, 10, 5)
CHANNELS, CHANNEL_WEIGHTS = ("sms", "telegram", "whatsapp", "web"), (70, 20, 8, 2)
POPULATIONS = ("msm", "transgender", "sex_worker", "people_who_use_drugs", "plhiv", "tb", "miner", "general", None)
POPULATION_WEIGHTS = (8, 5, 8, 8, 25, 12, 4, 15, 15)
OPENINGS = (
    "No ARV at the health centre for two weeks", "The nurse asked me for money for a TB test",
    "Staff shouted at me in front of everyone", "They refused my ID Poor card at the referral hospital",
    "The clinic was closed when we arrived in the morning", "The doctor did not come all day",
    "Police took our condoms near the market", "My test result was told to my neighbour",
    "The methadone clinic ran out of doses", "We waited six hours and nobody saw us",
    "The pharmacy sold the free medicine", "The counsellor was kind and helpful",
    "The health centre asked for 20000 riel", "They would not test me because I am transgender",
    "No PrEP at the clinic again this month", "The compensation fund never answered my letter",
    "ថ្នាំ ARV អស់នៅមណ្ឌលសុខភាព", "គ្រូពេទ្យមិននៅទេ យើងរង់ចាំពេញមួយថ្ងៃ",
    "គេសុំលុយ ១០០០០ រៀល សម្រាប់ការធ្វើតេស្ត", "មណ្ឌលសុខភាពមិនមានថ្នាំ PrEP ទេ",
)
DETAILS = (
    "and they told us to come back next month.", "This has happened three times now.",
    "My friend had the same problem last week.", "We are afraid to go back.", "Please help us.",
    "The staff said it is not their problem.", "I had to pay for transport again.",
    "Many people from our group were turned away.", "I do not want to give my name.", "",
    "ខ្ញុំមកបីដងហើយ។", "សូមជួយយើងផង។",
)


def say(message: str) -> None:
    print(f"[make_cases] {message}", flush=True)


def weighted(rng: random.Random, weights: dict[str, int]) -> list[str]:
    return list(weights), list(weights.values())  # type: ignore[return-value]


def setup(url: str) -> dict:
    """Migrate, load places, create organisations, users and clusters; returns ids for the generator."""
    from sqlmodel import Session, select

    from service.config import get_settings
    from service.db import build_engine
    from service.migrate import upgrade
    from service.orgs.models import User
    from service.orgs.service import create_org, create_user
    from service.places.models import Place
    from service.places.service import load_places
    from service.reports.models import ReportCluster

    upgrade(url)
    engine = build_engine(get_settings(), url=url)
    with Session(engine) as s:
        load_places(s)
        org_ids, users = [], {}
        for i in range(ORGS):
            org = create_org(s, slug=f"bench-org-{i:02d}", name=f"Bench organisation {i}")
            org_ids.append(org.id)
            members = []
            for role, n in (("handler", 5), ("supervisor", 1), ("admin", 1)):
                for j in range(n):
                    email = f"{role}{j}@org{i:02d}.bench"
                    user = s.exec(select(User).where(User.email == email)).first() or create_user(
                        s, email=email, org_slug=org.slug, role=role, password=PASSWORD)
                    members.append(user.id)
            users[org.id] = members
        if s.exec(select(User).where(User.email == "root@bench")).first() is None:
            create_user(s, email="root@bench", org_slug=None, role="admin", password=PASSWORD)
        clusters = [c.id for c in s.exec(select(ReportCluster)).all()]
        for _ in range(CLUSTERS - len(clusters)):
            cluster = ReportCluster(size=2)
            s.add(cluster)
            s.flush()
            clusters.append(cluster.id)
        places = [p.id for p in s.exec(select(Place).where(Place.kind.in_(("health_centre", "mine")))).all()]  # type: ignore[attr-defined]
        s.commit()
    engine.dispose()
    return {"orgs": org_ids, "users": users, "clusters": clusters, "places": places}


COLUMNS = ("receipt_hash", "channel", "narrative_masked", "language", "category", "category_source", "urgency",
           "place_id", "consent_followup", "assisted", "status", "created_at", "updated_at", "population",
           "triage_confidence", "cluster_id", "org_id", "assigned_user_id", "due_at")


def rows(n: int, ids: dict, seed: int = 7):  # type: ignore[no-untyped-def]
    """Yield n report rows as tuples in COLUMNS order (datetimes as aware UTC)."""
    rng = random.Random(seed)
    statuses, status_w = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    urgencies, urgency_w = list(URGENCY_WEIGHTS), list(URGENCY_WEIGHTS.values())
    now = datetime.now(timezone.utc)
    span = 730 * 86400
    # Organisations differ in size (a few big CSOs, many small ones).
    org_w = [1.0 / (i + 1) ** 0.8 for i in range(len(ids["orgs"]))]
    batch = 20000
    for start in range(0, n, batch):
        count = min(batch, n - start)
        status = rng.choices(statuses, status_w, k=count)
        urgency = rng.choices(urgencies, urgency_w, k=count)
        category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS, k=count)
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS, k=count)
        population = rng.choices(POPULATIONS, POPULATION_WEIGHTS, k=count)
        org = rng.choices(ids["orgs"], org_w, k=count)
        for i in range(count):
            k = start + i
            # Older cases are mostly closed: open ones lean to the last 60 days.
            is_open = status[i] in OPEN
            age = rng.random() * (60 * 86400 if is_open else span)
            created = now - timedelta(seconds=age)
            due = None
            if is_open:
                hours = {"urgent": 24, "high": 72, "normal": 240}[urgency[i]]
                due = created + timedelta(hours=hours)
            assigned = rng.choice(ids["users"][org[i]]) if (is_open and rng.random() < 0.6) or not is_open else None
            text = f"{rng.choice(OPENINGS)} {rng.choice(DETAILS)}".strip()
            yield (hashlib.sha256(f"bench{k}".encode()).hexdigest(), channel[i], text,
                   "km" if any("\u1780" <= ch <= "\u17ff" for ch in text) else "en", category[i],
                   rng.choice(("reporter", "triage")), urgency[i],
                   rng.choice(ids["places"]) if rng.random() < 0.8 else None, rng.random() < 0.4, False, status[i],
                   created, created + timedelta(hours=rng.random() * 48), population[i],
                   round(rng.uniform(0.3, 0.99), 2), rng.choice(ids["clusters"]) if rng.random() < 0.03 else None,
                   org[i], assigned, due)


def load_sqlite(path: str, n: int, ids: dict) -> None:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a generated benchmark database; the app keeps FULL
    conn.execute("PRAGMA cache_size=-400000")
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='report' "
                           "AND sql IS NOT NULL").fetchall()
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name='report'").fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')

    def fmt(v):  # type: ignore[no-untyped-def]
        return v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v

    sql = f"INSERT INTO report ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    t = time.perf_counter()
    conn.executemany(sql, (tuple(fmt(v) for v in row) for row in rows(n, ids)))
    say(f"sqlite: {n} rows inserted in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    for _, ddl in indexes:
        conn.execute(ddl)
    say(f"sqlite: {len(indexes)} indexes built in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    conn.execute("INSERT INTO report_fts(report_fts) VALUES ('rebuild')")
    # Every row is indexed now: move the worker's high-water mark (migration 0008) past them.
    conn.execute("UPDATE report_fts_state SET indexed_upto = (SELECT coalesce(max(id), 0) FROM report) WHERE id = 1")
    for _, ddl in triggers:
        conn.execute(ddl)
    say(f"sqlite: FTS5 trigram index rebuilt in {time.perf_counter() - t:.1f}s")
    conn.execute("COMMIT")
    conn.execute("PRAGMA analysis_limit=1000")  # sampled statistics: seconds, not minutes
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(url: str, n: int, ids: dict) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    dsn = f"host={u.host} port={u.port or 5432} user={u.username or 'postgres'} dbname={u.database}" + \
        (f" password={u.password}" if u.password else "")
    with psycopg.connect(dsn, autocommit=False) as conn:
        cur = conn.cursor()
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename='report' "
                    "AND indexname <> 'report_pkey' AND indexname NOT LIKE '%receipt_hash%'")
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        t = time.perf_counter()
        with cur.copy(f"COPY report ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows(n, ids):
                copy.write_row(row)
        say(f"postgresql: {n} rows copied in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        cur.execute("SET maintenance_work_mem = '512MB'")
        for _, ddl in indexes:
            cur.execute(ddl)
        say(f"postgresql: {len(indexes)} indexes (incl. pg_trgm GIN) built in {time.perf_counter() - t:.1f}s")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE report")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty (or new) database")
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    from sqlalchemy.engine import make_url

    started = time.perf_counter()
    ids = setup(args.url)
    say(f"schema, places, {ORGS} organisations, users, clusters in {time.perf_counter() - started:.1f}s")
    t = time.perf_counter()
    if make_url(args.url).get_backend_name() == "sqlite":
        load_sqlite(make_url(args.url).database, args.cases, ids)  # type: ignore[arg-type]
    else:
        load_postgres(args.url, args.cases, ids)
    say(f"{args.cases} cases loaded in {time.perf_counter() - t:.1f}s (total {time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
