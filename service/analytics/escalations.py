"""Body metrics from the escalation tables, for the dashboard, the scorecards and the quarterly report.

Registered with `queries.register_body_metric` when the analytics package is imported
(`service/analytics/__init__.py`). Three providers, each `(session, filters) -> {"title", "rows"}`:

* escalations by body and level (count per body);
* share answered within the deadline (per body: on time, late or never, shown as a share
  only when both numbers survive suppression);
* median hours from escalation to the body's first answer (shown only for a body with at
  least the threshold of answers: a median of a handful of cases is about a handful of people).

Every count goes through `suppression.suppress` (these tables are printed on scorecards and
in the quarterly report; the dashboard shows the same, suppressed, so the figures agree).
Scope: the escalated reports matching the filters (report creation window, place subtree,
organisation), like every other figure. Cancelled escalations are not counted; superseded
ones are (the body had the case and its deadline).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from statistics import median

from sqlalchemy import and_, select
from sqlmodel import Session

from service.analytics import queries as q
from service.analytics.suppression import Published, suppress
from service.bodies.models import GrievanceBody
from service.escalation.models import Escalation
from service.kit.clock import now
from service.kit.i18n import N_
from service.reports.models import Report

TITLE_BY_BODY = N_("Escalations by body and level")
TITLE_ON_TIME = N_("Answered within the deadline")
TITLE_MEDIAN = N_("Median hours to the body's answer")
LEVEL_LABELS = {
    "facility": N_("facility"), "hcmc": N_("health centre management committee"),
    "operational_district": N_("operational district"), "province": N_("province"),
    "national": N_("national"), "regional": N_("regional"),
}
TEXTS = [N_("escalations"), N_("on time"), N_("late or unanswered"), N_("{share}% on time ({on_time} of {total})"),
         N_("not shown: too few answers"), N_("{hours} hours ({answers} answers)")]


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _threshold() -> int:
    from service.analytics.publish import threshold

    return threshold()


@dataclass(frozen=True)
class _Esc:
    status: str
    created_at: datetime | None
    due_at: datetime | None
    acknowledged_at: datetime | None
    responded_at: datetime | None
    closed_at: datetime | None


def _rows(session: Session, filters: q.Filters) -> list[tuple[_Esc, GrievanceBody]]:
    """The escalations in scope (plain columns, not ORM objects: the dashboard may read many) and their bodies."""
    stmt = (select(Escalation.body_id, Escalation.status, Escalation.created_at, Escalation.due_at,
                   Escalation.acknowledged_at, Escalation.responded_at, Escalation.closed_at)
            .join(Report, Report.id == Escalation.report_id)
            .where(and_(*q._where(session, filters), Escalation.status != "cancelled")))
    found = session.execute(stmt).all()
    if not found:
        return []
    ids = {r[0] for r in found}
    bodies = {b.id: b for b in session.execute(select(GrievanceBody).where(GrievanceBody.id.in_(ids))).scalars()}  # type: ignore[union-attr]
    return [(_Esc(*r[1:]), bodies[r[0]]) for r in found]


def _body_label(body: GrievanceBody) -> dict[str, object]:
    """A label the templates show in the page's language: the body's name and its level."""
    return {"en": body.name_en, "km": body.name_km, "level": LEVEL_LABELS.get(body.level, body.level)}


def _answered_at(e: _Esc) -> datetime | None:
    """The body's first answer: an acknowledgement, an action, a resolution or 'not ours'."""
    stamps = [_utc(x) for x in (e.acknowledged_at, e.responded_at, e.closed_at) if x is not None]
    if e.status in ("superseded", "expired") and e.acknowledged_at is None and e.responded_at is None:
        return None  # closed_at of a superseded/expired escalation is not an answer
    return min(stamps) if stamps else None  # type: ignore[type-var]


def by_body_and_level(session: Session, filters: q.Filters) -> dict | None:
    found = _rows(session, filters)
    if not found:
        return None
    counts: dict[int, int] = {}
    bodies: dict[int, GrievanceBody] = {}
    for e, b in found:
        counts[b.id] = counts.get(b.id, 0) + 1  # type: ignore[index]
        bodies[b.id] = b  # type: ignore[index]
    order = sorted(counts, key=lambda bid: (-counts[bid], bodies[bid].name_en))
    pub = suppress([[counts[bid]] for bid in order], row_labels=[bodies[bid].slug for bid in order],
                   col_labels=["escalations"], threshold=_threshold())
    rows = [(_body_label(bodies[bid]), pub.shown(i, 0)) for i, bid in enumerate(order)]
    rows.append(({"msgid": "Total"}, pub.shown(pub.n_rows, 0)))
    return {"title": TITLE_BY_BODY, "rows": rows, "key": "escalations_by_body"}


def answered_on_time(session: Session, filters: q.Filters) -> dict | None:
    """Per body: escalations answered by their deadline vs late or never (still-running ones left out)."""
    at = now()
    tally: dict[int, list[int]] = {}
    bodies: dict[int, GrievanceBody] = {}
    for e, b in _rows(session, filters):
        due, answered = _utc(e.due_at), _answered_at(e)
        if due is None:
            continue
        if answered is not None and answered <= due:
            outcome = 0
        elif answered is not None or due < at:
            outcome = 1
        else:
            continue  # deadline still running, no answer yet
        tally.setdefault(b.id, [0, 0])[outcome] += 1  # type: ignore[arg-type]
        bodies[b.id] = b  # type: ignore[index]
    if not tally:
        return None
    order = sorted(tally, key=lambda bid: bodies[bid].name_en)
    pub: Published = suppress([tally[bid] for bid in order], row_labels=[bodies[bid].slug for bid in order],
                              col_labels=["on_time", "late"], threshold=_threshold())
    rows = []
    for i, bid in enumerate(order):
        on_time, total = pub.cell(i, 0), pub.cell(i, pub.n_cols)
        if on_time is not None and total:
            value: object = {"msgid": "{share}% on time ({on_time} of {total})",
                             "params": {"share": round(100 * on_time / total), "on_time": on_time, "total": total}}
        else:
            value = f"{pub.shown(i, 0)} / {pub.shown(i, pub.n_cols)}"
        rows.append((_body_label(bodies[bid]), value))
    return {"title": TITLE_ON_TIME, "rows": rows, "key": "answered_on_time"}


def median_hours_to_answer(session: Session, filters: q.Filters) -> dict | None:
    hours: dict[int, list[float]] = {}
    bodies: dict[int, GrievanceBody] = {}
    for e, b in _rows(session, filters):
        answered, sent = _answered_at(e), _utc(e.created_at)
        bodies[b.id] = b  # type: ignore[index]
        hours.setdefault(b.id, [])  # type: ignore[arg-type]
        if answered is not None and sent is not None:
            hours[b.id].append((answered - sent).total_seconds() / 3600)  # type: ignore[index]
    if not bodies:
        return None
    threshold = _threshold()
    order = sorted(hours, key=lambda bid: bodies[bid].name_en)
    # The number of answers is itself a count: suppressed like any other before it is shown.
    pub = suppress([[len(hours[bid])] for bid in order], row_labels=[bodies[bid].slug for bid in order],
                   col_labels=["answers"], threshold=threshold)
    rows = []
    for i, bid in enumerate(order):
        n = pub.cell(i, 0)
        if n is not None and n >= threshold:
            value: object = {"msgid": "{hours} hours ({answers} answers)",
                             "params": {"hours": round(median(hours[bid]), 1), "answers": n}}
        else:
            value = {"msgid": "not shown: too few answers", "params": {}}
        rows.append((_body_label(bodies[bid]), value))
    return {"title": TITLE_MEDIAN, "rows": rows, "key": "median_hours"}


PROVIDERS = (by_body_and_level, answered_on_time, median_hours_to_answer)


def register() -> None:
    """Register the providers once (idempotent: importing twice adds nothing)."""
    for provider in PROVIDERS:
        if provider not in q.BODY_METRICS:
            q.register_body_metric(provider)
