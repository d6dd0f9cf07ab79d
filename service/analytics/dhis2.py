"""DHIS2 aggregate export: suppressed counts as a dataValueSet, pushed to /api/dataValueSets.

One data value per (province org unit, category data element, urgency category option
combo, period). Counts are suppressed per period and category (provinces x urgencies)
before anything is sent; hidden cells ("<10" and their complements) are left out of the
payload (DHIS2 numbers cannot say "<10"), so DHIS2 sees only counts of 0 or at least the
threshold. Unmapped places (no org unit) are left out and reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import httpx
import yaml
from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from service.analytics import queries as q
from service.analytics.suppression import suppress
from service.audit.service import record
from service.config import get_settings
from service.kit.errors import DomainError, InvalidInput
from service.reports.models import Report

DATA = Path(__file__).parent / "data"
MAPPING_FILE = DATA / "dhis2_mapping.yaml"
SCHEMA_FILE = DATA / "dhis2_datavalueset.schema.json"


class Dhis2Error(DomainError):
    pass


@dataclass
class Mapping:
    data_set: str
    period_type: str
    attribute_option_combo: str
    data_elements: dict[str, str]
    category_option_combos: dict[str, str]
    org_units: dict[str, str]


def load_mapping(path: str | Path | None = None) -> Mapping:
    path = Path(path or get_settings().dhis2_mapping_file or MAPPING_FILE)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Mapping(
        doc["dataSet"],
        doc.get("periodType", "Monthly"),
        doc["attributeOptionCombo"],
        dict(doc["dataElements"]),
        dict(doc["categoryOptionCombos"]),
        dict(doc["orgUnits"]),
    )


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validate(payload: dict) -> None:
    """Raise InvalidInput when the payload does not have the structure DHIS2 expects."""
    # deferred: jsonschema loads its validators (~0.25 s), needed only for a DHIS2 export
    import jsonschema

    try:
        jsonschema.validate(payload, schema())
    except jsonschema.ValidationError as exc:
        raise InvalidInput(
            f"dataValueSet invalid at {'/'.join(str(p) for p in exc.absolute_path)}: {exc.message}"
        ) from None


def parse_period(text: str) -> tuple[str, datetime, datetime]:
    """'2026-07' / '202607' (month) or '2026Q3' (quarter) -> (DHIS2 period, start, end)."""
    cleaned = text.strip().upper().replace("-", "")
    try:
        if "Q" in cleaned:
            year, quarter = int(cleaned[:4]), int(cleaned[5:])
            if not 1 <= quarter <= 4:
                raise ValueError
            start, end = q.quarter_window(year, quarter)
            return f"{year}Q{quarter}", start, end
        year, month = int(cleaned[:4]), int(cleaned[4:6])
        if len(cleaned) != 6 or not 1 <= month <= 12:
            raise ValueError
        start = datetime(year, month, 1, tzinfo=timezone.utc)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
        return f"{year}{month:02d}", start, end
    except ValueError:
        raise InvalidInput("period must look like 2026-07 or 2026Q3") from None


@dataclass
class Payload:
    body: dict
    suppressed: int = 0
    unmapped_places: list[str] = field(default_factory=list)


def build_payload(session: Session, *, period: str, mapping: Mapping | None = None) -> Payload:
    """The dataValueSet for one period, suppressed, validated."""
    mapping = mapping or load_mapping()
    dhis_period, since, until = parse_period(period)
    tree = q.place_tree(session)
    filters = q.Filters(since, until)
    urg = func.coalesce(Report.urgency, "normal")
    rows = session.execute(
        select(col(Report.place_id), col(Report.category), urg, func.count())
        .where(and_(*q._where(session, filters), col(Report.category).is_not(None)))
        .group_by(col(Report.place_id), col(Report.category), urg)
    ).all()
    provinces = [p for p in tree.provinces() if p.code in mapping.org_units]
    index = {p.id: i for i, p in enumerate(provinces)}
    urgencies = list(mapping.category_option_combos)
    grids = {c: [[0] * len(urgencies) for _ in provinces] for c in mapping.data_elements}
    unmapped: set[str] = set()
    for pid, cat, urgency, n in rows:
        province = tree.province_of(pid)
        if province is None or province.id not in index:
            if province is not None:
                unmapped.add(province.code)
            continue
        if cat in grids and urgency in urgencies:
            grids[cat][index[province.id]][urgencies.index(urgency)] += int(n)
    values, hidden = [], 0
    threshold = get_settings().suppression_threshold
    for cat, grid in grids.items():
        pub = suppress(grid, row_labels=[p.code for p in provinces], col_labels=urgencies, threshold=threshold)
        hidden += sum(1 for (i, j) in pub.hidden if i < pub.n_rows and j < pub.n_cols)
        for i, province in enumerate(provinces):
            for j, urgency in enumerate(urgencies):
                value = pub.cell(i, j)
                if value is None:
                    continue
                values.append(
                    {
                        "dataElement": mapping.data_elements[cat],
                        "categoryOptionCombo": mapping.category_option_combos[urgency],
                        "attributeOptionCombo": mapping.attribute_option_combo,
                        "period": dhis_period,
                        "orgUnit": mapping.org_units[province.code],
                        "value": str(value),
                    }
                )
    body = {
        "dataSet": mapping.data_set,
        "completeDate": (until.date()).isoformat(),
        "period": dhis_period,
        "attributeOptionCombo": mapping.attribute_option_combo,
        "dataValues": values,
    }
    validate(body)
    return Payload(body, hidden, sorted(unmapped))


def push(
    session: Session, *, period: str, actor: str, dry_run: bool = False, transport: httpx.BaseTransport | None = None
) -> dict:
    """Build and (unless dry_run) POST the payload to SAMLENG_DHIS2_URL with basic auth; audited."""
    settings = get_settings()
    payload = build_payload(session, period=period)
    if dry_run:
        return {
            "dry_run": True,
            "payload": payload.body,
            "suppressed_cells": payload.suppressed,
            "unmapped_places": payload.unmapped_places,
        }
    if not settings.dhis2_url:
        raise Dhis2Error("SAMLENG_DHIS2_URL is not set")
    url = settings.dhis2_url.rstrip("/") + "/api/dataValueSets"
    try:
        with httpx.Client(timeout=60, transport=transport) as client:
            response = client.post(
                url,
                json=payload.body,
                auth=(settings.dhis2_username, settings.dhis2_password),
                params={"importStrategy": "CREATE_AND_UPDATE"},
            )
    except httpx.HTTPError as exc:
        raise Dhis2Error(f"DHIS2 could not be reached: {type(exc).__name__}") from None
    if response.status_code == 401:
        raise Dhis2Error("DHIS2 refused the credentials (401)")
    try:
        summary = response.json()
    except ValueError:
        summary = {}
    # DHIS2 2.36+ wraps the import summary in {"response": {...}}; older ones return it bare.
    inner = summary.get("response", summary) if isinstance(summary, dict) else {}
    status = inner.get("status") or summary.get("status")
    counts = inner.get("importCount", {})
    record(
        session,
        actor=actor,
        action="dhis2.push",
        object_type="export",
        detail={
            "period": payload.body["period"],
            "values": len(payload.body["dataValues"]),
            "http": response.status_code,
            "status": status,
            "importCount": counts,
        },
    )
    if response.status_code >= 400 or status == "ERROR":
        raise Dhis2Error(f"DHIS2 answered {response.status_code} {status or ''}".strip())
    return {
        "dry_run": False,
        "http": response.status_code,
        "status": status,
        "importCount": counts,
        "values": len(payload.body["dataValues"]),
    }
