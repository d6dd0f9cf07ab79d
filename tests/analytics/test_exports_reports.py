"""Quotes, exports (audited, suppressed, masked) and the quarterly PDF with Khmer intact."""

from __future__ import annotations

import csv
import subprocess
import io
import unicodedata
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select

from service.analytics import pages, publish, queries as q, service as svc
from service.audit.models import AuditEvent
from service.kit.errors import InvalidInput
from service.reports.models import Report, ReportCluster
from tests.analytics.factories import make_many
from tests.support.factories import make_report, place

AT = datetime(2026, 7, 10, 9, 30, tzinfo=timezone.utc)
Q3 = q.Filters(*q.quarter_window(2026, 3))


def _seed(session: Session) -> int:
    make_many(session, 15, place_id=place(session, "KH-12").id, category="stigma_discrimination", at=AT)
    make_many(session, 4, place_id=place(session, "KH-7").id, category="financial_hardship", at=AT)
    cluster = ReportCluster(category="stigma_discrimination", size=12, systemic=True, label="Shouting at ART clinic",
                            place_id=place(session, "KH-12").id)
    session.add(cluster)
    session.flush()
    make_many(session, 12, place_id=place(session, "KH-12").id, category="stigma_discrimination", at=AT,
              cluster_id=cluster.id)
    report = make_report(session, at=AT, place_id=place(session, "KH-12").id,
                         narrative_masked="The nurse said មិនមានថ្នាំទេ and told me to call [phone] tomorrow.",
                         category="service_quality")
    session.commit()
    return report.id  # type: ignore[return-value]


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return [e.action for e in session.exec(select(AuditEvent)).all()]


def test_quotes_only_from_masked_narrative_and_only_by_supervisors(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    rid = _seed(session)
    with pytest.raises(svc.NotAllowed):
        svc.approve_quote(session, report_id=rid, excerpt="The nurse said", approved_by="h@x", role="handler")
    with pytest.raises(InvalidInput):  # not in the masked text (the raw number never is)
        svc.approve_quote(session, report_id=rid, excerpt="call 012 345 678", approved_by="s@x", role="supervisor")
    quote = svc.approve_quote(session, report_id=rid, excerpt="The nurse said មិនមានថ្នាំទេ", approved_by="s@x",
                              role="supervisor")
    session.commit()
    assert [x.id for x in svc.approved_quotes(session, filters=Q3)] == [quote.id]
    svc.revoke_quote(session, quote_id=quote.id, actor="s@x", role="supervisor")  # type: ignore[arg-type]
    session.commit()
    assert svc.approved_quotes(session, filters=Q3) == []
    assert _actions(session) == ["quote.approve", "quote.revoke"]


def test_aggregate_exports_are_suppressed_and_audited(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    _seed(session)
    table, _ = publish.province_table(session, filters=Q3)
    data = svc.export_csv(session, tables={"provinces": table}, actor="h@x", role="handler")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    kampot = next(r for r in rows if r and r[0] == "Kampot")
    assert "4" not in kampot and "<10" in kampot
    book = load_workbook(io.BytesIO(svc.export_xlsx(session, tables={"provinces": table}, actor="h@x", role="handler")))
    cells = [c.value for row in book["provinces"].iter_rows() for c in row]
    assert 4 not in cells and "<10" in cells
    cases = svc.export_cases(session, filters=Q3, actor="s@x", role="supervisor").decode("utf-8-sig")
    case_rows = list(csv.DictReader(io.StringIO(cases)))
    assert len(case_rows) == 32 and set(case_rows[0]) == set(svc.CASE_COLUMNS)
    # The case number handlers know from the queue, not a hash.
    known = {str(r.id) for r in session.exec(select(Report)).all()}
    assert {r["case"] for r in case_rows} <= known and "case_ref" not in case_rows[0]
    assert all(r["created_month"] == "2026-07" for r in case_rows)
    assert "[phone]" in cases and "receipt" not in cases
    with pytest.raises(svc.NotAllowed):
        svc.export_cases(session, filters=Q3, actor="h@x", role="handler")
    session.commit()
    assert _actions(session) == ["export.aggregate", "export.aggregate", "export.cases"]


def test_scorecard_and_dashboard_render(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    _seed(session)
    hc = place(session, "KH-12")
    html = pages.scorecard_page(session, place_id=hc.id, filters=Q3)  # type: ignore[arg-type]
    # KH-12 (Phnom Penh) is a province: its scorecard says so; a quarter shows its last day, not the next one's first.
    assert "@page { size: A4" in html and "<svg" in html and "Province scorecard" in html
    assert "District scorecard" not in html and "2026-07-01 – 2026-09-30" in html and "2026-10-01" not in html
    km = pages.scorecard_page(session, place_id=hc.id, filters=Q3, language="km")  # type: ignore[arg-type]
    assert "តារាងពិន្ទុខេត្ត" in km
    od = pages.scorecard_page(session, place_id=place(session, "KH-2-OD-BATTAMBANG").id, filters=Q3)  # type: ignore[arg-type]
    assert "District scorecard" in od
    dash = pages.dashboard_page(session, filters=Q3)
    assert dash.count("<svg") >= 8 and "Shouting at ART clinic" in dash and "Phnom Penh" in dash


def test_quarterly_pdf_has_the_khmer_text(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    rid = _seed(session)
    svc.approve_quote(session, report_id=rid, excerpt="The nurse said មិនមានថ្នាំទេ", approved_by="s@x", role="supervisor")
    session.commit()
    pdf = pages.quarterly_report_pdf(session, year=2026, quarter=3, language="km")
    assert pdf.startswith(b"%PDF")
    # Khmer is drawn with a Khmer font, embedded: without one Chromium draws tofu boxes.
    assert any("Khmer" in name for name in embedded_fonts(pdf)), embedded_fonts(pdf)
    text = squeezed(pdftotext(pdf))
    assert squeezed("របាយការណ៍ភស្តុតាងប្រចាំត្រីមាស") in text  # the title, shaped and extracted intact
    assert squeezed("ការមាក់ងាយ និងការរើសអើង 27") in text  # a figure: stigma's row in the table, 27 reports
    assert squeezed("The nurse said មិនមានថ្នាំទេ") in text  # the approved quote
    assert "ShoutingatARTclinic" in text  # the systemic issue (12 reports, over the threshold)
    en = pages.quarterly_report_pdf(session, year=2026, quarter=3, language="en")
    assert "Quarterly evidence report" in pdftotext(en)
    assert len(PdfReader(io.BytesIO(en)).pages) >= 2
    pt = pdftotext(pages.quarterly_report_pdf(session, year=2026, quarter=3, language="pt"))
    assert "Relatório trimestral de evidências" in pt and "Quarterly evidence report" not in pt


def pdftotext(pdf: bytes) -> str:
    """Text as poppler extracts it in content-stream order (`-raw`), honouring /ActualText as copy-paste in
    readers does. Layout mode (the default) re-sorts glyphs by position, and Chromium 150 places the parts of
    some Khmer clusters so that it reads the title out of order; the order in the stream is the text's."""
    return subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def squeezed(text: str) -> str:
    """NFC, without zero-width characters or whitespace (Khmer has no spaces between words; extraction
    may add some between glyph runs)."""
    return "".join(unicodedata.normalize("NFC", text).translate(ZERO_WIDTH).split())


def embedded_fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts embedded in the PDF (subset prefix removed)."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts") or [font]
            for desc in descendants:
                descriptor = desc.get_object().get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(font.get("/BaseFont", "")).lstrip("/").partition("+")[2] or str(font.get("/BaseFont")))
    return names
