"""Retaliation rates per facility (the retaliation watch, docs/retaliation.md): of the check-ins a
reporter answered, how many said they were treated worse or threatened since their report.

A body metric (`queries.register_body_metric`), so the dashboard, the scorecards and the quarterly
report show it with the body figures. Scope: the check-ins of the reports matching the filters
(creation window, place subtree, organisation), like every other figure. A row per facility (the
report's place). The counts are suppressed like every published count (`suppression.suppress` on the
table facility × [no, yes] with its totals); a share is printed only when both the yes count and the
answered total survive suppression. `retaliation_rates` is the plain function another part of the
code can call (raw, private numbers); `rates_table` publishes them."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from service.analytics import queries as q
from service.analytics.publish import threshold as configured_threshold
from service.analytics.suppression import Published, suppress
from service.places.models import Place
from service.reports.models import Report
from service.retaliation import texts
from service.retaliation.models import RetaliationCheckin

TITLE = texts.TITLE_RATES
TEXTS = [texts.RATE, texts.RATE_HIDDEN]


def retaliation_rates(session: Session, filters: q.Filters) -> dict[int | None, tuple[int, int]]:
    """Per place id of the report (None: not given): (answered "no", answered "yes"). Raw counts."""
    stmt = (
        select(col(RetaliationCheckin.place_id), col(RetaliationCheckin.answer), func.count())
        .join(Report, col(Report.id) == col(RetaliationCheckin.report_id))
        .where(and_(*q._where(session, filters), col(RetaliationCheckin.status) == "answered"))
        .group_by(col(RetaliationCheckin.place_id), col(RetaliationCheckin.answer))
    )
    out: dict[int | None, list[int]] = {}
    for place_id, answer, n in session.execute(stmt).all():
        out.setdefault(place_id, [0, 0])[1 if answer == "yes" else 0] += int(n)
    return {place_id: (no, yes) for place_id, (no, yes) in out.items()}


def rates_table(tally: dict[str, tuple[int, int]], *, threshold: int) -> tuple[Published, list[object]]:
    """The table facility × [no, yes] suppressed, and what each facility's row shows: a share when both
    its "yes" and its answered total are published, else the two figures as shown ("<10", "x")."""
    order = sorted(tally)
    pub = suppress(
        [list(tally[name]) for name in order], row_labels=order, col_labels=["no", "yes"], threshold=threshold
    )
    shown: list[object] = []
    for i in range(pub.n_rows):
        yes, answered = pub.cell(i, 1), pub.cell(i, pub.n_cols)
        if yes is not None and answered:
            shown.append(
                {"msgid": TEXTS[0], "params": {"share": round(100 * yes / answered), "yes": yes, "answered": answered}}
            )
        else:
            shown.append({"msgid": TEXTS[1], "params": {"yes": pub.shown(i, 1), "answered": pub.shown(i, pub.n_cols)}})
    return pub, shown


def by_facility(session: Session, filters: q.Filters) -> dict | None:
    """The body metric: one row per facility, and the total."""
    rates = retaliation_rates(session, filters)
    if not rates:
        return None
    places = {
        p.id: p
        for p in session.execute(
            select(Place).where(col(Place.id).in_([pid for pid in rates if pid is not None]))
        ).scalars()
    }
    labels = {pid: (f"{places[pid].name_en}\x00{pid}" if pid in places else "\uffff") for pid in rates}
    tally = {labels[pid]: counts for pid, counts in rates.items()}
    pub, shown = rates_table(tally, threshold=configured_threshold())
    by_label = {v: k for k, v in labels.items()}
    rows: list[tuple[object, object]] = []
    for i, name in enumerate(pub.row_labels):
        place = places.get(by_label[name]) if by_label[name] is not None else None
        label = {"en": place.name_en, "km": place.name_km} if place else {"msgid": texts.PLACE_UNKNOWN}
        rows.append((label, shown[i]))
    yes, answered = pub.cell(pub.n_rows, 1), pub.cell(pub.n_rows, pub.n_cols)
    total = (
        {"msgid": TEXTS[0], "params": {"share": round(100 * yes / answered), "yes": yes, "answered": answered}}
        if yes is not None and answered
        else {
            "msgid": TEXTS[1],
            "params": {"yes": pub.shown(pub.n_rows, 1), "answered": pub.shown(pub.n_rows, pub.n_cols)},
        }
    )
    rows.append(({"msgid": "Total"}, total))
    return {"title": TITLE, "rows": rows, "key": "retaliation"}


def register() -> None:
    """Register the provider once (idempotent)."""
    if by_facility not in q.BODY_METRICS:
        q.register_body_metric(by_facility)
