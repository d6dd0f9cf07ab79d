"""GET /api/v1/cases takes a short way (one worker-thread call, parameters parsed once, JSON from
rows, cached statements, a fast lane past routing): it must answer exactly what the model-based
route answered, refuse bad input the same way, and never let a stale session or a stale page through."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select

from service.auth import service as auth
from service.auth.models import AuthSession
from service.kit.clock import as_utc, now
from service.queue import service as queue
from service.queue.routes import summary
from service.queue.schemas import CasePage, list_query_parameters
from tests.support.factories import make_report
from tests.support.review import bearer, sign_in


def test_the_json_is_what_the_pydantic_models_would_write(app, world, engine) -> None:
    headers = bearer(app, "root@platform.test")
    response = app.get("/api/v1/cases", params={"status": "all", "with_counts": "true"}, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    with Session(engine) as session:
        admin = session.exec(select(auth.User).where(auth.User.email == "root@platform.test")).one()
        page = queue.queue_page(session, user=admin, filters=queue.Filters(status=("all",)))
        counts = queue.queue_counts(session, user=admin)
    expected = CasePage(items=[summary(i) for i in page.items], next_cursor=page.next_cursor, counts=counts)
    assert response.json() == json.loads(expected.model_dump_json())
    assert len(response.json()["items"]) == len(world.cases)
    assert response.json()["items"][0]["created_at"].endswith("Z")


def test_bad_parameters_are_a_422_naming_them_without_echoing_values(app, world) -> None:
    headers = bearer(app, "handler@a.test")
    response = app.get("/api/v1/cases", params={"limit": "0", "place_id": "+85512345678", "category": "secret story",
                                                "status": ["all", "nope"], "overdue": "maybe"}, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "invalid input"
    assert set(body["fields"]) == {"query.limit", "query.place_id", "query.category", "query.status.1",
                                   "query.overdue"}
    assert "85512345678" not in response.text and "secret story" not in response.text
    for params in ({"limit": "201"}, {"cluster_id": str(2**31)}, {"q": "x" * 201}, {"cursor": "c" * 401},
                   {"with_counts": ""}):
        assert app.get("/api/v1/cases", params=params, headers=headers).status_code == 422, params
    assert app.get("/api/v1/cases", params={"cursor": "not-a-cursor"}, headers=headers).json() == \
        {"detail": "cursor is not valid"}
    # Unknown names are ignored, a repeated status is a list, booleans read as FastAPI reads them.
    ok = app.get("/api/v1/cases", params={"status": ["received", "all"], "overdue": "off", "nonsense": "1"},
                 headers=headers)
    assert ok.status_code == 200 and {c["id"] for c in ok.json()["items"]} == {world.cases["a"].id,
                                                                               world.cases["a2"].id}


def test_openapi_documents_every_list_parameter(app) -> None:
    operation = app.get("/openapi.json").json()["paths"]["/api/v1/cases"]["get"]
    assert operation["parameters"] == list_query_parameters()
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"status", "category", "urgency", "place_id", "channel", "population", "assigned", "overdue",
                     "cluster_id", "q", "tag", "cursor", "limit", "with_counts"}
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 200, 50)
    assert "$ref" in operation["responses"]["200"]["content"]["application/json"]["schema"]


def test_only_get_on_the_exact_path_takes_the_fast_lane(app, world) -> None:
    headers = bearer(app, "handler@a.test")
    assert app.post("/api/v1/cases", headers=headers).status_code == 405
    assert app.get("/api/v1/cases/", headers=headers, follow_redirects=False).status_code in (307, 404)
    assert app.get(f"/api/v1/cases/{world.cases['a'].id}", headers=headers).status_code == 200


def test_a_revoked_or_idle_session_is_refused_on_the_next_list(app, world, engine, clock) -> None:
    sign_in(app, "handler@a.test")  # the web cookie works for the API's GET too
    assert app.get("/api/v1/cases").status_code == 200
    with Session(engine) as session:
        session.exec(select(AuthSession)).one()  # one session
        auth.end_all_sessions(session, user_id=world.users["a:handler"].id)  # type: ignore[arg-type]
        session.commit()
    refused = app.get("/api/v1/cases")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    headers = bearer(app, "handler@a.test")
    assert app.get("/api/v1/cases", headers=headers).status_code == 200
    clock.advance(minutes=31)
    assert app.get("/api/v1/cases", headers=headers).status_code == 401
    assert app.get("/api/v1/cases", headers={"Authorization": "Bearer " + "x" * 65}).status_code == 401


def test_a_web_token_is_not_a_bearer_token(app, world) -> None:
    sign_in(app, "handler@a.test")
    cookie = app.cookies.get("__Host-samleng")
    app.cookies.clear()
    assert app.get("/api/v1/cases", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401


def test_listing_keeps_the_session_alive_by_saving_last_seen(app, world, engine, clock) -> None:
    headers = bearer(app, "handler@a.test")
    for _ in range(4):  # 4 x 20 minutes: only alive because each list saved its last-seen time
        clock.advance(minutes=20)
        assert app.get("/api/v1/cases", headers=headers).status_code == 200
    with Session(engine) as session:
        row = session.exec(select(AuthSession)).one()
    assert now() - as_utc(row.last_seen_at) < timedelta(minutes=1)


def test_cached_statements_still_see_the_current_time_and_position(app, world, engine, clock) -> None:
    headers = bearer(app, "handler@a.test")
    ids = [c["id"] for c in app.get("/api/v1/cases", headers=headers).json()["items"]]
    with Session(engine) as session:
        held = make_report(session, org_id=world.orgs["a"], narrative="Held back by the sender limit",
                           deferred_until=now() + timedelta(minutes=30))
        late = make_report(session, org_id=world.orgs["a"], narrative="Due soon", due_in=timedelta(minutes=10))
        session.commit()
        held_id, late_id = held.id, late.id
    listed = [c["id"] for c in app.get("/api/v1/cases", headers=headers).json()["items"]]
    assert held_id not in listed and late_id in listed and set(ids) <= set(listed)
    assert app.get("/api/v1/cases", params={"overdue": "1"}, headers=headers).json()["items"] == []
    clock.advance(minutes=31)  # the same statements, a later time: the held report joins, the other is overdue
    headers = bearer(app, "handler@a.test")
    assert held_id in [c["id"] for c in app.get("/api/v1/cases", headers=headers).json()["items"]]
    overdue = app.get("/api/v1/cases", params={"overdue": "1"}, headers=headers).json()["items"]
    assert [c["id"] for c in overdue] == [late_id] and overdue[0]["overdue"] is True
    # Keyset pages through the cached statements: every case once, in order.
    seen, cursor = [], None
    while True:
        body = app.get("/api/v1/cases", params={"limit": 1, **({"cursor": cursor} if cursor else {})},
                       headers=headers).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    everything = [c["id"] for c in app.get("/api/v1/cases", headers=headers).json()["items"]]
    assert seen == everything and len(seen) == len(set(seen)) == 4


def test_no_statement_is_shared_across_organisations(app, world) -> None:
    a, b = bearer(app, "handler@a.test"), bearer(app, "handler@b.test")
    for _ in range(2):  # the second round runs from the statement cache
        a_ids = {c["org_id"] for c in app.get("/api/v1/cases", headers=a).json()["items"]}
        b_ids = {c["org_id"] for c in app.get("/api/v1/cases", headers=b).json()["items"]}
        assert a_ids == {world.orgs["a"]} and b_ids == {world.orgs["b"]}


def test_the_html_list_refresh_renders_only_the_rows_without_counting(app, world, monkeypatch) -> None:
    sign_in(app, "handler@a.test")
    full = app.get("/")
    assert full.status_code == 200 and 'class="quick"' in full.text

    def no_counts(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the 30-second refresh must not count the quick filters")

    monkeypatch.setattr(queue, "queue_counts", no_counts)
    rows = app.get("/", headers={"HX-Request": "true"})
    assert rows.status_code == 200 and 'class="quick"' not in rows.text and "<table" in rows.text
    assert f'data-case="{world.cases["a"].id}"' in rows.text and f'data-case="{world.cases["b"].id}"' not in rows.text
