"""The quick, provisional decision: urgency from the word lists alone, before the model.

The sentence embedding costs tens to hundreds of milliseconds per report; the word lists that
decide urgency cost a few. So the worker first reads every new report with the rules only
(`classify_quick`), routes and alerts the urgent ones at once (`apply_provisional`), and only
then runs the full triage (`service.triage.apply_triage`), which refines every report.

Recall first: the full triage's urgency is never lower than the rules' urgency for the same
text (the model only adds urgency, see `service._decide`), so the quick step cannot claim
less than the full triage will; and `apply_triage` never lowers urgency, so an urgent alert
already sent is never contradicted silently (the refined reasons are recorded, docs/triage.md).
"""

from __future__ import annotations

from sqlmodel import Session

from service.reports.models import CATEGORIES, Report
from service.reports.service import add_event, change_status
from service.triage import reading
from service.triage.service import _RANK, MAX_CHARS, TriageResult, _decide

PROVISIONAL = {
    "kind": "provisional",
    "rule": "provisional/rules_only",
    "effect": "word lists only, before the model: refined by the full triage",
}


def classify_quick(text: str) -> TriageResult:
    """The rules-only reading of one message: urgency (with negation, past and the paired
    rules), language, category and population from the word lists; no model, no embedding.
    `confidence` is 0: nothing statistical was asked. The reasons begin with a
    `provisional` entry and name the rule words, as the full triage's do."""
    normalised, detected, found = reading.analyse((text or "")[:MAX_CHARS])
    no_model_cat = {c: 0.0 for c in CATEGORIES}
    result = _decide(normalised, detected, found, no_model_cat, {"normal": 1.0})
    result.reasons = [dict(PROVISIONAL), *(r for r in result.reasons if r.get("kind") != "model")]
    result.confidence = 0.0
    return result


def is_provisional(report: Report) -> bool:
    """True while a report carries only the quick decision (the full triage has not run yet)."""
    return report.triage_language is not None and report.triage_confidence is None


def apply_provisional(session: Session, report: Report, result: TriageResult) -> bool:
    """Store a quick decision on a report that has had no triage yet. Does not commit.

    Every report read gets `triage_language` and the provisional reasons (the mark that the
    quick step has seen it; `triage_confidence` stays empty until the full triage). An urgent
    one also gets its urgency, category (unless the reporter chose one) and population, a
    `triage` timeline entry marked provisional, and moves received → triaged, so the
    routing step takes it at once. Returns True when the report became urgent.
    A report that already has a triage (full or provisional) is left as it is."""
    if report.triage_language is not None or report.triage_confidence is not None:
        return False
    report.triage_language = result.language
    report.triage_reasons = result.reasons
    urgent = result.urgency == "urgent" and report.category_source != "handler"
    if urgent:
        chosen = report.category_source in ("reporter", "handler") and report.category in CATEGORIES
        if not chosen:
            report.category, report.category_source = result.category, "triage"
            report.subcategory = result.subcategories.get(result.category)
        if _RANK[result.urgency] > _RANK.get(report.urgency, 0):
            report.urgency = result.urgency
        if result.population is not None:
            report.population = result.population
    session.add(report)
    session.flush()
    if urgent:
        add_event(
            session,
            report,
            "triage",
            actor="triage",
            detail={
                "category": result.category,
                "urgency": result.urgency,
                "language": result.language,
                "provisional": True,
            },
        )
        if report.status == "received":
            change_status(session, report, "triaged", actor="triage")
    return urgent
