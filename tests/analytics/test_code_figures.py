"""Documentation codes as published figures: rights violations by violation type and perpetrator type,
suppressed like every published table, in the quarterly report and the aggregates export (through the
web route, scoped to the organisation); and the attacker, who cannot work out a hidden count."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlmodel import Session

from service.analytics import codes as code_figures, pages, queries as q, service as svc
from service.kit.clock import now
from tests.support.attacker import can_pin
from tests.support.factories import make_report
from tests.support.review import sign_in

T = 5  # the threshold of these tests
Q3_AT = datetime(2026, 7, 10, 9, 30, tzinfo=timezone.utc)
Q3 = q.Filters(*q.quarter_window(2026, 3))


def _seed(session: Session, at: datetime = Q3_AT, **columns: object) -> None:
    rights = dict(category="human_rights_violation", at=at, **columns)
    for _ in range(7):
        make_report(session, perpetrator_type="police", perpetrator_source="handler",
                    violation_type="arbitrary_detention", violation_source="handler", **rights)
    for _ in range(6):
        make_report(session, perpetrator_type="police", perpetrator_source="triage",
                    violation_type="extortion", violation_source="triage", **rights)
    for _ in range(2):  # two reports of sexual violence by a family member: never printed as 2
        make_report(session, perpetrator_type="family_member", perpetrator_source="handler",
                    violation_type="sexual_violence", violation_source="handler", **rights)
    make_report(session, violation_type="threats", violation_source="triage", **rights)  # no perpetrator
    make_report(session, **rights)  # no code: not counted
    session.commit()


def test_the_table_counts_each_code_pair_suppressed(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    _seed(session)
    counts = code_figures.code_counts(session, Q3)
    assert counts == Counter({("arbitrary_detention", "police"): 7, ("extortion", "police"): 6,
                              ("sexual_violence", "family_member"): 2, ("threats", "not_recorded"): 1})
    table = code_figures.codes_table(session, filters=Q3, threshold=T)
    assert table is not None
    assert table.row_labels == ["arbitrary arrest or detention", "sexual violence", "extortion or bribery",
                                "threats or intimidation"]
    assert table.col_labels == ["police", "family member or partner", "not recorded"]
    assert table.cell(0, 0) == 7 and table.cell(2, 0) == 6
    assert (1, 1) in table.hidden and (3, 2) in table.hidden, "1 and 2 are small counts"
    shown = [v for row in table.grid() for v in row]
    assert "2" not in shown and "1" not in shown
    # Khmer labels.
    km = code_figures.codes_table(session, filters=Q3, threshold=T, language="km")
    assert km is not None and km.col_labels[0] == "ប៉ូលីស" and km.row_labels[0].startswith("ការចាប់ខ្លួន")

    # The quarterly report (English and Khmer) prints the same suppressed table.
    report = pages.quarterly_report_html(session, year=2026, quarter=3)
    section = report.split('id="codes"')[1].split("</section>")[0]
    assert "Rights violations by type and perpetrator" in section and ">7<" in section and f"&lt;{T}" in section
    assert ">2<" not in section and ">1<" not in section
    assert "ការរំលោភសិទ្ធិ តាមប្រភេទ និងអ្នករំលោភ" in pages.quarterly_report_html(session, year=2026, quarter=3,
                                                                                     language="km")
    dashboard = pages.dashboard_page(session, filters=Q3)
    section = dashboard.split('id="codes"')[1].split("</section>")[0]
    assert ">7<" in section and f"&lt;{T}" in section and ">2<" not in section
    empty = pages.quarterly_report_html(session, year=2026, quarter=1)
    assert "No report in this period has a documentation code." in empty

    # The aggregates export holds the table as published.
    data = svc.export_csv(session, tables={"documentation_codes": table}, actor="h@x", role="handler")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert ["documentation_codes"] in rows
    assert rows[rows.index(["documentation_codes"]) + 2][:2] == ["arbitrary arrest or detention", "7"]


def test_the_aggregates_export_route_publishes_the_codes_table(app, world, engine, places, settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    with Session(engine) as s:
        _seed(s, at=now() - timedelta(minutes=5), org_id=world.orgs["a"])
        _seed(s, at=now() - timedelta(minutes=5), org_id=world.orgs["b"])
    assert sign_in(app, "handler@a.test").status_code == 303
    response = app.get("/exports/aggregates.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    at = rows.index(["documentation_codes"])
    table = rows[at + 1: rows.index([], at)]
    assert table[0][:2] == ["", "police"]
    assert table[1][:2] == ["arbitrary arrest or detention", "7"], "org A's own 7, not both organisations' 14"
    numbers = [c for row in table[1:] for c in row[1:]]
    assert "2" not in numbers and "1" not in numbers


def test_the_case_export_has_the_codes(session: Session, places: None) -> None:
    _seed(session)
    data = svc.export_cases(session, filters=Q3, actor="s@x", role="supervisor").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert Counter((r["violation_type"], r["perpetrator_type"]) for r in rows)[("extortion", "police")] == 6


# -- the attacker ---------------------------------------------------------------------------------------

VIOLATIONS = ["arbitrary_detention", "extortion", "physical_violence", "not_recorded"]
PERPETRATORS = ["police", "health_worker", "family_member", "not_recorded"]


@st.composite
def code_counts(draw) -> Counter[tuple[str, str]]:  # type: ignore[no-untyped-def]
    counts: Counter[tuple[str, str]] = Counter()
    for v in VIOLATIONS:
        for p in PERPETRATORS:
            if v == p == "not_recorded":
                continue  # a report with no code is not counted
            n = draw(st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 9, 12, 30]))
            if n:
                counts[(v, p)] = n
    return counts


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code_counts())
def test_the_attacker_learns_no_small_count(counts) -> None:  # type: ignore[no-untyped-def]
    pub = code_figures.build_table(counts, T)
    if not counts:
        assert pub is None
        return
    assert pub is not None
    for row in pub.grid():
        for shown in row:
            assert not (shown.isdigit() and 0 < int(shown) < T), pub.grid()
    cap = pub.values[-1][-1] + T
    for pos in sorted(pub.hidden):
        value = pub.values[pos[0]][pos[1]]
        if 0 < value < T:
            assert not can_pin({"codes": pub}, ("codes", pos), value, cap, threshold=T), (pos, pub.grid())

