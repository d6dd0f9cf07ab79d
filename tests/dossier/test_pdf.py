"""The dossier printed as PDF (Chromium, as the quarterly report) in Khmer, English and Portuguese: its
suppressed tables and words in the language, and no narrative, number or case number."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.analytics import pages
from service.audit.models import AuditEvent
from service.escalation import dossiers
from tests.analytics.test_exports_reports import embedded_fonts, pdftotext, squeezed
from tests.escalation.factories import make_case


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def test_the_dossier_prints_in_khmer_english_and_portuguese_without_identifiers(s: Session) -> None:
    cases = [make_case(s, narrative=f"No ARV again, my number is 012 345 67{i}") for i in range(3)]
    made = dossiers.build(s, org_id=cases[0].org_id, title="ARV stock-outs, Thmor Koul", actor="sup@khana",  # type: ignore[arg-type]
                          report_ids=[r.id for r in cases])  # type: ignore[misc]
    km = pages.dossier_pdf(s, made, language="km", actor="sup@khana")
    assert km.startswith(b"%PDF") and any("Khmer" in name for name in embedded_fonts(km))
    text = squeezed(pdftotext(km))
    assert squeezed("ឯកសាររួម") in text and squeezed("ករណីតាមខេត្ត") in text and squeezed("បាត់ដំបង") in text
    assert "<10" in text and "ARVstock-outs,ThmorKoul" in text
    assert squeezed("ផែនទីនេះបង្ហាញតែចំនួន") in text  # the province map's caption, under its table
    en = pdftotext(pages.dossier_pdf(s, made, language="en", actor="sup@khana"))
    assert "Cases per province" in en and "Too few cases for a quote to be shown safely." in en
    assert squeezed("The map shows only the counts of the table of cases per province") in squeezed(en)
    pt = pdftotext(pages.dossier_pdf(s, made, language="pt", actor="sup@khana"))
    assert "Casos por província" in pt and "Cases per province" not in pt
    for out in (text, en, pt):
        assert "012" not in out and "No ARV again" not in out and "NoARVagain" not in out
    audits = s.exec(select(AuditEvent).where(AuditEvent.action == "export.dossier_pdf")).all()
    assert sorted(a.detail["language"] for a in audits) == ["en", "km", "pt"]
