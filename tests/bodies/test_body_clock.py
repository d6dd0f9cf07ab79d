"""How a body's deadline counts and the working calendars, edited on the admin pages and audited: the body
form (calendar or working time, zone, hours, holidays) and an organisation's calendar page."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.bodies.service import get_body
from service.orgs.models import Organisation
from tests.support.review import csrf_of, sign_in


def audit(engine, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))).all())


def test_a_body_counts_working_time_once_configured_and_the_audit_keeps_the_values(app, engine, world, body_form) -> None:
    sign_in(app, "root@platform.test")
    new = app.get("/admin/bodies/new")
    assert 'name="deadline_counting" value="calendar" checked' in new.text
    assert app.post("/admin/bodies/new", data={**body_form(), "csrf_token": csrf_of(new.text)},
                    follow_redirects=False).status_code == 303
    with Session(engine) as s:  # nothing configured: calendar time, as every body before
        body = get_body(s, "hc-test")
        assert (body.deadline_counting, body.time_zone, body.working_hours, body.holiday_country) == \
            ("calendar", None, None, None)
    edit = app.get("/admin/bodies/hc-test")
    token = csrf_of(edit.text)
    # Unreadable hours, an unknown zone, a country without holidays: a clear 422, the form kept, nothing saved.
    for bad, message in (({"working_hours": "weekdays 8 to 5"}, "working hours are written like"),
                         ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
                         ({"holiday_country": "FR"}, "public holidays: choose one of"),
                         ({"deadline_counting": "lunar"}, "calendar time or in working time")):
        refused = app.post("/admin/bodies/hc-test", data={**body_form(), "deadline_counting": "working", **bad,
                                                          "csrf_token": token})
        assert refused.status_code == 422 and message in refused.text, (bad, refused.text[:300])
    with Session(engine) as s:
        assert get_body(s, "hc-test").deadline_counting == "calendar"
    saved = app.post("/admin/bodies/hc-test", data={
        **body_form(), "deadline_counting": "working", "time_zone": "Asia/Phnom_Penh",
        "working_hours": "MON-FRI 07:30-11:30, 14:00-17:00", "holiday_country": "KH", "csrf_token": token},
        follow_redirects=False)
    assert saved.status_code == 303
    with Session(engine) as s:
        body = get_body(s, "hc-test")
        assert (body.deadline_counting, body.time_zone, body.holiday_country) == ("working", "Asia/Phnom_Penh", "KH")
        assert body.working_hours.startswith("mon 07:30-11:30,14:00-17:00; tue")  # type: ignore[union-attr]
    entry = audit(engine, "bodies.update")[-1]
    assert entry.actor == "root@platform.test"
    assert entry.detail["clock"]["deadline_counting"] == ["calendar", "working"]
    assert entry.detail["clock"]["holiday_country"] == [None, "KH"]
    shown = app.get("/admin/bodies/hc-test").text
    assert 'value="working" checked' in shown and '<option value="KH" selected>Cambodia</option>' in shown
    assert "working time" in app.get("/admin/bodies").text
    app.cookies.set("samleng-lang", "km")
    assert "របៀបរាប់កំណត់ពេល" in app.get("/admin/bodies/hc-test").text


def test_an_organisation_administrator_sets_its_working_calendar(app, engine, world) -> None:
    org_a = world.users["a:admin"].org_id
    with Session(engine) as s:
        slug = s.get(Organisation, org_a).slug  # type: ignore[union-attr]
        other = s.exec(select(Organisation).where(Organisation.id != org_a)).first().slug  # type: ignore[union-attr]
    sign_in(app, world.users["a:admin"].email)
    assert f"/admin/organisations/{slug}/calendar" in app.get("/admin/bodies").text
    page = app.get(f"/admin/organisations/{slug}/calendar")
    assert page.status_code == 200 and 'id="calendar-form"' in page.text
    token = csrf_of(page.text)
    assert app.post(f"/admin/organisations/{slug}/calendar", data={"working_hours": "mon-fri 08:00-17:00"}
                    ).status_code == 403  # no CSRF token
    bad = app.post(f"/admin/organisations/{slug}/calendar", data={"working_hours": "all day", "csrf_token": token})
    assert bad.status_code == 422 and "working hours are written like" in bad.text
    done = app.post(f"/admin/organisations/{slug}/calendar", data={
        "working_hours": "mon-fri 08:00-12:00,13:00-17:00", "holiday_country": "KH", "csrf_token": token},
        follow_redirects=False)
    assert done.status_code == 303
    with Session(engine) as s:
        org = s.get(Organisation, org_a)
        assert org.holiday_country == "KH" and org.working_hours.startswith("mon 08:00-12:00,13:00-17:00")  # type: ignore[union-attr]
    [entry] = audit(engine, "org.calendar")
    assert entry.detail["changed"]["holiday_country"] == [None, "KH"]
    # Another organisation's calendar, and a supervisor or handler: refused.
    assert app.get(f"/admin/organisations/{other}/calendar").status_code == 403
    for role in ("supervisor", "handler"):
        sign_in(app, world.users[f"a:{role}"].email)
        assert app.get(f"/admin/organisations/{slug}/calendar").status_code == 403
    sign_in(app, "root@platform.test")
    assert app.get(f"/admin/organisations/{other}/calendar").status_code == 200
    assert app.get("/admin/organisations/no-such-org/calendar").status_code == 404
