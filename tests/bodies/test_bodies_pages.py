"""Grievance bodies managed from the web: a platform administrator creates, edits, deactivates, issues and
revokes a body's API token; an organisation's supervisors read the list; nobody else changes anything."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.bodies import admin
from service.bodies.models import GrievanceBody
from service.bodies.service import focal_sms, get_body, jurisdiction_codes
from service.kit.errors import InvalidInput
from tests.bodies.conftest import FOCAL_SMS
from tests.support.review import csrf_of, sign_in

def test_service_checks_and_audits_without_values(engine, world) -> None:
    root = world.users["platform"]
    with Session(engine) as s:
        form = admin.BodyForm(slug="hc-x", name_en="HC X", name_km="", level="facility", sms=FOCAL_SMS, places=("KH-2",))
        body = admin.save_body(s, user=root, form=form, create=True)
        s.commit()
        assert focal_sms(body) == FOCAL_SMS and jurisdiction_codes(s, body) == ["KH-2"]
        with pytest.raises(InvalidInput):
            admin.save_body(s, user=root, form=form, create=True)  # the short name is taken
        with pytest.raises(InvalidInput):
            admin.BodyForm(slug="x", name_en="X", name_km="", level="moon").check()
        with pytest.raises(InvalidInput):
            admin.BodyForm(slug="x", name_en="X", name_km="", level="facility", sms="012 345").check()
        # Editing with the number left empty keeps it; the audit entry names fields, never values.
        edited = admin.save_body(s, user=root, form=admin.BodyForm(slug="hc-x", name_en="HC X renamed", name_km="",
                                                                    level="facility", places=("KH-2",)), create=False)
        s.commit()
        assert focal_sms(edited) == FOCAL_SMS
        entry = s.exec(select(AuditEvent).where(AuditEvent.action == "bodies.update")).one()
        assert entry.detail == {"slug": "hc-x", "fields": ["name_en", "name_km"]}  # no Khmer name: the English one
        assert FOCAL_SMS not in str([e.detail for e in s.exec(select(AuditEvent)).all()])
        for user in (world.users["a:supervisor"], world.users["a:admin"], world.users["a:handler"]):
            with pytest.raises(admin.NotAllowed):
                admin.set_active(s, user=user, slug="hc-x", active=False)


def test_platform_administrator_creates_edits_deactivates_and_manages_the_token(app, engine, world, body_form) -> None:
    sign_in(app, "root@platform.test")
    listing = app.get("/admin/bodies")
    assert listing.status_code == 200 and 'id="new-body"' in listing.text
    new = app.get("/admin/bodies/new")
    assert app.post("/admin/bodies/new", data=body_form()).status_code == 403  # no CSRF token
    created = app.post("/admin/bodies/new", data={**body_form(), "csrf_token": csrf_of(new.text)}, follow_redirects=False)
    assert created.status_code == 303, created.text
    with Session(engine) as s:
        body = get_body(s, "hc-test")
        assert (body.language, body.deadline_hours, body.categories) == ("km", 48, ["service_quality", "financial_hardship"])
        assert focal_sms(body) == FOCAL_SMS and body.sms_sealed and FOCAL_SMS.encode() not in body.sms_sealed
    edit = app.get("/admin/bodies/hc-test")
    assert edit.status_code == 200 and FOCAL_SMS not in edit.text and "focal@hc.test" in edit.text
    token = csrf_of(edit.text)
    # A bad number: a clear 422 with the form kept, never a 500, never the number echoed.
    bad = app.post("/admin/bodies/hc-test", data={**body_form(sms="call me"), "csrf_token": token})
    assert bad.status_code == 422 and "Test Health Centre" in bad.text and "call me" not in bad.text
    assert app.post("/admin/bodies/hc-test", data={**body_form(name_en="Test HC", sms="", language="pt",
                                                          email=""), "csrf_token": token},
                    follow_redirects=False).status_code == 303
    with Session(engine) as s:
        body = get_body(s, "hc-test")
        assert (body.name_en, body.language, body.email, focal_sms(body)) == ("Test HC", "pt", None, FOCAL_SMS)

    issued = app.post("/admin/bodies/hc-test/token", data={"csrf_token": token})
    assert issued.status_code == 200
    api_token = re.search(r"<code>(sbt_[^<]+)</code>", issued.text).group(1)  # type: ignore[union-attr]
    assert app.get("/api/v1/body/escalations", headers={"Authorization": f"Bearer {api_token}"}).status_code == 200
    assert api_token not in app.get("/admin/bodies/hc-test").text  # shown once
    assert app.post("/admin/bodies/hc-test/token/revoke", data={"csrf_token": token},
                    follow_redirects=False).status_code == 303
    assert app.get("/api/v1/body/escalations", headers={"Authorization": f"Bearer {api_token}"}).status_code == 401
    assert app.post("/admin/bodies/hc-test/token/revoke", data={"csrf_token": token}).status_code == 409

    assert app.post("/admin/bodies/hc-test/active", data={"active": "0", "csrf_token": token},
                    follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert get_body(s, "hc-test").active is False
        actions = [e.action for e in s.exec(select(AuditEvent).where(col(AuditEvent.action).like("bodies.%"))
                                            .order_by(col(AuditEvent.id))).all()]
        assert actions == ["bodies.create", "bodies.update", "bodies.token", "bodies.token_revoke", "bodies.deactivate"]
        assert {e.actor for e in s.exec(select(AuditEvent).where(col(AuditEvent.action).like("bodies.%"))).all()} == \
            {"root@platform.test"}
    assert app.get("/admin/bodies/no-such-body").status_code == 404
    assert app.post("/admin/bodies/no-such-body/active", data={"active": "0", "csrf_token": token}).status_code == 404


@pytest.mark.parametrize("email", ["supervisor@a.test", "admin@b.test", "handler@a.test"])
def test_organisations_cannot_change_shared_bodies(app, engine, world, body_form, email) -> None:
    """A body with no owning organisation (here every body of the bodies file) is the platform
    administrator's; an organisation's own bodies are tests/bodies/test_bodies_ownership.py."""
    sign_in(app, email)
    token = csrf_of(app.get("/").text)
    listing = app.get("/admin/bodies")
    if email.startswith("handler"):
        assert listing.status_code == 403
        assert app.get("/admin/bodies/new").status_code == 403
        assert app.post("/admin/bodies/new", data={**body_form(), "csrf_token": token}).status_code == 403
    else:  # read-only for the shared bodies: no link to their forms
        assert listing.status_code == 200 and "nacd" in listing.text and 'href="/admin/bodies/nacd"' not in listing.text
    assert app.get("/admin/bodies/nacd").status_code == 403
    for path, data in (("/admin/bodies/nacd", body_form(slug="nacd")),
                       ("/admin/bodies/nacd/active", {"active": "0"}), ("/admin/bodies/nacd/token", {}),
                       ("/admin/bodies/nacd/token/revoke", {})):
        assert app.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    with Session(engine) as s:
        body = get_body(s, "nacd")
        assert body.active and body.api_token_hash is None and body.owner_org_id is None
        assert s.exec(select(GrievanceBody).where(GrievanceBody.slug == "hc-test")).first() is None
        assert s.exec(select(AuditEvent).where(col(AuditEvent.action).like("bodies.%"))).all() == []
