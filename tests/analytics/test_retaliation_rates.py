"""Retaliation rates per facility (check-ins answered yes / answered) against the exact attacker, and from
the database to the dashboard's and the scorecard's body figures (both databases). The counts are
suppressed as a facility × (no, yes) table with its totals; a share is printed only when its yes count
and its answered total are both published, so it says nothing the table does not."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlmodel import Session

from service.analytics import pages, queries as q
from service.analytics.retaliation import by_facility, rates_table, retaliation_rates
from service.retaliation.models import RetaliationCheckin
from tests.analytics.factories import T0
from tests.support.attacker import can_pin
from tests.support.factories import make_report, place

T = 5
_HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
count = st.integers(min_value=0, max_value=14)


def _pinned(pub) -> list:  # type: ignore[no-untyped-def]
    cap = pub.values[-1][-1] + T
    return [pos for pos in sorted(pub.hidden) if 0 < pub.values[pos[0]][pos[1]] < T
            and can_pin({"rates": pub}, ("rates", pos), pub.values[pos[0]][pos[1]], cap, threshold=T)]


def _check(tally: dict[str, tuple[int, int]]) -> None:
    pub, shown = rates_table(tally, threshold=T)
    assert _pinned(pub) == []
    for i, value in enumerate(shown):
        params = value["params"]  # type: ignore[index]
        if "share" in params:
            # A share only from published numbers, and the numbers it names are the published ones.
            assert (i, 1) not in pub.hidden and (i, pub.n_cols) not in pub.hidden
            assert params["yes"] == pub.values[i][1] and params["answered"] == pub.values[i][pub.n_cols]
        else:
            assert params["yes"] == pub.shown(i, 1) and params["answered"] == pub.shown(i, pub.n_cols)


def test_a_small_yes_count_beside_a_published_total_is_not_given_away() -> None:
    # Facility a: 9 no, 3 yes (12 answered). Printing "12 answered" and "9 no" would give the 3 away.
    tally = {"a": (9, 3), "b": (20, 12), "c": (15, 10)}
    pub, shown = rates_table(tally, threshold=T)
    assert (0, 1) in pub.hidden and (0, 0) in pub.hidden, pub.grid()
    assert shown[0]["params"] == {"yes": "<5", "answered": "12"}  # type: ignore[index]
    assert shown[1]["params"] == {"share": 38, "yes": 12, "answered": 32}  # type: ignore[index]
    assert "share" not in shown[2]["params"], "c's yes hidden as the complement of a's"  # type: ignore[index]
    _check(tally)


@hsettings(max_examples=60, deadline=None, suppress_health_check=_HEALTH)
@given(rows=st.lists(st.tuples(count, count), min_size=1, max_size=5))
def test_no_small_retaliation_count_is_recoverable(rows: list[tuple[int, int]]) -> None:
    _check({f"f{i}": row for i, row in enumerate(rows)})


def _answered(session: Session, place_id: int, yes: int, no: int, at) -> None:  # type: ignore[no-untyped-def]
    for i, answer in enumerate(["yes"] * yes + ["no"] * no):
        report = make_report(session, at=at + timedelta(hours=i), place_id=place_id, category="service_quality")
        session.add(RetaliationCheckin(report_id=report.id, place_id=place_id, day=7, status="answered",  # type: ignore[arg-type]
                                       answer=answer, due_at=at, answered_at=at + timedelta(days=7)))
        # A check-in not answered is not counted anywhere.
        session.add(RetaliationCheckin(report_id=report.id, place_id=place_id, day=30, status="sent", due_at=at))  # type: ignore[arg-type]


def test_rates_from_the_database_reach_the_dashboard_suppressed(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.suppression_threshold = T
    chrey, other = place(session, "KH-2-OD-THMORKOUL-HC-CHREY"), place(session, "KH-12")
    district = place(session, "KH-2-OD-THMORKOUL")
    _answered(session, chrey.id, yes=6, no=14, at=T0)  # type: ignore[arg-type]
    _answered(session, other.id, yes=2, no=1, at=T0)  # type: ignore[arg-type]
    _answered(session, district.id, yes=10, no=30, at=T0)  # type: ignore[arg-type]
    session.commit()
    since, until = q.quarter_window(2026, 3)
    filters = q.Filters(since, until)
    assert retaliation_rates(session, filters) == {chrey.id: (14, 6), other.id: (1, 2), district.id: (30, 10)}
    metric = by_facility(session, filters)
    assert metric is not None and metric["key"] == "retaliation"
    rows = {(label.get("en") or label.get("msgid")): value for label, value in metric["rows"]}  # type: ignore[union-attr]
    # KH-12's 2 of 3 is small; Chrey's 6 of 20 is hidden as its complement; the district's share is shown.
    assert rows[other.name_en]["params"] == {"yes": "<5", "answered": "<5"}
    assert "share" not in rows[chrey.name_en]["params"]
    assert rows[district.name_en]["params"] == {"share": 25, "yes": 10, "answered": 40}
    html = pages.dashboard_page(session, language="en", filters=filters)
    assert "Retaliation after a report, by facility" in html
    assert "25% treated worse or threatened (10 of 40)" in html and "(6 of 20)" not in html
    section = html[html.index('id="body-retaliation"'):]
    section = section[:section.index("</table>")]
    assert not re.search(r">\s*[1-4] of|of [1-4]\b", section), section  # no small count printed
    km = pages.dashboard_page(session, language="km", filters=filters)
    assert "ការសងសឹកក្រោយរបាយការណ៍" in km
    # The district's card: its own check-ins and Chrey's (under it), none small: both shares shown.
    card = pages.scorecard_page(session, place_id=district.id, language="pt", filters=filters)  # type: ignore[arg-type]
    assert "Retaliação após uma queixa" in card and "25% tratados pior ou ameaçados (10 de 40)" in card
    assert "30% tratados pior ou ameaçados (6 de 20)" in card
