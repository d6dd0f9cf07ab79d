"""What counting by local day costs the rollup: a full rebuild by local day, then by UTC day.

    python bench/rollup_local_days.py 200000                       # a fresh SQLite file in /tmp
    python bench/rollup_local_days.py 200000 postgresql+psycopg://postgres@127.0.0.1:5432/bench

Reports spread over two years, a third each for a Phnom Penh organisation, a Johannesburg one and
none (the platform's zone). The second timing swaps the day expression back to the UTC day (the
rollup before migration 0017) on the same data. Bounded: one rebuild each, nothing served.
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
URL = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp(prefix='samleng-bench-')}/bench.db"
os.environ.setdefault("SAMLENG_ENV", "development")
os.environ["SAMLENG_DATABASE_URL"] = URL
from tests.support.database import TEST_KEYS  # noqa: E402

for key, value in TEST_KEYS.items():
    os.environ.setdefault(key, value)

from sqlalchemy import func, insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from service.analytics import rollup  # noqa: E402
from service.db import build_engine  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.orgs.service import create_org  # noqa: E402
from service.reports.models import Report  # noqa: E402


def main() -> None:
    upgrade(URL)
    engine = build_engine()
    rng = random.Random(1)
    with Session(engine) as s:
        orgs = [create_org(s, slug="bench-kh", name="kh", time_zone="Asia/Phnom_Penh").id,
                create_org(s, slug="bench-za", name="za", time_zone="Africa/Johannesburg").id, None]
        s.commit()
        start = datetime(2025, 1, 1, tzinfo=timezone.utc)
        for chunk in range(0, N, 10000):
            rows = []
            for i in range(chunk, min(N, chunk + 10000)):
                at = start + timedelta(minutes=rng.randint(0, 700 * 24 * 60))
                rows.append({"receipt_hash": f"bench-{i}", "channel": "sms", "narrative_masked": "x",
                             "created_at": at, "updated_at": at, "status": "received", "urgency": "normal",
                             "category": rng.choice(["service_quality", "other"]), "org_id": rng.choice(orgs)})
            s.execute(insert(Report), rows)
        s.commit()

    def timed(label: str) -> None:
        with Session(engine) as s:
            began = time.perf_counter()
            rollup.rebuild(s)
            s.commit()
            took = time.perf_counter() - began
            rows = s.execute(select(func.count()).select_from(rollup.ReportRollup)).scalar_one()
        print(f"{engine.dialect.name}: {label}: {N} reports, full rebuild {took:.1f} s, {rows} rollup rows")

    timed("local days")
    rollup._day = rollup._utc_day  # type: ignore[assignment]
    timed("UTC days (before 0017)")


if __name__ == "__main__":
    main()
