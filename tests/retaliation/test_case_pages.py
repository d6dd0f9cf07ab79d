"""The link between a case and the urgent case its reporter's "yes" opened is on both case pages, and a
handler of the other organisation cannot follow it into a case their organisation does not hold."""

from __future__ import annotations

from sqlmodel import Session

from service.reports.models import Report
from service.retaliation.models import RetaliationCheckin
from service.retaliation.service import linked_cases, open_linked_case
from tests.support.review import sign_in


def test_both_timelines_link_the_cases(app, world, engine, settings) -> None:  # type: ignore[no-untyped-def]
    first = world.cases["a"]
    with Session(engine, expire_on_commit=False) as s:
        report = s.get(Report, first.id)
        checkin = RetaliationCheckin(report_id=first.id, day=30, status="sent")
        s.add(checkin)
        s.flush()
        # No retaliation rule in this world: the urgent case stays with the first case's organisation.
        case, _code = open_linked_case(s, report, checkin, "km", settings)  # type: ignore[arg-type]
        s.commit()
        assert case.org_id == first.org_id and case.urgency == "urgent"
        assert linked_cases(s, first.id) == [case.id] and linked_cases(s, case.id) == [first.id]  # type: ignore[arg-type]
        assert "ករណី" in case.narrative_masked  # the reporter's language
    assert sign_in(app, "handler@a.test").status_code == 303
    page = app.get(f"/cases/{first.id}").text
    assert f'href="/cases/{case.id}"' in page and "Retaliation check-in answered" in page
    assert "Treated worse or threatened: urgent case opened" in page
    other = app.get(f"/cases/{case.id}").text
    assert f'href="/cases/{first.id}"' in other and "Urgent case: retaliation after case" in other
    assert "30 days after the escalation" in other
    assert sign_in(app, "handler@b.test").status_code == 303
    assert app.get(f"/cases/{case.id}").status_code == 404
