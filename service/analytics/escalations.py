"""Body metrics from the escalation tables, for the dashboard, the scorecards, the quarterly report,
the public page, Open311's bodies resource and each body's own response page.

Registered with `queries.register_body_metric` when the analytics package is imported
(`service/analytics/__init__.py`). One provider, `body_metrics_of(session, filters)`, computes
every body figure once (`figures`) and returns five tables, each `{"title", "rows", "key"}`:

* escalations by body and level (count per body);
* share answered within the deadline (per body: on time, late or never, shown as a share
  only when both numbers survive suppression);
* median hours from escalation to the body's first answer (shown only for a body with at
  least the threshold of answers: a median of a handful of cases is about a handful of people);
* share answered "not ours" (of the escalations the body answered at all);
* share the reporter said was solved after the body's answer (of the escalations the body
  answered with an action or a resolution before the case was closed, whose reporter answered
  the closing question: "yes" is solved, "partly" and "no" are not).

Every count goes through `suppression.suppress` (these tables are printed on scorecards and
in the quarterly report; the dashboard shows the same, suppressed, so the figures agree).
Scope: the escalated reports matching the filters (report creation window, place subtree,
organisation), like every other figure. Cancelled escalations are not counted; superseded
ones are (the body had the case and its deadline).

A dossier's escalation (docs/escalation.md, "Collective escalation: the dossier") is an escalation the
body had to answer: it counts in the escalations, the deadline, the hours and "not ours", never in
"solved" (no single reporter answers the closing question). It has no report, so it is scoped by the
dossier: built in the window (UTC), of the organisation filtered on, and only when no place or category
is filtered on (its cases span them). It is never rolled up: read live in both paths (`_dossier_rows`).

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

from dataclasses import dataclass
from collections.abc import Iterable

from sqlalchemy import Integer, String, and_, case, cast, func, literal_column, null, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from service.analytics import queries as q
from service.analytics.models import ReportRollup
from service.analytics.publish import default_window, threshold
from service.analytics.suppression import Published, suppress
from service.bodies.models import GrievanceBody
from service.bodies.service import display_name
from service.escalation import routes as respond_routes
from service.escalation.models import WAITING, Dossier, Escalation
from service.kit.clock import now
from service.kit.i18n import N_, gettext
from service.reports.models import Report

TITLE_BY_BODY = N_("Escalations by body and level")
TITLE_ON_TIME = N_("Answered within the deadline")
TITLE_MEDIAN = N_("Median hours to the body's answer")
TITLE_NOT_OURS = N_('Answered "not ours"')
TITLE_SOLVED = N_("Solved, the reporter said, after the body's answer")
LEVEL_LABELS = {
    "facility": N_("facility"),
    "hcmc": N_("health centre management committee"),
    "operational_district": N_("operational district"),
    "province": N_("province"),
    "national": N_("national"),
    "regional": N_("regional"),
}
TEXTS = [
    N_("escalations"),
    N_("on time"),
    N_("late or unanswered"),
    N_("{share}% on time ({on_time} of {total})"),
    N_("not shown: too few answers"),
    N_("{hours} hours ({answers} answers)"),
    N_("{share}% not ours ({not_ours} of {total})"),
    N_("solved: {share}% ({solved} of {total})"),
    N_("How the grievance bodies answered"),
    N_("grievance bodies"),
    N_("Alert when a body falls behind"),
    N_("Saved."),
    N_("Alert below (percent answered on time)"),
    N_("Save"),
    N_(
        "Your supervisors and administrators get one email when a grievance body answers fewer than this share "
        "of your organisation's escalations by their deadline (cases reported in the last {days} days, bodies "
        "with at least {minimum} such escalations), and again only after it has come back up and falls "
        "again. Empty: no alert."
    ),
    N_(
        "Cases sent to each body, counted from the platform's own records of the bodies' answers and the "
        "reporters' closing answers."
    ),
]


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
    return case(
        (and_(answered.is_not(None), answered <= Escalation.due_at), "on_time"),
        (answered.is_not(None), "late"),
        (Escalation.due_at <= func.coalesce(Escalation.closed_at, Escalation.due_at), "late"),
        else_="void",
    )


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
        "esc_deadline": (
            body + ":" + outcome_expr(session),
            [counted, settled_expr(session), col(Escalation.due_at).is_not(None)],
        ),
        "esc_hours": (body + ":" + cast(hours_expr(session), String), [counted, answered_expr(session).is_not(None)]),
    }


def dossier_scope(filters: q.Filters) -> list[ColumnElement[bool]] | None:
    """The conditions (on escalation JOIN dossier) of the dossiers' escalations these filters count, or None:
    none with a place or a category (a dossier's cases span places and categories). A dossier counts in the
    window it was built in, compared in UTC (it has no report, so no report's local day)."""
    if filters.place_id is not None or filters.category is not None:
        return None
    conds: list[ColumnElement[bool]] = [col(Escalation.dossier_id).is_not(None)]
    if filters.since is not None:
        conds.append(col(Dossier.created_at) >= filters.since)
    if filters.until is not None:
        conds.append(col(Dossier.created_at) < filters.until)
    if filters.org_id is not None:
        conds.append(col(Dossier.org_id) == filters.org_id)
    return conds


def _dossier_rows(session: Session, filters: q.Filters, columns: list, *conds: ColumnElement[bool]) -> list[tuple]:
    """Grouped counts of the dossiers' escalations: never rolled up (a dossier has no report to roll up by),
    read live in both paths; they are few (one per body a dossier was sent to)."""
    scope = dossier_scope(filters)
    if scope is None:
        return []
    stmt = (
        select(*columns, func.count())
        .select_from(Escalation)
        .join(Dossier, col(Dossier.id) == col(Escalation.dossier_id))
        .where(and_(*scope, *conds))
        .group_by(*columns)
    )
    return [tuple(row) for row in session.connection().execute(stmt)]


def _grouped(session: Session, filters: q.Filters, dim: str) -> list[tuple[str, int]]:
    """(value, count) of one escalation dimension: from the rollup when it can answer, else from the tables;
    the dossiers' escalations added in both cases."""
    value, extra = rollup_sources(session)[dim]
    scope = q._rollup_scope(session, filters)
    if scope is not q._NO:
        rows = [(str(v), int(n)) for v, n, _ in q._rollup_rows(session, filters, scope, dim, ReportRollup.value)]
    else:
        stmt = (
            select(value, func.count())
            .select_from(Escalation)
            .join(Report, col(Report.id) == Escalation.report_id)
            .where(and_(*q._where(session, filters), *extra))
            .group_by(value)
        )
        # Core rows, not ORM ones: the hours dimension returns tens of thousands of (body, hour) groups.
        rows = [(str(v), int(n)) for v, n in session.connection().execute(stmt)]
    dossier_rows = _dossier_rows(session, filters, [value], *extra)
    if not dossier_rows:
        return rows
    merged: dict[str, int] = {}
    for v, n in [*rows, *dossier_rows]:  # a value both sides have is summed
        merged[str(v)] = merged.get(str(v), 0) + int(n)
    return list(merged.items())


def _overdue_waiting(session: Session, filters: q.Filters) -> dict[int, int]:
    """Per body: escalations still waiting for a first answer whose deadline has passed (late, counted live)."""
    overdue = (
        col(Escalation.status).in_(WAITING),
        col(Escalation.due_at) < now(),
        col(Escalation.acknowledged_at).is_(None),
        col(Escalation.responded_at).is_(None),
        col(Escalation.closed_at).is_(None),
    )
    stmt = (
        select(col(Escalation.body_id), func.count())
        .join(Report, col(Report.id) == Escalation.report_id)
        .where(and_(*q._where(session, filters), *overdue))
        .group_by(col(Escalation.body_id))
    )
    out = {int(b): int(n) for b, n in session.execute(stmt).all()}
    for b, n in _dossier_rows(session, filters, [col(Escalation.body_id)], *overdue):
        out[int(b)] = out.get(int(b), 0) + int(n)
    return out


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
    return {
        "en": body.name_en,
        "km": display_name(body, "km"),
        "pt": display_name(body, "pt"),
        "level": LEVEL_LABELS.get(body.level, body.level),
    }


# -- the two figures read straight from the tables ----------------------------------------------------
# Not rolled up: a rollup built before these figures existed would hold no rows for them, and each is
# one GROUP BY over the escalations of the reports in the filters (indexed by report and creation time).


def _direct(
    session: Session,
    filters: q.Filters,
    value: ColumnElement,
    *conds: ColumnElement[bool],
    with_dossiers: bool = False,
) -> list[tuple]:
    """(body id, value, count) of the cases' escalations, and the dossiers' too with `with_dossiers`."""
    counted = col(Escalation.status) != "cancelled"
    stmt = (
        select(col(Escalation.body_id), value, func.count())
        .select_from(Escalation)
        .join(Report, col(Report.id) == col(Escalation.report_id))
        .where(and_(*q._where(session, filters), counted, *conds))
        .group_by(col(Escalation.body_id), value)
    )
    rows = [tuple(row) for row in session.connection().execute(stmt)]
    if with_dossiers:
        rows += _dossier_rows(session, filters, [col(Escalation.body_id), value], counted, *conds)
    return rows


def not_ours_tally(session: Session, filters: q.Filters) -> dict[int, list[int]]:
    """Per body id: [answered "not ours", answered otherwise] of the escalations the body answered (a
    dossier's too: the body had to answer it)."""
    not_ours = case((col(Escalation.status) == "not_ours", 1), else_=0)
    tally: dict[int, list[int]] = {}
    answered = answered_expr(session).is_not(None)
    for body, flag, n in _direct(session, filters, not_ours, answered, with_dossiers=True):
        tally.setdefault(int(body), [0, 0])[0 if flag else 1] += int(n)
    return tally


def solved_tally(session: Session, filters: q.Filters) -> dict[int, list[int]]:
    """Per body id: [solved, not solved] as the reporter answered the closing question, of the escalations
    the body answered with an action or a resolution before the case was closed (the question is asked
    at closure, so the reporter's answer came after the body's). A dossier's escalation is not counted:
    no single reporter answers the closing question about it."""
    solved = case((col(Report.satisfaction) == "yes", 1), else_=0)
    tally: dict[int, list[int]] = {}
    for body, flag, n in _direct(
        session,
        filters,
        solved,
        col(Escalation.responded_at).is_not(None),
        col(Escalation.status) != "not_ours",
        col(Report.satisfaction).is_not(None),
        col(Report.closed_at).is_not(None),
        col(Escalation.responded_at) <= col(Report.closed_at),
    ):
        tally.setdefault(int(body), [0, 0])[0 if flag else 1] += int(n)
    return tally


# -- every body figure, suppressed -------------------------------------------------------------------


@dataclass
class BodyFigures:
    """The body figures of one set of filters: the bodies in row order and each figure's suppressed table.

    `tables`: "escalations" (body x [escalations]), "deadline" (body x [on time, late]), "answers"
    (body x [not ours, other answers]: its row total is the number of answers the median is taken
    over), "solved" (body x [solved, not solved]). `hours`: raw per-hour counts, for the medians only
    (a median is printed only when its published number of answers is at least the threshold)."""

    order: list[int]
    bodies: dict[int, GrievanceBody]
    tables: dict[str, Published]
    hours: dict[int, dict[int, int]]
    threshold: int

    def share(self, key: str, i: int) -> dict[str, object]:
        """The first column's share of row i: the share only when both numbers are published."""
        pub = self.tables[key]
        part, total = pub.cell(i, 0), pub.cell(i, pub.n_cols)
        if part is not None and total:  # both published: the numbers themselves
            return {"share": round(100 * part / total), "part": part, "total": total}
        return {"share": None, "part": pub.shown(i, 0), "total": pub.shown(i, pub.n_cols)}

    def median(self, i: int) -> dict[str, object]:
        """The median hours of row i, when the published number of answers is at least the threshold."""
        pub = self.tables["answers"]
        n = pub.cell(i, pub.n_cols)
        if n is not None and n >= self.threshold:
            return {"hours": median_of(self.hours.get(self.order[i], {})), "answers": n}
        return {"hours": None, "answers": pub.shown(i, pub.n_cols)}


def figures(session: Session, filters: q.Filters) -> BodyFigures | None:
    """Every body figure for these filters, each table through `suppression.suppress` (None: no escalation)."""
    counts = escalations_per_body(session, filters)
    if not counts:
        return None
    bodies = _bodies(session, counts)
    order = sorted(counts, key=lambda bid: (-counts[bid], bodies[bid].name_en, bid))
    raw = {
        "escalations": {bid: [n] for bid, n in counts.items()},
        "deadline": deadline_tally(session, filters),
        "answers": not_ours_tally(session, filters),
        "solved": solved_tally(session, filters),
    }
    th = _threshold()
    tables = published_tables(raw, order, [bodies[bid].slug for bid in order], th)
    return BodyFigures(order, bodies, tables, answer_hours(session, filters), th)


COLUMNS = {
    "escalations": ["escalations"],
    "deadline": ["on_time", "late"],
    "answers": ["not_ours", "other"],
    "solved": ["solved", "not_solved"],
}


def published_tables(
    raw: dict[str, dict[int, list[int]]], order: list[int], labels: list[str], th: int
) -> dict[str, Published]:
    """The four body tables (rows in `order`, a body missing from a tally counts zeros), each suppressed.
    They share no number (escalations, settled deadlines, answers and closing answers are different
    sets), so each is suppressed on its own; tests/analytics/test_body_attacker.py plays the attacker."""
    return {
        key: suppress(
            [raw.get(key, {}).get(bid, [0] * len(cols)) for bid in order],
            row_labels=labels,
            col_labels=cols,
            threshold=th,
        )
        for key, cols in COLUMNS.items()
    }


def body_rows(figs: BodyFigures | None, language: str) -> list[dict[str, object]]:
    """One flat record per body (Open311's bodies resource, the response page): only published values."""
    out: list[dict[str, object]] = []
    if figs is None:
        return out
    for i, bid in enumerate(figs.order):
        body = figs.bodies[bid]
        on_time, not_ours, solved = figs.share("deadline", i), figs.share("answers", i), figs.share("solved", i)
        median = figs.median(i)
        out.append(
            {
                "body": body.slug,
                "name": display_name(body, language),
                "level": body.level,
                "escalations": figs.tables["escalations"].shown(i, 0),
                # counts as the page shows them ("12", "<10", "x"); a share or a median only where it prints one
                "on_time": str(on_time["part"]),
                "on_time_total": str(on_time["total"]),
                "on_time_share": on_time["share"],
                "median_hours": median["hours"],
                "answers": str(median["answers"]),
                "not_ours": str(not_ours["part"]),
                "not_ours_total": str(not_ours["total"]),
                "not_ours_share": not_ours["share"],
                "solved": str(solved["part"]),
                "solved_total": str(solved["total"]),
                "solved_share": solved["share"],
            }
        )
    return out


# -- the provider ------------------------------------------------------------------------------------

SHARE_TEXTS = {
    "deadline": ("{share}% on time ({on_time} of {total})", "on_time"),
    "answers": ("{share}% not ours ({not_ours} of {total})", "not_ours"),
    "solved": ("solved: {share}% ({solved} of {total})", "solved"),
}


def _share_value(figs: BodyFigures, key: str, i: int) -> object:
    found = figs.share(key, i)
    if found["share"] is None:
        return f"{found['part']} / {found['total']}"
    msgid, name = SHARE_TEXTS[key]
    return {"msgid": msgid, "params": {"share": found["share"], name: found["part"], "total": found["total"]}}


def body_metrics_of(session: Session, filters: q.Filters) -> list[dict] | None:
    """The five body tables (escalations, on time, median hours, not ours, solved), from one `figures`.

    A body with no number in a share's table (nothing settled, answered or closed) has no row there:
    its zero is published as the escalations table's row anyway."""
    figs = figures(session, filters)
    if figs is None:
        return None
    labels = [_body_label(figs.bodies[bid]) for bid in figs.order]
    pub = figs.tables["escalations"]
    by_body = [(labels[i], pub.shown(i, 0)) for i in range(len(figs.order))]
    by_body.append(({"msgid": "Total"}, pub.shown(pub.n_rows, 0)))
    out: list[dict[str, object]] = [{"title": TITLE_BY_BODY, "rows": by_body, "key": "escalations_by_body"}]
    out.append(_share_metric(figs, labels, "deadline", TITLE_ON_TIME, "answered_on_time"))
    median_rows: list[tuple[dict[str, object] | str, object]] = []
    for i in range(len(figs.order)):
        median = figs.median(i)
        value: object = (
            {"msgid": "{hours} hours ({answers} answers)", "params": median}
            if median["hours"] is not None
            else {"msgid": "not shown: too few answers", "params": {}}
        )
        median_rows.append((labels[i], value))
    out.append({"title": TITLE_MEDIAN, "rows": median_rows, "key": "median_hours"})
    out.append(_share_metric(figs, labels, "answers", TITLE_NOT_OURS, "answered_not_ours"))
    out.append(_share_metric(figs, labels, "solved", TITLE_SOLVED, "solved_after_answer"))
    return out


def _share_metric(figs: BodyFigures, labels: list[dict], key: str, title: str, name: str) -> dict:
    raw = figs.tables[key].values
    rows = [(labels[i], _share_value(figs, key, i)) for i in range(len(figs.order)) if raw[i][-1]]
    return {"title": title, "rows": rows, "key": name}


def body_page_figures(session: Session, body_id: int, language: str) -> list[tuple[str, str]]:
    """A body's own row of the published figures (the public page's window, every place), as
    (label, value) in `language`: what its response page shows. Empty when it has no escalation."""
    since, until = default_window()
    figs = figures(session, q.Filters(since, until))
    if figs is None or body_id not in figs.order:
        return []
    i = figs.order.index(body_id)
    median = figs.median(i)
    pub = figs.tables["escalations"]
    hours = (
        gettext(language, "{hours} hours ({answers} answers)", **median)
        if median["hours"] is not None
        else gettext(language, "not shown: too few answers")
    )

    def share(key: str) -> str:
        value = _share_value(figs, key, i)
        return gettext(language, value["msgid"], **value["params"]) if isinstance(value, dict) else str(value)

    return [
        (gettext(language, "escalations"), pub.shown(i, 0)),
        (gettext(language, TITLE_ON_TIME), share("deadline")),
        (gettext(language, TITLE_MEDIAN), hours),
        (gettext(language, TITLE_NOT_OURS), share("answers")),
        (gettext(language, TITLE_SOLVED), share("solved")),
    ]


def register() -> None:
    """Register the provider once (idempotent: importing twice adds nothing), and the body's own
    figures on its response page (escalation's page shows what the packages built on it register)."""
    if body_metrics_of not in q.BODY_METRICS:
        q.register_body_metric(body_metrics_of)
    if body_page_figures not in respond_routes.FIGURE_SOURCES:
        respond_routes.FIGURE_SOURCES.append(body_page_figures)


PROVIDERS = (body_metrics_of,)
