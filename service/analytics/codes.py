"""Documentation codes as published figures: how many reports of each violation type by each
perpetrator type, in the window asked for (docs/analytics.md, "Documentation codes").

One table: violation types (rows) by perpetrator types (columns), counting the reports that have at
least one of the two codes, as they stand (a triage suggestion or a handler's code). A report with
one code only counts under "not recorded" for the other. Rows and columns with no report are left
out. The table goes through `suppression.suppress` like every published table: small counts "<10",
complementary suppression over its row and column totals.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from service.analytics import queries as q
from service.analytics.suppression import Published, suppress
from service.kit.i18n import N_, gettext
from service.reports.codes import PERPETRATOR_LABELS, PERPETRATOR_TYPES, VIOLATION_LABELS, VIOLATION_TYPES
from service.reports.models import Report

NOT_RECORDED = "not_recorded"
NOT_RECORDED_LABEL = N_("not recorded")


def code_counts(session: Session, filters: q.Filters) -> Counter[tuple[str, str]]:
    """(violation type, perpetrator type) -> reports in the window ("not_recorded" for a missing code)."""
    conds = [
        *q._where(session, filters),
        or_(col(Report.violation_type).is_not(None), col(Report.perpetrator_type).is_not(None)),
    ]
    rows = session.execute(select(col(Report.violation_type), col(Report.perpetrator_type)).where(and_(*conds))).all()
    return Counter((str(v or NOT_RECORDED), str(p or NOT_RECORDED)) for v, p in rows)


def build_table(counts: Counter[tuple[str, str]], threshold: int, language: str = "en") -> Published | None:
    """The counts suppressed as one table (None when no report has a code)."""
    if not counts:
        return None
    rows = [v for v in (*VIOLATION_TYPES, NOT_RECORDED) if any(k[0] == v for k in counts)]
    cols = [p for p in (*PERPETRATOR_TYPES, NOT_RECORDED) if any(k[1] == p for k in counts)]
    grid = [[counts.get((v, p), 0) for p in cols] for v in rows]
    return suppress(
        grid,
        row_labels=[_label(VIOLATION_LABELS, v, language) for v in rows],
        col_labels=[_label(PERPETRATOR_LABELS, p, language) for p in cols],
        threshold=threshold,
    )


def codes_table(session: Session, *, filters: q.Filters, threshold: int, language: str = "en") -> Published | None:
    return build_table(code_counts(session, filters), threshold, language)


def _label(labels: dict[str, str], key: str, language: str) -> str:
    return gettext(language, labels.get(key, NOT_RECORDED_LABEL))
