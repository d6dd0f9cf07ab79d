"""Synthetic cases for the dashboard benchmark (a minimal stand-in for bench/make_cases.py).

Inserts N reports straight into the table in batches (executemany), over the last two
years, with skewed mixes: most reports at health centres, a few provinces much busier,
handling times log-normal, about a fifth still open. Deterministic (seeded).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, select

from service.places.models import Place
from service.reports.models import CATEGORIES, CHANNELS, POPULATIONS, Report

STATUSES = (["received"] * 5 + ["triaged"] * 5 + ["in_progress"] * 8 + ["escalated"] * 4 + ["responded"] * 3
            + ["resolved"] * 15 + ["closed"] * 55 + ["rejected"] * 2 + ["duplicate"] * 2 + ["withdrawn"])
COLUMNS = ("receipt_hash", "channel", "narrative_masked", "language", "category", "urgency", "place_id", "assisted",
           "status", "created_at", "updated_at", "population", "due_at", "first_response_at", "resolved_at",
           "closed_at", "satisfaction")


def load_cases(engine: Engine, count: int, *, seed: int = 7, batch: int = 20_000) -> None:
    rng = random.Random(seed)
    with engine.connect() as conn:
        places = conn.execute(select(Place.id, Place.kind, Place.code)).all()
    facilities = [p.id for p in places if p.kind == "health_centre" and p.code.startswith("KH")]
    districts = [p.id for p in places if p.kind == "od"]
    weights = [1 + 8 * (i % 11 == 0) for i in range(len(facilities))]
    # The data's "now" is an hour ago, so that a refresh right after loading has nothing new to do.
    now = datetime.now(timezone.utc) - timedelta(hours=1)
    start = now - timedelta(days=730)
    insert = Report.__table__.insert()  # type: ignore[attr-defined]  # column types bind the timestamps
    made = 0
    while made < count:
        rows = []
        for _ in range(min(batch, count - made)):
            made += 1
            created = start + timedelta(seconds=rng.random() * 730 * 86400)
            roll = rng.random()
            place = (rng.choices(facilities, weights)[0] if roll < 0.8 else rng.choice(districts) if roll < 0.92 else None)
            status = rng.choice(STATUSES)
            first = created + timedelta(hours=rng.lognormvariate(3, 1.2)) if status != "received" else None
            resolved = created + timedelta(hours=rng.lognormvariate(5, 1)) if status in ("resolved", "closed") else None
            first = min(first, now) if first else None  # nothing happens in the future
            resolved = min(resolved, now) if resolved else None
            rows.append({
                "receipt_hash": f"bench-{made:09d}", "channel": rng.choices(CHANNELS, (60, 15, 20, 5))[0],
                "narrative_masked": "", "language": rng.choice(("km", "km", "en")),
                "category": rng.choices(CATEGORIES, (35, 25, 20, 10, 10))[0],
                "urgency": rng.choices(("urgent", "high", "normal"), (5, 20, 75))[0], "place_id": place,
                "assisted": False, "status": status, "created_at": created, "updated_at": resolved or first or created,
                "population": rng.choice(POPULATIONS), "due_at": created + timedelta(days=7),
                "first_response_at": first, "resolved_at": resolved,
                "closed_at": min(resolved + timedelta(days=2), now) if status == "closed" and resolved else None,
                "satisfaction": rng.choice(("yes", "yes", "partly", "no", None)) if status == "closed" else None,
            })
        with engine.begin() as conn:
            conn.execute(insert, rows)
