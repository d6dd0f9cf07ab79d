"""Documentation codes of a rights violation on a report: who did it (perpetrator type) and what was
done (violation type), in the terms rights-violation documentation uses (docs/triage.md,
"Documentation codes"; the definitions with examples are there).

Each code has a source: `triage` (suggested from the words of the report, service/triage/codes.py)
or `handler` (set on the case page or through the case API, audited by the queue). A handler's
choice, including "none", is never overwritten by a suggestion. Every change is a timeline event
"codes" with the values before and after (never the report's text).
"""

from __future__ import annotations

from sqlmodel import Session

from service.kit.i18n import N_
from service.reports.models import CODE_SOURCES, PERPETRATOR_TYPES, VIOLATION_TYPES, Report
from service.reports.service import add_event

__all__ = [
    "PERPETRATOR_TYPES",
    "VIOLATION_TYPES",
    "PERPETRATOR_LABELS",
    "VIOLATION_LABELS",
    "code_state",
    "set_codes",
    "suggestion_reasons",
    "UNCHANGED",
]

# What a reader sees (catalogues: "perpetrator:police" is "police" in English, "ប៉ូលីស" in Khmer).
PERPETRATOR_LABELS = {
    "police": N_("perpetrator:police"),
    "health_worker": N_("perpetrator:health_worker"),
    "employer": N_("perpetrator:employer"),
    "family_member": N_("perpetrator:family_member"),
    "community_leader": N_("perpetrator:community_leader"),
    "other": N_("perpetrator:other"),
}
VIOLATION_LABELS = {
    "arbitrary_detention": N_("violation:arbitrary_detention"),
    "compulsory_detention": N_("violation:compulsory_detention"),
    "physical_violence": N_("violation:physical_violence"),
    "sexual_violence": N_("violation:sexual_violence"),
    "extortion": N_("violation:extortion"),
    "confiscation": N_("violation:confiscation"),
    "forced_testing_disclosure": N_("violation:forced_testing_disclosure"),
    "denial_of_treatment": N_("violation:denial_of_treatment"),
    "eviction": N_("violation:eviction"),
    "threats": N_("violation:threats"),
    "other": N_("violation:other"),
}
FIELDS = {"perpetrator_type": PERPETRATOR_TYPES, "violation_type": VIOLATION_TYPES}
UNCHANGED = object()  # set_codes: leave this code as it is


def _field(reason: object) -> str:
    """ "perpetrator" or "violation": the field a triage reason is about (its rule "perpetrator/police")."""
    return str(reason.get("rule", "")).partition("/")[0] if isinstance(reason, dict) else ""


def suggestion_reasons(report: Report) -> list[dict]:
    """Triage's reasons for the codes that are still its suggestions (not for a code a handler set)."""
    current = {"perpetrator": report.perpetrator_source, "violation": report.violation_source}
    return [r for r in report.code_reasons or [] if isinstance(r, dict) and current.get(_field(r)) == "triage"]


def code_state(report: Report) -> dict[str, str | None]:
    return {
        "perpetrator_type": report.perpetrator_type,
        "perpetrator_source": report.perpetrator_source,
        "violation_type": report.violation_type,
        "violation_source": report.violation_source,
    }


def set_codes(
    session: Session,
    report: Report,
    *,
    source: str,
    actor: str,
    perpetrator_type: object = UNCHANGED,
    violation_type: object = UNCHANGED,
    reasons: list | None = None,
) -> bool:
    """Set the codes given (a value, or None for "none"; UNCHANGED leaves one as it is) with their source.
    A triage suggestion never replaces a handler's choice. Returns False when nothing changed (a
    handler's "none" on a code nobody set is no change). Does not commit."""
    if source not in CODE_SOURCES:
        raise ValueError(f"unknown code source {source!r}")
    before = code_state(report)
    for name, value in (("perpetrator_type", perpetrator_type), ("violation_type", violation_type)):
        if value is UNCHANGED:
            continue
        if value is not None and value not in FIELDS[name]:
            raise ValueError(f"unknown {name} {value!r}")
        source_attr = name.replace("_type", "_source")
        current, current_source = getattr(report, name), getattr(report, source_attr)
        if source == "triage" and current_source == "handler":
            continue
        if value is None and current is None and current_source is None:
            continue
        setattr(report, name, value)
        setattr(report, source_attr, source)
    if reasons is not None and source == "triage":
        # A field the new reasons say nothing about keeps its earlier reasons.
        fields = {_field(r) for r in reasons}
        report.code_reasons = [r for r in report.code_reasons or [] if _field(r) not in fields] + list(reasons)
    after = code_state(report)
    session.add(report)
    if before == after:
        return False
    add_event(session, report, "codes", actor=actor, detail={"from": before, "to": after})
    return True
