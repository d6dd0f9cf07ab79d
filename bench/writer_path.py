#!/usr/bin/env python3
"""Where the SMS intake's time goes on the writer thread, without HTTP.

Runs the real unit of work (`bots.sms.routes.store_sms`: a new report from a new
number) on the real `Writer`, in batches, against a fresh migrated database, and
prints units/s per batch size and the SQL statements per unit; `--cprofile` adds a
cProfile of the writer's `_commit` run inline (no other thread competing).

    .venv/bin/python bench/writer_path.py                       # fresh SQLite file
    .venv/bin/python bench/writer_path.py --url postgresql+psycopg://...   # an existing, empty database
    .venv/bin/python bench/writer_path.py --cprofile
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import Future
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = "The nurse at the health centre asked me to pay 20000 riel before she would test my child for fever."


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="writer-path timing for the SMS intake")
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file in a temp dir)")
    parser.add_argument("--units", type=int, default=1920, help="units per batch size")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--sql", type=Path, help="SQLite: a file of SQL applied after migrating (e.g. "
                        "bench/before_0008.sql, the report table as it was before migration 0008)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="samleng-writer-path-"))
    try:
        url = args.url or f"sqlite:///{work / 'samleng.db'}"
        os.environ.update({
            "SAMLENG_ENV": "development", "SAMLENG_DATABASE_URL": url, "SAMLENG_VAR_DIR": str(work / "var"),
            "SAMLENG_SPOOL_DIR": str(work / "spool"), "SAMLENG_REPORTS_PER_HOUR": "1000000",
        })
        sys.path.insert(0, str(ROOT))
        from sqlalchemy import event

        from bots.sms.routes import store_sms
        from service.config import get_settings
        from service.db import build_engine
        from service.inbox.writer import Writer
        from service.intake.schemas import InboundMessage
        from service.kit.clock import now
        from service.migrate import upgrade

        settings = get_settings()
        upgrade(url)
        if args.sql:
            import sqlite3

            conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            conn.executescript(args.sql.read_text())
            conn.close()
            print(f"applied {args.sql} after migrating")
        engine = build_engine(settings)
        statements: collections.Counter[str] = collections.Counter()

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
            words = statement.split()
            verb = words[0].upper()
            if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
                key = verb
            elif verb == "SELECT":
                key = "SELECT " + (words[words.index("FROM") + 1] if "FROM" in words else "")
            elif verb == "INSERT":
                key = "INSERT " + words[2]
            else:
                key = f"{verb} {words[1]}"
            statements[key] += 1

        prefix = uuid.uuid4().hex[:8]
        counter = iter(range(1, 10**9))

        def unit():  # type: ignore[no-untyped-def]
            i = next(counter)
            message = InboundMessage(channel="sms", external_id=f"SM{prefix}{i:024x}", address=f"+8559{i:08d}",
                                     text=TEXT, received_at=now())
            return lambda session: store_sms(session, message, settings)

        writer = Writer(engine)
        writer.start()

        def run(count: int, batch: int) -> tuple[float, float]:
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(count // batch):
                futures = [writer.submit(unit()) for _ in range(batch)]
                for future in futures:
                    future.result()
            return time.perf_counter() - started, time.process_time() - cpu

        run(320, 32)  # warm caches
        print(f"database: {engine.dialect.name}; unit = store_sms for a new report from a new number")
        # CPU ms/unit (this process, all threads) hardly moves when other jobs share the machine;
        # wall-clock ms/unit does.
        for batch in (1, 8, 32, 64):
            statements.clear()
            elapsed, cpu = run(args.units, batch)
            print(f"  batch {batch:>2}: {args.units / elapsed:7.0f} units/s  {1000 * elapsed / args.units:6.3f} ms/unit"
                  f"  {1000 * cpu / args.units:6.3f} ms CPU/unit")
        per_unit = {k: v / args.units for k, v in statements.items()}
        # FastStatement (service/kit/fastsql.py) runs the hot path on the DBAPI cursor, past these events.
        print("  statements per unit through SQLAlchemy's cursor events, batch 64 (fast-path ones not seen): "
              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_unit.items(), key=lambda kv: -kv[1]) if v >= 0.01))
        writer.stop()
        if args.cprofile:
            batches = [[(unit(), Future()) for _ in range(32)] for _ in range(args.units // 32)]
            profile = cProfile.Profile()
            profile.enable()
            for batch_items in batches:
                writer._commit(batch_items)  # the writer's own code, run inline for the profiler
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(r"service/|bots/|sqlalchemy/orm/(session|unitofwork|persistence)", 30)
            stats.sort_stats("tottime").print_stats(15)
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
