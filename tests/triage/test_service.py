"""apply_triage stores the decision on the report and moves it to triaged (on every backend)."""

from __future__ import annotations

import json

from sqlmodel import select

from service.reports.models import Report, ReportEvent
from service.triage import apply_triage
from tests.support.factories import make_report


def test_apply_triage_sets_fields_and_status(session) -> None:  # type: ignore[no-untyped-def]
    text = "police arrested my friend at the park just now, they beat him, pls help"
    report = make_report(session, narrative=text)
    result = apply_triage(session, report, text)
    session.commit()
    stored = session.get(Report, report.id)
    assert stored is not None
    assert (stored.category, stored.category_source) == ("human_rights_violation", "triage")
    assert stored.urgency == "urgent" == result.urgency
    assert stored.status == "triaged"
    assert stored.triage_language == "en" and 0 < stored.triage_confidence <= 1
    assert stored.subcategory and stored.subcategory.startswith("human_rights_violation/")
    reasons = stored.triage_reasons
    assert isinstance(reasons, list) and any(r.get("rule") == "urgent/detained_now" for r in reasons)
    json.dumps(reasons)  # stored as JSON: plain types only
    kinds = [e.kind for e in session.exec(select(ReportEvent).where(ReportEvent.report_id == report.id)).all()]
    assert "triage" in kinds and "status" in kinds


def test_reporter_category_is_kept_and_triage_becomes_secondary(session) -> None:  # type: ignore[no-untyped-def]
    text = "they asked me 20000 riel for the HIV test, it should be free"
    report = make_report(session, narrative=text, category="service_quality", category_source="reporter")
    apply_triage(session, report, text)
    assert (report.category, report.category_source) == ("service_quality", "reporter")
    assert report.secondary_category == "financial_hardship"
    assert report.status == "triaged"


def test_handler_decision_is_not_overridden(session) -> None:  # type: ignore[no-untyped-def]
    text = "he is beating me now"
    report = make_report(session, narrative=text, category="other", category_source="handler", urgency="normal")
    apply_triage(session, report, text)
    assert (report.category, report.urgency) == ("other", "normal")


def test_urgency_is_never_lowered_and_status_moves_once(session) -> None:  # type: ignore[no-untyped-def]
    report = make_report(session, narrative="my husband is hitting me now")
    apply_triage(session, report, "my husband is hitting me now")
    apply_triage(session, report, "my husband is hitting me now\nthank you")
    assert report.urgency == "urgent" and report.status == "triaged"


def test_khmer_report_population_and_language(session) -> None:  # type: ignore[no-untyped-def]
    text = "ខ្ញុំជាអ្នកប្តូរភេទ ពេទ្យជេរខ្ញុំ ហើយមិនព្រមពិនិត្យ"
    report = make_report(session, narrative=text)
    apply_triage(session, report, text)
    assert report.triage_language == "km"
    assert report.population == "transgender"
    assert report.category == "stigma_discrimination"
