"""Grievance bodies owned by an organisation: its supervisors and administrators create and manage
their own bodies; another organisation's bodies and the shared ones (no owner: national, regional,
and every body a platform administrator keeps) stay read-only to them (both databases)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.bodies import admin
from service.bodies.service import get_body
from service.kit.errors import InvalidInput
from tests.support.review import csrf_of, sign_in


def test_an_organisation_manages_the_bodies_it_created(app, engine, world, body_form) -> None:
    sign_in(app, "supervisor@a.test")
    listing = app.get("/admin/bodies")
    assert 'id="new-body"' in listing.text
    token = csrf_of(app.get("/admin/bodies/new").text)
    form = body_form(slug="hc-a", name_en="Org A's Health Centre", sms="", categories=[])
    created = app.post("/admin/bodies/new", data={**form, "csrf_token": token}, follow_redirects=False)
    assert created.status_code == 303, created.text
    with Session(engine) as s:
        assert get_body(s, "hc-a").owner_org_id == world.orgs["a"]
    listing = app.get("/admin/bodies")
    assert 'href="/admin/bodies/hc-a"' in listing.text and 'href="/admin/bodies/nacd"' not in listing.text
    assert app.get("/admin/bodies/hc-a").status_code == 200
    edited = app.post("/admin/bodies/hc-a", data={**form, "name_en": "Renamed", "csrf_token": token},
                      follow_redirects=False)
    assert edited.status_code == 303
    assert app.post("/admin/bodies/hc-a/token", data={"csrf_token": token}).status_code == 200
    assert app.post("/admin/bodies/hc-a/active", data={"active": "0", "csrf_token": token},
                    follow_redirects=False).status_code == 303
    # The organisation's administrator too.
    sign_in(app, "admin@a.test")
    token = csrf_of(app.get("/").text)
    assert app.post("/admin/bodies/hc-a/active", data={"active": "1", "csrf_token": token},
                    follow_redirects=False).status_code == 303
    with Session(engine) as s:
        body = get_body(s, "hc-a")
        assert body.name_en == "Renamed" and body.active and body.api_token_hash is not None
        assert body.owner_org_id == world.orgs["a"]  # editing never changes the owner
        actors = [(e.action, e.actor) for e in s.exec(select(AuditEvent).where(col(AuditEvent.action).like("bodies.%"))
                                                      .order_by(col(AuditEvent.id))).all()]
        assert actors == [("bodies.create", "supervisor@a.test"), ("bodies.update", "supervisor@a.test"),
                          ("bodies.token", "supervisor@a.test"), ("bodies.deactivate", "supervisor@a.test"),
                          ("bodies.activate", "admin@a.test")]


@pytest.mark.parametrize("email", ["supervisor@b.test", "admin@b.test"])
def test_another_organisation_cannot_change_them(app, engine, world, body_form, email) -> None:
    with Session(engine) as s:
        admin.save_body(s, user=world.users["a:supervisor"], form=admin.BodyForm(
            slug="hc-a", name_en="HC A", name_km="", level="facility", places=("KH-2",)), create=True)
        s.commit()
    sign_in(app, email)
    token = csrf_of(app.get("/").text)
    assert 'href="/admin/bodies/hc-a"' not in app.get("/admin/bodies").text
    for slug in ("hc-a", "nacd"):  # another organisation's body, a shared national body
        assert app.get(f"/admin/bodies/{slug}").status_code == 403
        for path, data in ((f"/admin/bodies/{slug}", body_form(slug=slug)), (f"/admin/bodies/{slug}/active", {"active": "0"}),
                           (f"/admin/bodies/{slug}/token", {}), (f"/admin/bodies/{slug}/token/revoke", {})):
            assert app.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    with Session(engine) as s:
        assert get_body(s, "hc-a").active and get_body(s, "hc-a").name_en == "HC A"
        assert get_body(s, "nacd").active


def test_national_and_regional_bodies_stay_shared(engine, world) -> None:
    with Session(engine) as s:
        for level in ("national", "regional"):
            with pytest.raises(InvalidInput):
                admin.save_body(s, user=world.users["a:supervisor"], form=admin.BodyForm(
                    slug=f"x-{level}", name_en="X", name_km="", level=level), create=True)
        # Nor can an organisation's own body be moved up to a shared level.
        admin.save_body(s, user=world.users["a:admin"], form=admin.BodyForm(
            slug="hc-a", name_en="HC A", name_km="", level="facility"), create=True)
        with pytest.raises(InvalidInput):
            admin.save_body(s, user=world.users["a:admin"], form=admin.BodyForm(
                slug="hc-a", name_en="HC A", name_km="", level="national"), create=False)
        # A handler changes no body; a platform administrator changes every body, the owner stays.
        with pytest.raises(admin.NotAllowed):
            admin.set_active(s, user=world.users["a:handler"], slug="hc-a", active=False)
        admin.set_active(s, user=world.users["platform"], slug="hc-a", active=False)
        s.commit()
        assert get_body(s, "hc-a").owner_org_id == world.orgs["a"]
        shared = admin.save_body(s, user=world.users["platform"], form=admin.BodyForm(
            slug="hc-shared", name_en="Shared HC", name_km="", level="facility"), create=True)
        assert shared.owner_org_id is None
