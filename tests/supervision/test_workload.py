"""The supervisor's workload view, reassignment and bulk actions: counts, access, audit (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.audit.service import verify
from service.kit.errors import InvalidInput, NotFound
from service.orgs.service import create_user
from service.queue.actions import NotPermitted
from service.reports.models import Report, ReportEvent
from service.supervision import service as sup
from tests.support.factories import make_report
from tests.support.review import PASSWORD, build_world, csrf_of, sign_in


@pytest.fixture
def day(engine):  # type: ignore[no-untyped-def]
    """Org A with two handlers: Dara holds an overdue urgent case and a normal one, Sophea one case,
    one case unassigned, one closed case of Dara's (not counted). Org B as build_world makes it."""
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
        a = world.orgs["a"]
        dara = create_user(s, email="dara@a.test", org_slug="org-a", role="handler", password=PASSWORD)
        sophea = create_user(s, email="sophea@a.test", org_slug="org-a", role="handler", password=PASSWORD)
        late = make_report(s, org_id=a, urgency="urgent", due_in=timedelta(hours=-2), assigned_user_id=dara.id)
        mine = make_report(s, org_id=a, due_in=timedelta(hours=30), assigned_user_id=dara.id)
        make_report(s, org_id=a, assigned_user_id=dara.id, status="closed")
        theirs = make_report(s, org_id=a, urgency="high", assigned_user_id=sophea.id)
        s.commit()
        world.users.update(dara=dara, sophea=sophea)
        world.cases.update(late=late, mine=mine, theirs=theirs)
        return world


def _load(work: sup.Workload, email: str | None) -> tuple[int, int, int]:
    row = next(r for r in work.rows if (r.user.email if r.user else None) == email)
    return row.open, row.overdue, row.urgent


def test_workload_counts_open_overdue_and_urgent_per_handler(engine, day) -> None:
    with Session(engine) as s:
        work = sup.workload(s, user=day.users["a:supervisor"])
    assert work.org.id == day.orgs["a"]
    assert _load(work, "dara@a.test") == (2, 1, 1)
    assert _load(work, "sophea@a.test") == (1, 0, 0)
    assert _load(work, None) == (2, 0, 0)  # build_world's two org A cases, nobody holds them
    assert work.rows[0].user.email == "dara@a.test"  # the most overdue first
    assert work.rows[-1].user is None  # the unassigned last
    assert "handler@b.test" not in {r.user.email for r in work.rows if r.user}
    assert (work.total.open, work.total.overdue, work.total.urgent) == (5, 1, 1)


def test_workload_is_for_supervisors_of_their_own_organisation(engine, day) -> None:
    with Session(engine) as s:
        with pytest.raises(NotPermitted):
            sup.workload(s, user=day.users["a:handler"])
        with pytest.raises(NotFound):  # another organisation's workload: no hint it exists
            sup.workload(s, user=day.users["b:supervisor"], org_id=day.orgs["a"])
        assert sup.workload(s, user=day.users["b:supervisor"]).org.id == day.orgs["b"]
        # A platform administrator picks the organisation.
        assert _load(sup.workload(s, user=day.users["platform"], org_id=day.orgs["a"]), "dara@a.test") == (2, 1, 1)


def test_bulk_assign_moves_cases_with_the_same_events_and_audit_as_one_by_one(engine, day) -> None:
    ids = [day.cases["late"].id, day.cases["mine"].id]
    with Session(engine) as s:
        result = sup.bulk(s, user=day.users["a:supervisor"], report_ids=ids, action="assign",
                          assignee_id=day.users["sophea"].id)
        s.commit()
    assert result.done == ids and result.skipped == []
    with Session(engine) as s:
        assert {s.get(Report, i).assigned_user_id for i in ids} == {day.users["sophea"].id}
        assigns = s.exec(select(AuditEvent).where(AuditEvent.action == "case.assign")).all()
        assert sorted(int(a.object_id) for a in assigns) == sorted(ids)
        assert all(a.actor == "supervisor@a.test" and a.detail["before"]["assigned_user_id"] == day.users["dara"].id
                   for a in assigns)
        summary = s.exec(select(AuditEvent).where(AuditEvent.action == "case.bulk_assign")).one()
        assert summary.detail["cases"] == ids
        events = s.exec(select(ReportEvent).where(col(ReportEvent.report_id).in_(ids), ReportEvent.kind == "assigned")).all()
        assert len(events) == 2
        assert verify(s) == (True, None)
        work = sup.workload(s, user=day.users["a:supervisor"])
    assert _load(work, "dara@a.test") == (0, 0, 0) and _load(work, "sophea@a.test") == (3, 1, 1)


def test_bulk_skips_another_organisations_case_and_leaves_it_alone(engine, day) -> None:
    other = day.cases["b"].id
    with Session(engine) as s:
        result = sup.bulk(s, user=day.users["a:supervisor"], report_ids=[day.cases["a"].id, other], action="assign",
                          assignee_id=day.users["dara"].id)
        s.commit()
    assert result.done == [day.cases["a"].id]
    assert result.skipped == [(other, "no such case")]
    with Session(engine) as s:
        assert s.get(Report, other).assigned_user_id is None
        assert s.exec(select(AuditEvent).where(AuditEvent.object_id == str(other))).all() == []
        # Nor can a case go to another organisation's user.
        result = sup.bulk(s, user=day.users["a:supervisor"], report_ids=[day.cases["a2"].id], action="assign",
                          assignee_id=day.users["b:handler"].id)
        assert result.done == [] and result.skipped[0][1] == "that user cannot handle this case"


def test_handlers_cannot_give_cases_to_others_in_bulk(engine, day) -> None:
    with Session(engine) as s:
        with pytest.raises(NotPermitted):
            sup.bulk(s, user=day.users["dara"], report_ids=[day.cases["a"].id], action="assign",
                     assignee_id=day.users["sophea"].id)
        # Taking them oneself is what the one-case action allows a handler.
        assert sup.bulk(s, user=day.users["dara"], report_ids=[day.cases["a"].id], action="assign",
                        assignee_id=day.users["dara"].id).done == [day.cases["a"].id]


def test_bulk_close_as_duplicate(engine, day) -> None:
    target = day.cases["theirs"].id
    ids = [day.cases["a"].id, day.cases["a2"].id]
    with Session(engine) as s:
        with pytest.raises(NotFound):  # the original must be a case the supervisor can see
            sup.bulk(s, user=day.users["a:supervisor"], report_ids=ids, action="duplicate", into_id=day.cases["b"].id)
        with pytest.raises(InvalidInput):
            sup.bulk(s, user=day.users["a:supervisor"], report_ids=[target], action="duplicate", into_id=target)
        result = sup.bulk(s, user=day.users["a:supervisor"], report_ids=ids, action="duplicate", into_id=target)
        s.commit()
    assert result.done == ids
    with Session(engine) as s:
        cases = [s.get(Report, i) for i in ids]
        assert {c.status for c in cases} == {"duplicate"}
        assert len({c.cluster_id for c in cases} | {s.get(Report, target).cluster_id}) == 1
        assert len(s.exec(select(AuditEvent).where(AuditEvent.action == "case.merge")).all()) == 2
        # Marking them again: each is skipped with its reason, nothing changes, nothing half-done.
        again = sup.bulk(s, user=day.users["a:supervisor"], report_ids=ids, action="duplicate", into_id=target)
        s.commit()
        assert again.done == [] and len(again.skipped) == 2
        assert len(s.exec(select(AuditEvent).where(AuditEvent.action == "case.merge")).all()) == 2


def test_reassign_all_of_a_handler(engine, day) -> None:
    with Session(engine) as s:
        org = sup.workload_org(s, day.users["a:admin"])
        result = sup.reassign_all(s, user=day.users["a:admin"], org=org, from_id=day.users["dara"].id,
                                  to_id=day.users["sophea"].id)
        s.commit()
        assert sorted(result.done) == sorted([day.cases["late"].id, day.cases["mine"].id])
        with pytest.raises(InvalidInput):  # nothing left to move
            sup.reassign_all(s, user=day.users["a:admin"], org=org, from_id=day.users["dara"].id,
                             to_id=day.users["sophea"].id)


# -- the pages ---------------------------------------------------------------------------------------

def test_workload_pages_and_reassignment_over_http(app, engine, day) -> None:
    sign_in(app, "supervisor@a.test")
    page = app.get("/supervise/workload")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'data-holder="%d"' % day.users["dara"].id in page.text and "b.test" not in page.text
    dara = app.get(f"/supervise/workload/{day.users['dara'].id}")
    assert f'data-case="{day.cases["late"].id}"' in dara.text and f'data-case="{day.cases["theirs"].id}"' not in dara.text
    form = {"action": "assign", "case": [str(day.cases["late"].id)], "user_id": str(day.users["sophea"].id)}
    # No CSRF token: refused, nothing moves.
    assert app.post(f"/supervise/workload/{day.users['dara'].id}/bulk", data=form).status_code == 403
    done = app.post(f"/supervise/workload/{day.users['dara'].id}/bulk", data={**form, "csrf_token": csrf_of(dara.text)})
    assert done.status_code == 200 and 'id="bulk-result"' in done.text
    with Session(engine) as s:
        assert s.get(Report, day.cases["late"].id).assigned_user_id == day.users["sophea"].id
    moved = app.post(f"/supervise/workload/{day.users['dara'].id}/reassign-all",
                     data={"user_id": str(day.users["sophea"].id), "csrf_token": csrf_of(dara.text)})
    assert moved.status_code == 200
    with Session(engine) as s:
        assert s.get(Report, day.cases["mine"].id).assigned_user_id == day.users["sophea"].id
    # Bad input: a clear 4xx, never a 500.
    assert app.post(f"/supervise/workload/{day.users['dara'].id}/bulk",
                    data={"action": "explode", "case": ["1"], "csrf_token": csrf_of(dara.text)}).status_code == 422
    assert app.get("/supervise/workload/abc").status_code == 404


def test_another_organisation_cannot_see_or_act_on_the_workload(app, engine, day) -> None:
    sign_in(app, "supervisor@b.test")
    token = csrf_of(app.get("/").text)
    page = app.get("/supervise/workload")
    assert page.status_code == 200 and "a.test" not in page.text
    assert app.get(f"/supervise/workload/{day.users['dara'].id}").status_code == 404
    assert app.get(f"/supervise/workload?org={day.orgs['a']}").status_code == 404
    response = app.post(f"/supervise/workload/{day.users['dara'].id}/reassign-all",
                        data={"user_id": str(day.users["sophea"].id), "csrf_token": token})
    assert response.status_code == 404
    bulk = app.post("/supervise/workload/unassigned/bulk",
                    data={"action": "assign", "case": [str(day.cases["late"].id)],
                          "user_id": str(day.users["b:handler"].id), "csrf_token": token})
    assert bulk.status_code == 200 and "no such case" in bulk.text
    sign_in(app, "handler@a.test")
    assert app.get("/supervise/workload").status_code == 403
    token = csrf_of(app.get("/").text)
    assert app.post("/supervise/workload/unassigned/bulk", data={"action": "release", "case": ["1"],
                                                                  "csrf_token": token}).status_code == 403
    with Session(engine) as s:
        assert s.get(Report, day.cases["late"].id).assigned_user_id == day.users["dara"].id
        # Only the bulk request itself is on record (nothing done, one skipped; not which case).
        entries = s.exec(select(AuditEvent).where(col(AuditEvent.action).like("case.%"),
                                                  AuditEvent.actor != "supervisor@a.test")).all()
        assert [(e.action, e.detail["cases"], e.detail["skipped"]) for e in entries] == [("case.bulk_assign", [], 1)]
