"""A dossier from a saved view of the queue, through the app over HTTP: the organisation's cases the view
shows now (every page, never another organisation's nor a withdrawn one), its query kept as the source;
supervisors and administrators only."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.escalation.models import Dossier
from tests.support.factories import make_report
from tests.support.review import bearer, csrf_of, sign_in

QUERY = "category=financial_hardship&status=all"


def _save_view(app, name: str, query: str, shared: bool = True) -> int:  # type: ignore[no-untyped-def]
    offer = app.get("/filters", params={"save": query})
    data = {"name": name, "query": query, "csrf_token": csrf_of(offer.text)} | ({"shared": "1"} if shared else {})
    assert app.post("/filters", data=data, follow_redirects=False).status_code == 303
    found = re.search(rf'<tr data-view="(\d+)"><td><a href="/\?[^"]*">{re.escape(name)}</a>', app.get("/filters").text)
    assert found, name
    return int(found.group(1))


def test_a_supervisor_builds_a_dossier_from_a_saved_view(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        more = [make_report(s, org_id=world.orgs["a"], category="financial_hardship", status=status)
                for status in ("in_progress", "resolved", "received")]
        withdrawn = make_report(s, org_id=world.orgs["a"], category="financial_hardship", status="withdrawn")
        make_report(s, org_id=world.orgs["b"], category="financial_hardship")  # another organisation's
        make_report(s, org_id=world.orgs["a"], category="stigma_discrimination")  # not in the view
        lonely = make_report(s, org_id=world.orgs["a"], category="human_rights_violation")
        s.commit()
    want = sorted([world.cases["a"].id, *(r.id for r in more)])

    sign_in(app, "supervisor@a.test")
    view = _save_view(app, "Informal fees", QUERY)
    few = _save_view(app, "Rights", "category=human_rights_violation&status=all")
    page = app.get("/filters").text
    assert f'action="/filters/{view}/dossier"' in page and "Build a dossier from these cases" in page
    token = csrf_of(page)
    url = f"/filters/{view}/dossier"
    assert app.post(url, data={"title": "Fees", "csrf_token": "forged"}).status_code in (400, 403)
    assert app.post(url, data={"title": "  ", "csrf_token": token}).status_code == 422
    refused = app.post(f"/filters/{few}/dossier", data={"title": "One case", "csrf_token": token})
    assert refused.status_code == 422 and "at least 2" in refused.text  # a pattern needs two cases, never a 500
    assert app.post("/filters/999999/dossier", data={"title": "x", "csrf_token": token}).status_code == 404
    made = app.post(url, data={"title": "Informal fees, Chrey", "csrf_token": token}, follow_redirects=False)
    assert made.status_code == 303, made.text
    dossier_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert "Informal fees, Chrey" in app.get(made.headers["location"]).text

    read = app.get(f"/api/v1/dossiers/{dossier_id}", headers=bearer(app, "supervisor@a.test")).json()
    assert read["case_ids"] == want and read["source"] == "filter"
    assert withdrawn.id not in read["case_ids"] and lonely.id not in read["case_ids"]
    with Session(engine) as s:
        dossier = s.get(Dossier, dossier_id)
        assert dossier is not None and dossier.source_ref == QUERY and dossier.created_by == "supervisor@a.test"
        (audit,) = s.exec(select(AuditEvent).where(AuditEvent.action == "dossier.create")).all()
        assert audit.detail == {"source": "filter", "cases": len(want)}

    # A handler sees the shared view but not the action, and is refused; another organisation does not see it.
    sign_in(app, "handler@a.test")
    page = app.get("/filters").text
    assert "Informal fees" in page and "/dossier" not in page
    assert app.post(url, data={"title": "x", "csrf_token": csrf_of(page)}).status_code == 403
    sign_in(app, "supervisor@b.test")
    token = csrf_of(app.get("/filters").text)
    assert app.post(url, data={"title": "x", "csrf_token": token}).status_code == 404
    sign_in(app, "admin@a.test")  # an organisation's administrator may
    page = app.get("/filters").text
    again = app.post(url, data={"title": "Fees again", "csrf_token": csrf_of(page)}, follow_redirects=False)
    assert again.status_code == 303
    with Session(engine) as s:
        assert len(s.exec(select(Dossier)).all()) == 2


def test_a_supervisors_own_view_is_not_anothers(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        make_report(s, org_id=world.orgs["a"], category="financial_hardship")
        s.commit()
    sign_in(app, "handler@a.test")
    private = _save_view(app, "Mine", QUERY, shared=False)
    sign_in(app, "supervisor@a.test")
    token = csrf_of(app.get("/filters").text)
    assert app.post(f"/filters/{private}/dossier", data={"title": "x", "csrf_token": token}).status_code == 404
