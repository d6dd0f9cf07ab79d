"""Dossiers: a pattern of cases gathered to be escalated as one (docs/escalation.md, "Collective escalation").

Plain functions, session first; they never commit. Building a dossier links the organisation's cases
(a cluster's, or those a saved filter showed) and writes `dossier_linked` on each case's timeline.
What a dossier publishes is computed by service/analytics/dossier.py, through the suppression.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from service.escalation import reporter_updates
from service.escalation.models import ACTIONS, WAITING, Dossier, DossierCase, Escalation
from service.kit.clock import now
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.i18n import N_
from service.kit.masking import mask
from service.kit.models import require_id
from service.reports.models import Report, ReportCluster, ReportEvent
from service.reports.service import add_event

# A dossier is a pattern: one case is escalated on its own.
MIN_CASES = 2
MAX_CASES = 5000
# Cases that can never be part of a collective complaint.
_NOT_LINKED = ("withdrawn", "duplicate", "rejected")
# The linked case's timeline (the case page shows the dossier's title after it).
EVENT_LABELS = (
    N_("event:dossier_linked"),
    N_("event:dossier_escalated"),
    N_("event:dossier_response"),
    N_("event:dossier_deadline_missed"),
    N_("event:dossier_closed"),
    N_("event:dossier_ladder_exhausted"),
)
MAX_REASON = 300  # characters (the message below says so)


class DossierClosed(DomainError):
    """The dossier is closed: it takes no new case and is not escalated again."""

    http_status = 409


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("give the dossier a title")
    if len(title) > 200:
        raise InvalidInput("the title is at most 200 characters")
    return title


def _org_cases(session: Session, org_id: int, report_ids: Iterable[int]) -> list[Report]:
    ids = sorted({int(i) for i in report_ids})
    if len(ids) > MAX_CASES:
        raise InvalidInput(f"a dossier links at most {MAX_CASES} cases")
    rows = list(session.exec(select(Report).where(col(Report.id).in_(ids))).all()) if ids else []
    found = {r.id: r for r in rows if r.org_id == org_id}
    missing = [i for i in ids if i not in found]
    if missing:  # another organisation's case is "not found", as everywhere else
        raise NotFound(f"case {missing[0]} not found")
    return [found[i] for i in ids if found[i].status not in _NOT_LINKED]


def build(
    session: Session,
    *,
    org_id: int,
    title: str,
    actor: str,
    report_ids: Iterable[int] = (),
    cluster_id: int | None = None,
    filter_query: str | None = None,
) -> Dossier:
    """A new dossier of the organisation's cases: a cluster's (cluster_id), or the listed ones (report_ids,
    with the saved filter's query string when they came from one). Refuses fewer than MIN_CASES cases."""
    title = _clean_title(title)
    if cluster_id is not None:
        if session.get(ReportCluster, cluster_id) is None:
            raise NotFound("cluster not found")
        report_ids = [
            i
            for i in session.exec(
                select(Report.id).where(Report.cluster_id == cluster_id, Report.org_id == org_id)
            ).all()
            if i is not None
        ]
        source, ref = "cluster", str(cluster_id)
    elif filter_query is not None:
        source, ref = "filter", filter_query.strip()[:600]
    else:
        source, ref = "cases", ""
    cases = _org_cases(session, org_id, report_ids)
    if len(cases) < MIN_CASES:
        raise InvalidInput(f"a dossier needs at least {MIN_CASES} open or settled cases of your organisation")
    dossier = Dossier(org_id=org_id, title=title, source=source, source_ref=ref, created_by=actor)
    session.add(dossier)
    session.flush()
    for report in cases:
        session.add(DossierCase(dossier_id=require_id(dossier), report_id=require_id(report)))
        add_event(session, report, "dossier_linked", actor=actor, detail={"dossier": dossier.id, "title": title})
    session.flush()
    return dossier


def add_cases(session: Session, dossier: Dossier, *, report_ids: Iterable[int], actor: str) -> list[int]:
    """Link more of the organisation's cases (a case that joined the cluster later); already linked ones are
    left alone. Returns the ids newly linked."""
    if dossier.status == "closed":
        raise DossierClosed(N_("the dossier is closed: it takes no new cases"))
    if dossier.status != "draft":
        raise InvalidInput("cases can be added only before the dossier is escalated")
    linked = set(case_ids(session, dossier))
    added = []
    for report in _org_cases(session, dossier.org_id, report_ids):
        if report.id in linked:
            continue
        session.add(DossierCase(dossier_id=require_id(dossier), report_id=require_id(report)))
        add_event(
            session, report, "dossier_linked", actor=actor, detail={"dossier": dossier.id, "title": dossier.title}
        )
        added.append(require_id(report))
    if len(linked) + len(added) > MAX_CASES:
        raise InvalidInput(f"a dossier links at most {MAX_CASES} cases")
    session.flush()
    return added


def get(session: Session, dossier_id: int, *, org_id: int | None) -> Dossier:
    """The dossier, if the organisation holds it (org_id None: a platform administrator)."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None or (org_id is not None and dossier.org_id != org_id):
        raise NotFound("dossier not found")
    return dossier


def list_for(session: Session, *, org_id: int | None) -> list[Dossier]:
    query = select(Dossier).order_by(col(Dossier.id).desc())
    if org_id is not None:
        query = query.where(Dossier.org_id == org_id)
    return list(session.exec(query).all())


def case_ids(session: Session, dossier: Dossier) -> list[int]:
    return list(
        session.exec(
            select(DossierCase.report_id)
            .where(DossierCase.dossier_id == dossier.id)
            .order_by(col(DossierCase.report_id))
        ).all()
    )


def cases(session: Session, dossier: Dossier) -> list[Report]:
    ids = case_ids(session, dossier)
    return (
        list(session.exec(select(Report).where(col(Report.id).in_(ids)).order_by(col(Report.id))).all()) if ids else []
    )


def dossiers_of_case(session: Session, report: Report) -> list[Dossier]:
    """The dossiers a case is linked to (the case page shows them)."""
    return list(
        session.exec(
            select(Dossier)
            .join(DossierCase, col(DossierCase.dossier_id) == col(Dossier.id))
            .where(DossierCase.report_id == report.id)
            .order_by(col(Dossier.id))
        ).all()
    )


def mark_escalated(session: Session, dossier: Dossier, *, escalation_id: int, body_slug: str, actor: str) -> None:
    """Each linked case's timeline says the dossier was sent to a body (the case keeps its own status)."""
    for report in cases(session, dossier):
        if report.status in _NOT_LINKED:
            continue
        detail = {"dossier": dossier.id, "title": dossier.title, "escalation": escalation_id, "body": body_slug}
        add_event(session, report, "dossier_escalated", actor=actor, detail=detail)
    session.flush()


def waiting_escalation(session: Session, dossier: Dossier) -> Escalation | None:
    """The dossier's escalation still waiting for the body's answer, if any."""
    return session.exec(
        select(Escalation)
        .where(Escalation.dossier_id == dossier.id, col(Escalation.status).in_(WAITING))
        .order_by(col(Escalation.id).desc())
    ).first()


def close(session: Session, dossier: Dossier, *, reason: str, actor: str) -> None:
    """Close the dossier with a short reason (masked): it takes no new case and is not escalated again;
    each linked case's timeline says so. An escalation still waiting stays answerable and its deadline
    still counts for the body; only its reminder stops (docs/escalation.md, "Closing a dossier")."""
    if dossier.status == "closed":
        raise DossierClosed(N_("the dossier is already closed"))
    reason = mask(" ".join((reason or "").replace("\x00", "").split()))
    if not reason:
        raise InvalidInput(N_("say in a few words why the dossier is closed"))
    if len(reason) > MAX_REASON:
        raise InvalidInput(N_("the reason is at most 300 characters"))
    waiting = waiting_escalation(session, dossier)
    dossier.status, dossier.closed_at, dossier.closed_by, dossier.closed_reason = "closed", now(), actor, reason
    session.add(dossier)
    detail: dict[str, object] = {"dossier": dossier.id, "title": dossier.title, "reason": reason}
    if waiting is not None:
        detail["waiting"] = waiting.id  # the body may still answer: its answer will reach this case
    for report in cases(session, dossier):
        if report.status not in _NOT_LINKED:
            add_event(session, report, "dossier_closed", actor=actor, detail=detail)
    session.flush()


def announce_answer(
    session: Session,
    dossier: Dossier,
    *,
    escalation_id: int,
    body_slug: str,
    action: str,
    text: str = "",
    via: str = "link",
) -> int:
    """A body answered the dossier: each linked case gets `dossier_response` on its timeline, and each
    consenting reporter hears once, whatever the number of their cases in it, when the answer says action
    is taken or the problem is resolved (an acknowledgement or "not ours" tells the handler only).
    Idempotent for one escalation's answer; returns how many reporters were told."""
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
    told: set[int] = set()
    for report in cases(session, dossier):
        if report.status in _NOT_LINKED:
            continue
        seen = session.exec(
            select(ReportEvent).where(ReportEvent.report_id == report.id, ReportEvent.kind == "dossier_response")
        ).all()
        if any(e.detail.get("escalation") == escalation_id and e.detail.get("action") == action for e in seen):
            continue  # this answer was already passed on
        detail: dict[str, object] = {"dossier": dossier.id, "escalation": escalation_id, "action": action, "via": via}
        if text:
            detail["text"] = text  # the body's answer, masked like every narrative handlers see
        add_event(session, report, "dossier_response", actor=f"body:{body_slug}", detail=detail)
        if action not in ("action_taken", "resolved") or report.reporter_id is None or report.reporter_id in told:
            continue
        if reporter_updates.announce(session, report, "dossier_answered"):
            told.add(report.reporter_id)
    session.flush()
    return len(told)
