"""Tags on cases (one and in bulk) and saved queue views: access by organisation, audit, no identifiers."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.kit.errors import InvalidInput, NotFound
from service.queue.actions import NotPermitted
from service.supervision import service as sup
from service.supervision import tags
from service.queue.models import CaseTag
from service.supervision.models import SavedFilter
from tests.support.review import csrf_of, sign_in


def test_tags_are_normalised_and_audited_and_refuse_identifiers(engine, world) -> None:
    handler = world.users["a:handler"]
    with Session(engine) as s:
        case = s.merge(world.cases["a"])
        assert tags.add_tag(s, user=handler, report=case, tag="  Police   Raid ") is True
        assert tags.add_tag(s, user=handler, report=case, tag="police raid") is False  # already there
        assert tags.add_tag(s, user=handler, report=case, tag="ប៉ូលិស") is True
        for bad in ("", "x" * 41, "call +855 12 345 678", "dara@example.org"):
            with pytest.raises(InvalidInput):
                tags.add_tag(s, user=handler, report=case, tag=bad)
        with pytest.raises(InvalidInput):  # an unrouted report belongs to no organisation yet
            tags.add_tag(s, user=world.users["platform"], report=s.merge(world.cases["unrouted"]), tag="x")
        s.commit()
        assert tags.tags_of(s, case.id) == ["police raid", "ប៉ូលិស"]
        tags.remove_tag(s, user=handler, report=case, tag="Police Raid")
        s.commit()
        assert tags.tags_of(s, case.id) == ["ប៉ូលិស"]
        entries = s.exec(select(AuditEvent).where(col(AuditEvent.action).in_(("case.tag", "case.untag")))
                         .order_by(col(AuditEvent.id))).all()
        assert [(e.action, e.object_id) for e in entries] == [("case.tag", str(case.id))] * 2 + \
            [("case.untag", str(case.id))]
        assert "345" not in str([e.detail for e in s.exec(select(AuditEvent)).all()])
        # The organisation's tags and cases: org B sees none of org A's.
        assert tags.org_tags(s, user=handler) == [("ប៉ូលិស", 1)]
        assert tags.org_tags(s, user=world.users["b:supervisor"]) == []
        assert tags.tagged_cases(s, user=world.users["b:supervisor"], tag="ប៉ូលិស") == []
        assert [c.id for c in tags.tagged_cases(s, user=world.users["a:supervisor"], tag="ប៉ូលិស")] == [case.id]


def test_bulk_tag(engine, world) -> None:
    ids = [world.cases["a"].id, world.cases["a2"].id, world.cases["b"].id]
    with Session(engine) as s:
        result = sup.bulk(s, user=world.users["a:supervisor"], report_ids=ids, action="tag", tag="Stock-out")
        s.commit()
        assert result.done == ids[:2] and result.skipped == [(ids[2], "no such case")]
        assert sorted(s.exec(select(CaseTag.report_id).where(CaseTag.tag == "stock-out")).all()) == sorted(ids[:2])
        again = sup.bulk(s, user=world.users["a:supervisor"], report_ids=ids[:1], action="tag", tag="stock-out")
        assert again.done == [] and again.skipped == [(ids[0], "the case has this tag already")]
        with pytest.raises(InvalidInput):
            sup.bulk(s, user=world.users["a:supervisor"], report_ids=ids, action="tag", tag="+85512345678")
        # A handler tags in bulk what they could tag one by one.
        assert sup.bulk(s, user=world.users["a:handler"], report_ids=ids, action="tag", tag="x").done == ids[:2]


def test_saved_views_are_own_or_shared_within_the_organisation(engine, world) -> None:
    with Session(engine) as s:
        mine = tags.save_filter(s, user=world.users["a:handler"], name="My urgent",
                                query="urgency=urgent&cursor=abc&evil=1&q=", shared=False)
        assert mine.query == "urgency=urgent"
        team = tags.save_filter(s, user=world.users["a:supervisor"], name="Overdue police",
                                query="overdue=1&category=human_rights_violation", shared=True)
        with pytest.raises(NotPermitted):
            tags.save_filter(s, user=world.users["a:handler"], name="x", query="overdue=1", shared=True)
        for name, query in (("", "overdue=1"), ("ok", "cursor=1"), ("ok", "q=012 345 678"), ("+85512345678", "overdue=1")):
            with pytest.raises(InvalidInput):
                tags.save_filter(s, user=world.users["a:handler"], name=name, query=query)
        s.commit()
        names = lambda key: [v.name for v in tags.visible_filters(s, user=world.users[key])]  # noqa: E731
        assert names("a:handler") == ["My urgent", "Overdue police"]
        assert names("a:admin") == ["Overdue police"]
        assert names("b:supervisor") == [] and names("b:handler") == []
        with pytest.raises(NotFound):  # another organisation cannot delete, nor learn it exists
            tags.delete_filter(s, user=world.users["b:admin"], filter_id=team.id)
        with pytest.raises(NotPermitted):
            tags.delete_filter(s, user=world.users["a:handler"], filter_id=team.id)
        tags.delete_filter(s, user=world.users["a:admin"], filter_id=team.id)
        s.commit()
        assert s.get(SavedFilter, team.id) is None
        actions = [e.action for e in s.exec(select(AuditEvent).where(col(AuditEvent.action).like("filter.%"))).all()]
        assert actions == ["filter.save", "filter.save", "filter.delete"]


def test_tag_and_view_pages_over_http(app, engine, world) -> None:
    case = world.cases["a"].id
    sign_in(app, "handler@a.test")
    page = app.get(f"/cases/{case}")
    assert 'id="tag-form"' in page.text
    token = csrf_of(page.text)
    assert app.post(f"/cases/{case}/tags", data={"tag": "police"}).status_code == 403  # no CSRF token
    assert app.post(f"/cases/{case}/tags", data={"tag": "police", "csrf_token": token},
                    follow_redirects=False).status_code == 303
    bad = app.post(f"/cases/{case}/tags", data={"tag": "+85512345678", "csrf_token": token})
    assert bad.status_code == 422 and "+85512345678" not in bad.text
    assert ">police</a>" in app.get(f"/cases/{case}").text
    listing = app.get("/tags", params={"tag": "police"})
    assert listing.status_code == 200 and f'data-case="{case}"' in listing.text
    queue = app.get("/", params={"urgency": "normal"})
    assert 'href="/filters?save=urgency%3Dnormal"' in queue.text
    offer = app.get("/filters", params={"save": "urgency=normal"})
    saved = app.post("/filters", data={"name": "Normal ones", "query": "urgency=normal", "csrf_token": csrf_of(offer.text)},
                     follow_redirects=False)
    assert saved.status_code == 303
    assert 'href="/?urgency=normal">Normal ones' in app.get("/filters").text

    sign_in(app, "supervisor@b.test")
    token = csrf_of(app.get("/").text)
    assert app.post(f"/cases/{case}/tags", data={"tag": "x", "csrf_token": token}).status_code == 404
    assert app.post(f"/cases/{case}/tags/remove", data={"tag": "police", "csrf_token": token}).status_code == 404
    assert f'data-case="{case}"' not in app.get("/tags", params={"tag": "police"}).text
    assert "Normal ones" not in app.get("/filters").text
    view = SavedFilter
    with Session(engine) as s:
        fid = s.exec(select(view.id)).one()
        assert tags.tags_of(s, case) == ["police"]
    assert app.post(f"/filters/{fid}/delete", data={"csrf_token": token}).status_code == 404
