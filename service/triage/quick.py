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
from service.triage import reading, rules
from service.triage.model import load_cached
from service.triage.service import _RANK, MAX_CHARS, TriageResult, _decide

# The screen's urgent probability from which the quick step alerts (chosen for recall on
# held-out voices, bench/screen_eval.py; docs/triage.md, "The urgency screen").
SCREEN_URGENT = 0.3

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
    return _quick(text)[0]


def _quick(text: str) -> tuple[TriageResult, str, rules.RuleFindings]:
    normalised, detected, found = reading.analyse((text or "")[:MAX_CHARS])
    no_model_cat = {c: 0.0 for c in CATEGORIES}
    result = _decide(normalised, detected, found, no_model_cat, {"normal": 1.0})
    result.reasons = [dict(PROVISIONAL), *(r for r in result.reasons if r.get("kind") != "model")]
    result.confidence = 0.0
    return result, normalised, found


def vetoed(result: TriageResult) -> bool:
    """The rules found the urgent words negated or in the past, or someone released and safe now:
    the model may not make it urgent, nor may the screen (as in the full triage)."""
    return any(r.get("kind") in ("negated", "past", "released") for r in result.reasons)


def classify_screened(text: str) -> TriageResult:
    """The worker's quick step: `classify_quick`, and when the word lists do not find it urgent,
    the urgency screen (character n-grams and rule findings, a linear model trained and cached
    with the triage model, no sentence embedding: well under a millisecond). A screen score of
    SCREEN_URGENT or more makes the provisional reading urgent, with a `provisional/screen`
    reason; the full triage later confirms or lowers it (`apply_triage`). Without a cached model
    (never trained here) it is `classify_quick`."""
    result, normalised, found = _quick(text)
    if result.urgency == "urgent" or vetoed(result):
        return result
    model = load_cached()
    if model is None or model.screen is None:
        return result
    score = model.screen_scores([normalised], [rules.features(found)])[0]
    if score >= SCREEN_URGENT:
        result.urgency = "urgent"
        result.reasons.append(
            {
                "kind": "provisional",
                "rule": "provisional/screen",
                "score": round(score, 3),
                "effect": "urgent by the quick screen, alerted before the full triage; the full triage "
                "confirms or lowers it",
            }
        )
    return result


def screened_urgent(report: Report) -> bool:
    """True when the report's urgency came from the screen alone (not the word lists)."""
    return any(r.get("rule") == "provisional/screen" for r in report.triage_reasons or [])


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
