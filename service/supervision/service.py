"""A supervisor's day: the workload of each handler, reassignment, and actions on many cases at once.

Plain functions taking a Session first; callers commit. Every case is looked up through
`queue.get_case` (the organisation scope applies: another organisation's case is "no such case")
and every change goes through the one-case action in service/queue/actions.py, so a bulk action
leaves the same timeline events and audit entries as the same action done case by case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from service.auth.principal import Principal
from service.audit.service import record
from service.kit import clock
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.models import require_id
from service.orgs.models import SUPERVISING, Organisation, User
from service.queue import actions
from service.queue.actions import NotPermitted
from service.queue.service import OPEN_STATUSES, get_case
from service.reports.models import Report
from service.reports.service import InvalidTransition
from service.supervision import tags

BULK_ACTIONS = ("assign", "release", "duplicate", "tag")
BULK_MAX = 200  # cases in one bulk action (a page of the handler's list is at most this many)


def require_supervisor(user: Principal) -> None:
    if user.role not in SUPERVISING:
        raise NotPermitted("supervisors and administrators only")


def workload_org(session: Session, user: Principal, org_id: int | None = None) -> Organisation:
    """The organisation whose workload the user sees: their own; a platform administrator picks one."""
    require_supervisor(user)
    if user.org_id is not None:
        if org_id is not None and org_id != user.org_id:
            raise NotFound("no such organisation")
        org = session.get(Organisation, user.org_id)
    else:
        org = (
            session.get(Organisation, org_id)
            if org_id is not None
            else session.exec(select(Organisation).order_by(col(Organisation.slug)).limit(1)).first()
        )
    if org is None:
        raise NotFound("no such organisation")
    return org


@dataclass
class Load:
    """One handler's open cases (user None: the organisation's unassigned cases)."""

    user: User | None
    open: int = 0
    overdue: int = 0
    urgent: int = 0


@dataclass
class Workload:
    org: Organisation
    rows: list[Load] = field(default_factory=list)
    at: datetime | None = None

    @property
    def total(self) -> Load:
        return Load(
            user=None,
            open=sum(r.open for r in self.rows),
            overdue=sum(r.overdue for r in self.rows),
            urgent=sum(r.urgent for r in self.rows),
        )


def members(session: Session, org_id: int) -> list[User]:
    """The organisation's active users (anyone who may hold a case), by email."""
    return list(
        session.exec(
            select(User).where(User.org_id == org_id, col(User.is_active).is_(True)).order_by(col(User.email))
        ).all()
    )


def workload(session: Session, *, user: Principal, org_id: int | None = None) -> Workload:
    """Open, overdue and urgent cases per member of the organisation, most overdue first; the
    unassigned cases last. One grouped query over the organisation's open cases."""
    org = workload_org(session, user, org_id)
    at = clock.now()
    overdue = func.sum(case((col(Report.due_at) < at, 1), else_=0))
    urgent = func.sum(case((col(Report.urgency) == "urgent", 1), else_=0))
    rows = session.exec(
        select(Report.assigned_user_id, func.count(), overdue, urgent)
        .where(
            Report.org_id == org.id,
            col(Report.status).in_(OPEN_STATUSES),
            (col(Report.deferred_until).is_(None)) | (col(Report.deferred_until) <= at),
        )
        .group_by(col(Report.assigned_user_id))
    ).all()
    counts = {uid: (int(n), int(o or 0), int(u or 0)) for uid, n, o, u in rows}
    people = members(session, require_id(org))
    known = {m.id for m in people}
    # Cases held by a user who left the organisation or was deactivated still count, under their account.
    for uid in counts:
        if uid is not None and uid not in known:
            gone = session.get(User, uid)
            if gone is not None:
                people.append(gone)
    loads = [
        Load(
            user=m,
            open=counts.get(m.id, (0, 0, 0))[0],
            overdue=counts.get(m.id, (0, 0, 0))[1],
            urgent=counts.get(m.id, (0, 0, 0))[2],
        )
        for m in people
    ]
    loads.sort(key=lambda r: (-r.overdue, -r.urgent, -r.open, r.user.email if r.user else ""))
    n, o, u = counts.get(None, (0, 0, 0))
    loads.append(Load(user=None, open=n, overdue=o, urgent=u))
    return Workload(org=org, rows=loads, at=at)


def holder(session: Session, *, user: Principal, org: Organisation, holder_id: int | None) -> User | None:
    """The member whose cases are listed (None: the unassigned cases); another organisation's user is NotFound."""
    if holder_id is None:
        return None
    person = session.get(User, holder_id)
    if person is None or person.org_id != org.id:
        raise NotFound("no such user")
    return person


def open_cases(session: Session, *, org: Organisation, holder_id: int | None, limit: int = BULK_MAX) -> list[Report]:
    """The open cases one member holds (None: unassigned), in queue order: urgent first, then deadline, then age."""
    urgency_rank = case((col(Report.urgency) == "urgent", 0), (col(Report.urgency) == "high", 1), else_=2)
    held = col(Report.assigned_user_id).is_(None) if holder_id is None else col(Report.assigned_user_id) == holder_id
    return list(
        session.exec(
            select(Report)
            .where(Report.org_id == org.id, col(Report.status).in_(OPEN_STATUSES), held)
            .order_by(
                urgency_rank, col(Report.due_at).is_(None), col(Report.due_at), col(Report.created_at), col(Report.id)
            )
            .limit(limit)
        ).all()
    )


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (case id, why)


def bulk(
    session: Session,
    *,
    user: Principal,
    report_ids: list[int],
    action: str,
    assignee_id: int | None = None,
    into_id: int | None = None,
    tag: str | None = None,
) -> BulkResult:
    """One action on many cases. Each case on its own (a savepoint each): a case the user may not
    see, or whose state does not allow the action, is skipped with the reason; the others go on.
    The same access rules as one case (service/queue/actions.py): a handler may take cases
    themself, put back their own, tag and mark duplicates; assigning to someone else and
    releasing another person's case are for supervisors and administrators."""
    if action not in BULK_ACTIONS:
        raise InvalidInput("unknown bulk action")
    ids = list(dict.fromkeys(i for i in report_ids if isinstance(i, int) and 0 < i < 2**31))
    if not ids:
        raise InvalidInput("choose at least one case")
    if len(ids) > BULK_MAX:
        raise InvalidInput(f"at most {BULK_MAX} cases at once")
    if action == "assign" and assignee_id is None:
        raise InvalidInput("choose who gets the cases")
    if action == "assign" and assignee_id != user.id and user.role not in SUPERVISING:
        raise NotPermitted("only supervisors and administrators assign cases to others")
    if action == "tag":
        tag = tags.normalise_tag(tag or "")
    if action == "duplicate":
        if into_id is None:
            raise InvalidInput("give the number of the case they duplicate")
        get_case(session, user=user, report_id=into_id)  # NotFound for a case the user cannot see
        if into_id in ids:
            raise InvalidInput("a case cannot be a duplicate of itself")
    result = BulkResult()
    for rid in ids:
        try:
            with session.begin_nested():
                report = get_case(session, user=user, report_id=rid)
                if action in ("assign", "release") and report.status not in OPEN_STATUSES:
                    raise InvalidInput("already closed")
                if action == "assign":
                    if report.assigned_user_id == assignee_id:
                        raise InvalidInput("already assigned to that person")
                    assert assignee_id is not None, "checked before the loop"
                    actions.assign(session, user=user, report=report, assignee_id=assignee_id)
                elif action == "tag":
                    assert tag is not None, "normalised before the loop"
                    if not tags.add_tag(session, user=user, report=report, tag=tag):
                        raise InvalidInput("the case has this tag already")
                elif action == "release":
                    actions.release(session, user=user, report=report)
                else:
                    assert into_id is not None, "checked before the loop"
                    actions.merge(session, user=user, report=report, into_id=into_id)
        except InvalidTransition:
            result.skipped.append((rid, "the case's status does not allow this"))
        except DomainError as exc:
            result.skipped.append((rid, str(exc)))
        else:
            result.done.append(rid)
    record(
        session,
        actor=user.email,
        action=f"case.bulk_{action}",
        object_type="report",
        object_id=None,
        detail={
            "cases": result.done,
            "skipped": len(result.skipped),
            **({"assigned_user_id": assignee_id} if action == "assign" else {}),
            **({"into": into_id} if action == "duplicate" else {}),
            **({"tag": tag} if action == "tag" else {}),
        },
    )
    return result


DONE_TEXT = {
    "assign": "{n} assigned",
    "release": "{n} put back unassigned",
    "tag": "{n} tagged",
    "duplicate": "{n} closed as duplicate",
}


def summary(result: BulkResult, action: str) -> list[tuple[str, dict]]:
    """The result in words, as (catalogue text, its values): how many were done, then how many were
    skipped for each reason ("7 assigned", "1 skipped: already closed")."""
    lines: list[tuple[str, dict]] = [(DONE_TEXT.get(action, "Done for {n} cases."), {"n": len(result.done)})]
    reasons: dict[str, int] = {}
    for _rid, why in result.skipped:
        reasons[why] = reasons.get(why, 0) + 1
    lines += [("{n} skipped: {why}", {"n": n, "why": why}) for why, n in reasons.items()]
    return lines


def reassign_all(
    session: Session, *, user: Principal, org: Organisation, from_id: int | None, to_id: int
) -> BulkResult:
    """Every open case one member holds (or every unassigned case) to another member."""
    cases = open_cases(session, org=org, holder_id=from_id)
    if not cases:
        raise InvalidInput("there are no open cases to move")
    return bulk(session, user=user, report_ids=[require_id(c) for c in cases], action="assign", assignee_id=to_id)
