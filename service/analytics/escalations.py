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

Speed: each figure is one GROUP BY in SQL. When the rollup can answer the filters
(`queries._rollup_scope`), the figures come from `report_rollup` (dimensions `esc_body`,
`esc_deadline`, `esc_hours`, written by `rollup._aggregate` with the expressions below, per
creation day and province of the report), else straight from `escalation` joined to
`report`. Only one part depends on the clock, not on the rows: an escalation still waiting
for its first answer turns "late" when its deadline passes. Those are counted live in both
paths (`_overdue_waiting`: escalations still `open`/`acknowledged` with no answer and a past
deadline — few, because the worker expires them within a minute). Everything else is
"settled" and fixed once written:

* answered (acknowledge, action taken, resolved, not ours) by `due_at` → on time, after → late;
* not answered, expired or superseded once its deadline had passed (`due_at <= closed_at`) → late;
* not answered, superseded before its deadline (the handler went past the body early) → not
  counted: the body's deadline never came while it held the case.

Hours to answer are whole hours (floor), so the median is exact from per-hour counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Integer, String, and_, case, cast, func, literal_column, null, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from service.analytics import queries as q
from service.analytics.models import ReportRollup
from service.analytics.publish import threshold
from service.analytics.suppression import Published, suppress
from service.bodies.models import GrievanceBody
from service.escalation.models import WAITING, Escalation
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


def _threshold() -> int:
    return threshold()


# -- SQL pieces (shared by the rollup and the direct queries, so both give the same figures) ---------

_FAR = "9999-12-31 23:59:59.999999"


def answered_expr(session: Session) -> ColumnElement:
    """The body's first answer: an acknowledgement, an action, a resolution or 'not ours' (NULL: none)."""
    a, r, c = col(Escalation.acknowledged_at), col(Escalation.responded_at), col(Escalation.closed_at)
    if session.get_bind().dialect.name == "postgresql":
        first: ColumnElement = func.least(a, r, c)
    else:  # SQLite's scalar min() is NULL when any argument is: stand NULLs in for "never"
        far: ColumnElement = literal_column(f"'{_FAR}'")
        first = func.nullif(func.min(func.coalesce(a, far), func.coalesce(r, far), func.coalesce(c, far)), far)
    # closed_at of an expired or superseded escalation is when it was taken away, not an answer
    taken_away = and_(col(Escalation.status).in_(("superseded", "expired")), a.is_(None), r.is_(None))
    return case((taken_away, null()), else_=first)


def settled_expr(session: Session) -> ColumnElement[bool]:
    """Whether an escalation's deadline outcome is fixed: answered, or no longer waiting."""
    return or_(answered_expr(session).is_not(None), col(Escalation.status).not_in(WAITING))


def outcome_expr(session: Session) -> ColumnElement[str]:
    """Of a settled escalation with a deadline: on_time, late, or void (taken away before its deadline)."""
    answered = answered_expr(session)
    return case((and_(answered.is_not(None), answered <= Escalation.due_at), "on_time"),
                (answered.is_not(None), "late"),
                (Escalation.due_at <= func.coalesce(Escalation.closed_at, Escalation.due_at), "late"),
                else_="void")


def hours_expr(session: Session) -> ColumnElement[int]:
    """Whole hours (floor) from escalation to the body's first answer."""
    answered = answered_expr(session)
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", answered - Escalation.created_at) / 3600), Integer)
    seconds = cast(func.round((func.julianday(answered) - func.julianday(Escalation.created_at)) * 86400), Integer)
    return seconds // 3600


def rollup_sources(session: Session) -> dict[str, tuple[ColumnElement, list[ColumnElement[bool]]]]:
    """dim -> (value expression, conditions) over escalation JOIN report, for rollup._aggregate."""
    body = cast(Escalation.body_id, String)
    counted = col(Escalation.status) != "cancelled"
    return {
        "esc_body": (body, [counted]),
        "esc_deadline": (body + ":" + outcome_expr(session),
                         [counted, settled_expr(session), col(Escalation.due_at).is_not(None)]),
        "esc_hours": (body + ":" + cast(hours_expr(session), String),
                      [counted, answered_expr(session).is_not(None)]),
    }


def _grouped(session: Session, filters: q.Filters, dim: str) -> list[tuple[str, int]]:
    """(value, count) of one escalation dimension: from the rollup when it can answer, else from the tables."""
    scope = q._rollup_scope(session, filters)
    if scope is not q._NO:
        return [(str(v), int(n)) for v, n, _ in q._rollup_rows(session, filters, scope, dim, ReportRollup.value)]
    value, extra = rollup_sources(session)[dim]
    stmt = (select(value, func.count()).select_from(Escalation).join(Report, col(Report.id) == Escalation.report_id)
            .where(and_(*q._where(session, filters), *extra)).group_by(value))
    # Core rows, not ORM ones: the hours dimension returns tens of thousands of (body, hour) groups.
    return [(str(v), int(n)) for v, n in session.connection().execute(stmt)]


def _overdue_waiting(session: Session, filters: q.Filters) -> dict[int, int]:
    """Per body: escalations still waiting for a first answer whose deadline has passed (late, counted live)."""
    stmt = (select(col(Escalation.body_id), func.count()).join(Report, col(Report.id) == Escalation.report_id)
            .where(and_(*q._where(session, filters), col(Escalation.status).in_(WAITING),
                        col(Escalation.due_at) < now(), col(Escalation.acknowledged_at).is_(None),
                        col(Escalation.responded_at).is_(None), col(Escalation.closed_at).is_(None)))
            .group_by(col(Escalation.body_id)))
    return {int(b): int(n) for b, n in session.execute(stmt).all()}


# -- the figures (raw, private numbers; the providers below suppress them) -----------------------------

def escalations_per_body(session: Session, filters: q.Filters) -> dict[int, int]:
    """Escalations (not cancelled) per body id."""
    return {int(v): n for v, n in _grouped(session, filters, "esc_body")}


def deadline_tally(session: Session, filters: q.Filters) -> dict[int, list[int]]:
    """Per body id: [answered on time, late or never] (still running ones left out)."""
    tally: dict[int, list[int]] = {}
    for value, n in _grouped(session, filters, "esc_deadline"):
        body, outcome = value.split(":")
        if outcome != "void":
            tally.setdefault(int(body), [0, 0])[0 if outcome == "on_time" else 1] += n
    for body_id, n in _overdue_waiting(session, filters).items():
        tally.setdefault(body_id, [0, 0])[1] += n
    return tally


def answer_hours(session: Session, filters: q.Filters) -> dict[int, dict[int, int]]:
    """Per body id: {whole hours to the first answer: number of escalations}."""
    out: dict[str, dict[int, int]] = {}
    for value, n in _grouped(session, filters, "esc_hours"):
        body, _, hours = value.partition(":")
        per = out.get(body)
        if per is None:
            per = out[body] = {}
        per[int(hours)] = n  # one row per (body, hours): the query grouped them
    return {int(b): per for b, per in out.items()}


def median_of(counts: dict[int, int]) -> float | None:
    """The median of a multiset given as {value: count}."""
    total = sum(counts.values())
    if not total:
        return None
    wanted, seen, lower = ((total - 1) // 2, total // 2), 0, None
    for value in sorted(counts):
        seen += counts[value]
        if lower is None and seen > wanted[0]:
            lower = value
        if seen > wanted[1]:
            assert lower is not None, "set at this value or before: wanted[0] <= wanted[1]"
            return (lower + value) / 2
    return None


def _bodies(session: Session, ids: Iterable[int]) -> dict[int, GrievanceBody]:
    wanted = list(ids)
    if not wanted:
        return {}
    return {b.id: b for b in session.execute(select(GrievanceBody).where(col(GrievanceBody.id).in_(wanted))).scalars()}


def _body_label(body: GrievanceBody) -> dict[str, object]:
    """A label the templates show in the page's language: the body's name and its level."""
    return {"en": body.name_en, "km": body.name_km, "level": LEVEL_LABELS.get(body.level, body.level)}


# -- the providers ----------------------------------------------------------------------------------

def by_body_and_level(session: Session, filters: q.Filters) -> dict | None:
    counts = escalations_per_body(session, filters)
    if not counts:
        return None
    bodies = _bodies(session, counts)
    order = sorted(counts, key=lambda bid: (-counts[bid], bodies[bid].name_en))
    pub = suppress([[counts[bid]] for bid in order], row_labels=[bodies[bid].slug for bid in order],
                   col_labels=["escalations"], threshold=_threshold())
    rows = [(_body_label(bodies[bid]), pub.shown(i, 0)) for i, bid in enumerate(order)]
    rows.append(({"msgid": "Total"}, pub.shown(pub.n_rows, 0)))
    return {"title": TITLE_BY_BODY, "rows": rows, "key": "escalations_by_body"}


def answered_on_time(session: Session, filters: q.Filters) -> dict | None:
    """Per body: escalations answered by their deadline vs late or never (still-running ones left out)."""
    tally = deadline_tally(session, filters)
    if not tally:
        return None
    bodies = _bodies(session, tally)
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
    escalated = escalations_per_body(session, filters)
    if not escalated:
        return None
    hours = answer_hours(session, filters)
    bodies = _bodies(session, escalated)
    threshold = _threshold()
    order = sorted(escalated, key=lambda bid: bodies[bid].name_en)
    # The number of answers is itself a count: suppressed like any other before it is shown.
    pub = suppress([[sum(hours.get(bid, {}).values())] for bid in order],
                   row_labels=[bodies[bid].slug for bid in order], col_labels=["answers"], threshold=threshold)
    rows = []
    for i, bid in enumerate(order):
        n = pub.cell(i, 0)
        if n is not None and n >= threshold:
            value: object = {"msgid": "{hours} hours ({answers} answers)",
                             "params": {"hours": median_of(hours[bid]), "answers": n}}
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
