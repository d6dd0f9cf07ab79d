"""Routing rules in the web app: platform administrators edit them as new versions; nobody else can."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.bodies.service import load_bodies
from service.routing import service as routing
from service.routing.models import RoutingRule
from tests.support.review import csrf_of, sign_in

LADDER = "- level: hcmc\n- body: nacd\n"


@pytest.fixture
def rules(engine, world, places) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        load_bodies(s)
        routing.load_rules(s)
        s.commit()


def form(app, **fields: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {"key": "kp-hiv", "name": "Key populations, HIV (edited)", "priority": "50", "categories": "",
            "populations": "msm, transgender", "org_slug": "org-a", "ladder": LADDER, "active": "1",
            "csrf_token": csrf_of(app.get("/admin/rules").text)}
    data.update(fields)
    return data


def versions(engine, key: str) -> list[RoutingRule]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(RoutingRule).where(RoutingRule.rule_key == key).order_by(RoutingRule.version)).all())


def test_platform_admin_saves_a_new_version_and_keeps_the_history(app, engine, rules) -> None:  # type: ignore[no-untyped-def]
    sign_in(app, "root@platform.test")
    page = app.get("/admin/rules")
    assert page.status_code == 200 and "kp-hiv" in page.text and "drug-detention" in page.text
    before = versions(engine, "kp-hiv")
    response = app.post("/admin/rules", data=form(app), follow_redirects=False)
    assert response.status_code == 303
    after = versions(engine, "kp-hiv")
    assert len(after) == len(before) + 1 and after[-1].current and not after[-2].current
    assert after[-1].org_slug == "org-a" and after[-1].ladder == [{"level": "hcmc"}, {"body": "nacd"}]
    assert after[-1].populations == ["msm", "transgender"]
    history = app.get("/admin/rules/kp-hiv/history")
    assert history.status_code == 200 and "hcmc → nacd" in history.text
    with Session(engine) as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "routing.save")).first() is not None
    # The simulator follows the new version.
    with Session(engine) as s:
        assert routing.simulate(s, category="stigma_discrimination", place="Chrey", population="msm")["org"] == "org-a"


@pytest.mark.parametrize("bad", [{"ladder": "- [unclosed"}, {"ladder": "- body: no-such-body"},
                                 {"categories": "not_a_category"}])
def test_invalid_rule_is_refused_with_a_message_and_nothing_saved(app, engine, rules, bad) -> None:  # type: ignore[no-untyped-def]
    sign_in(app, "root@platform.test")
    before = len(versions(engine, "kp-hiv"))
    response = app.post("/admin/rules", data=form(app, **bad), follow_redirects=False)
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert len(versions(engine, "kp-hiv")) == before


@pytest.mark.parametrize("email", ["admin@a.test", "supervisor@a.test", "handler@b.test"])
def test_only_platform_administrators_edit_rules(app, engine, rules, email) -> None:  # type: ignore[no-untyped-def]
    sign_in(app, email)
    assert app.get("/admin/rules").status_code == 403
    token = csrf_of(app.get("/").text)
    before = len(versions(engine, "kp-hiv"))
    data = {"key": "kp-hiv", "name": "hijack", "org_slug": "org-b", "ladder": LADDER, "csrf_token": token}
    assert app.post("/admin/rules", data=data, follow_redirects=False).status_code == 403
    assert len(versions(engine, "kp-hiv")) == before


def test_signed_out_and_csrf(app, engine, rules) -> None:  # type: ignore[no-untyped-def]
    assert app.get("/admin/rules", follow_redirects=False).status_code == 401
    sign_in(app, "root@platform.test")
    before = len(versions(engine, "kp-hiv"))
    response = app.post("/admin/rules", data=form(app, csrf_token="0" * 64), follow_redirects=False)
    assert response.status_code == 403 and len(versions(engine, "kp-hiv")) == before


def test_the_rules_link_shows_for_platform_administrators_only(app, rules) -> None:  # type: ignore[no-untyped-def]
    sign_in(app, "admin@a.test")
    assert 'href="/admin/rules"' not in app.get("/").text
    sign_in(app, "root@platform.test")
    assert 'href="/admin/rules"' in app.get("/").text
