"""Bulk actions and the tag filter in the main review queue (both databases, over HTTP).

Each chosen case goes through the one-case action: the same checks (role, organisation, status),
the same timeline event and audit entry; a case that cannot take the action is skipped with its
reason and the result says how many of each.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.orgs.service import create_user
from service.reports.models import Report
from service.supervision import tags
from tests.support.factories import make_report
from tests.support.review import PASSWORD, csrf_of, sign_in


def _queue(app, query: str = ""):  # type: ignore[no-untyped-def]
    page = app.get("/" + (f"?{query}" if query else ""))
    assert page.status_code == 200
    return page


def _row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-case="(\d+)"', html)]


def test_a_handler_takes_several_cases_from_the_queue(app, engine, world) -> None:
    with Session(engine, expire_on_commit=False) as s:
        closed = make_report(s, org_id=world.orgs["a"], status="closed")
        s.commit()
    sign_in(app, "handler@a.test")
    page = _queue(app)
    # Every row has a check box that belongs to the bulk form (a plain form POST: no JavaScript needed).
    assert f'name="case" value="{world.cases["a"].id}" form="bulk"' in page.text
    assert 'action="/queue/bulk"' in page.text
    chosen = [world.cases["a"].id, world.cases["a2"].id, world.cases["b"].id, closed.id]
    form = {"action": "assign", "user_id": str(world.users["a:handler"].id), "case": [str(i) for i in chosen],
            "back": "category=financial_hardship"}
    assert app.post("/queue/bulk", data=form).status_code == 403  # no CSRF token: nothing happens
    with Session(engine) as s:
        assert s.get(Report, world.cases["a"].id).assigned_user_id is None
    done = app.post("/queue/bulk", data={**form, "csrf_token": csrf_of(page.text)})
    assert done.status_code == 200, done.text
    result = re.search(r'<div[^>]*id="bulk-result".*?</div>', done.text, re.S).group(0)
    assert "2 assigned" in result
    assert "1 skipped: no such case" in result and "1 skipped: already closed" in result
    assert 'href="/?category=financial_hardship"' in done.text  # back to the same view of the queue
    with Session(engine) as s:
        assert {s.get(Report, i).assigned_user_id for i in chosen[:2]} == {world.users["a:handler"].id}
        assert s.get(Report, world.cases["b"].id).assigned_user_id is None
        assert s.get(Report, closed.id).assigned_user_id is None
        assigns = s.exec(select(AuditEvent).where(AuditEvent.action == "case.assign")).all()
        assert sorted(int(a.object_id) for a in assigns) == sorted(chosen[:2])
        summary = s.exec(select(AuditEvent).where(AuditEvent.action == "case.bulk_assign")).one()
        assert summary.detail == {"cases": chosen[:2], "skipped": 2,
                                  "assigned_user_id": world.users["a:handler"].id}
    # Reloading the result page (a GET of its address) goes back to the queue.
    again = app.get("/queue/bulk", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/"


def test_a_handler_may_only_do_what_the_one_case_action_lets_a_handler_do(app, engine, world) -> None:
    with Session(engine, expire_on_commit=False) as s:
        colleague = create_user(s, email="dara@a.test", org_slug="org-a", role="handler", password=PASSWORD)
        held = make_report(s, org_id=world.orgs["a"], assigned_user_id=colleague.id)
        s.commit()
    sign_in(app, "handler@a.test")
    token = csrf_of(_queue(app).text)
    # Giving cases to someone else: supervisors only, refused as a whole.
    given = app.post("/queue/bulk", data={"action": "assign", "user_id": str(colleague.id), "csrf_token": token,
                                          "case": [str(world.cases["a"].id)]})
    assert given.status_code == 403 and "only supervisors and administrators" in given.text
    # Releasing another person's case: skipped with the one-case action's reason.
    released = app.post("/queue/bulk", data={"action": "release", "csrf_token": token, "case": [str(held.id)]})
    assert released.status_code == 200
    assert "0 put back unassigned" in released.text
    assert "only the assignee, a supervisor or an administrator can release a case" in released.text
    # Tagging is anyone's who may see the case.
    tagged = app.post("/queue/bulk", data={"action": "tag", "tag": "Police", "csrf_token": token,
                                           "case": [str(world.cases["a"].id), str(held.id)]})
    assert tagged.status_code == 200 and "2 tagged" in tagged.text
    with Session(engine) as s:
        assert s.get(Report, held.id).assigned_user_id == colleague.id
        assert tags.tags_of(s, held.id) == ["police"]


def test_a_supervisor_assigns_releases_and_closes_duplicates_from_the_queue(app, engine, world) -> None:
    sign_in(app, "supervisor@a.test")
    page = _queue(app)
    handler = world.users["a:handler"]
    # The supervisor chooses among the organisation's members (never another organisation's).
    assert f'<option value="{handler.id}">handler@a.test</option>' in page.text and "b.test" not in page.text
    token = csrf_of(page.text)
    ids = [str(world.cases["a"].id), str(world.cases["a2"].id)]
    assert "2 assigned" in app.post("/queue/bulk", data={"action": "assign", "user_id": str(handler.id),
                                                          "case": ids, "csrf_token": token}).text
    assert "2 put back unassigned" in app.post("/queue/bulk", data={"action": "release", "case": ids,
                                                                    "csrf_token": token}).text
    dup = app.post("/queue/bulk", data={"action": "duplicate", "into": f"#{ids[0]}", "case": ids[1:],
                                        "csrf_token": token})
    assert dup.status_code == 200 and "1 closed as duplicate" in dup.text
    with Session(engine) as s:
        assert s.get(Report, world.cases["a2"].id).status == "duplicate"
        assert s.get(Report, world.cases["a"].id).assigned_user_id is None
        assert len(s.exec(select(AuditEvent).where(AuditEvent.action == "case.release")).all()) == 2


def test_bad_bulk_input_is_a_clear_4xx(app, engine, world) -> None:
    sign_in(app, "supervisor@a.test")
    token = csrf_of(_queue(app).text)
    for form, code, text in (({"action": "assign", "user_id": "1"}, 422, "choose at least one case"),
                             ({"action": "explode", "case": ["1"]}, 422, "unknown bulk action"),
                             ({"action": "assign", "case": ["1"]}, 422, "choose who gets the cases"),
                             ({"action": "duplicate", "case": [str(world.cases["a"].id)], "into": "999999"}, 404,
                              "no such case"),
                             ({"action": "tag", "case": [str(world.cases["a"].id)], "tag": "+85512345678"}, 422,
                              "identifier")):
        response = app.post("/queue/bulk", data={**form, "csrf_token": token})
        assert response.status_code == code, (form, response.status_code)
        assert text in response.text
    assert app.post("/queue/bulk", data={"action": "tag", "case": ["abc"], "csrf_token": token}).status_code == 422
    with Session(engine) as s:
        assert s.exec(select(AuditEvent).where(col(AuditEvent.action).like("case.bulk%"))).all() == []


def test_the_queue_shows_tags_and_filters_by_tag(app, engine, world) -> None:
    with Session(engine) as s:
        tags.add_tag(s, user=world.users["a:handler"], report=s.merge(world.cases["a2"]), tag="Stock-out")
        tags.add_tag(s, user=world.users["b:handler"], report=s.merge(world.cases["b"]), tag="stock-out")
        s.commit()
    sign_in(app, "handler@a.test")
    everything = _queue(app)
    assert sorted(_row_ids(everything.text)) == sorted([world.cases["a"].id, world.cases["a2"].id])
    row = re.search(rf'<tr[^>]*data-case="{world.cases["a2"].id}".*?</tr>', everything.text, re.S).group(0)
    assert 'href="/?tag=stock-out"' in row and "stock-out" in row
    assert 'name="tag"' in everything.text  # the filter form offers the tag
    only = _queue(app, "tag=Stock-out")
    assert _row_ids(only.text) == [world.cases["a2"].id]  # org B's tagged case never shows
    assert 'value="stock-out"' in only.text
    assert _row_ids(_queue(app, "tag=nothing-has-this").text) == []
    # A saved view keeps the tag.
    saved = app.post("/filters", data={"name": "Stock-outs", "query": "tag=stock-out&status=all",
                                       "csrf_token": csrf_of(everything.text)}, follow_redirects=False)
    assert saved.status_code == 303
    assert "tag=stock-out" in app.get("/filters").text
    # The quick filters' counts keep it too.
    counts = app.get("/queue/counts?tag=stock-out")
    assert counts.status_code == 200 and "tag=stock-out" in counts.text
