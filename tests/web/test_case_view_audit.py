"""A web case view is read on a read-only connection and audited through the app's writer: the page
is sent only once its `case.view` entry is committed, in order and hash-chained."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.audit.service import verify
from tests.support.review import sign_in


def _views(engine, case_id: int) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "case.view",
                                                    AuditEvent.object_id == str(case_id))
                           .order_by(col(AuditEvent.id))).all())


def test_each_view_is_one_chained_entry_committed_before_the_page(app, khana, engine) -> None:  # type: ignore[no-untyped-def]
    sign_in(app, "handler@khana.test")
    for n in range(1, 4):
        assert app.get(f"/cases/{khana.id}").status_code == 200
        views = _views(engine, khana.id)  # committed by the time the page arrived
        assert len(views) == n and views[-1].actor == "handler@khana.test" and views[-1].detail == {"via": "web"}
    with Session(engine) as s:
        assert verify(s) == (True, None)


def test_a_view_that_cannot_be_recorded_is_not_shown(app, khana, engine) -> None:  # type: ignore[no-untyped-def]
    sign_in(app, "handler@khana.test")
    plain = TestClient(app.app, base_url="https://testserver", raise_server_exceptions=False)  # answers as served
    plain.cookies = app.cookies
    app.app.state.writer.stop()  # the writer cannot take the audit entry
    try:
        response = plain.get(f"/cases/{khana.id}")
    finally:
        app.app.state.writer.start()
    assert response.status_code == 503 and response.json() == {"detail": "temporarily unavailable"}
    assert _views(engine, khana.id) == []


def test_signed_out_and_out_of_scope_views_are_not_audited(app, khana, engine) -> None:  # type: ignore[no-untyped-def]
    assert app.get(f"/cases/{khana.id}", follow_redirects=False).status_code == 303
    sign_in(app, "handler@khana.test")
    assert app.get("/cases/999999").status_code == 404
    assert _views(engine, khana.id) == [] and _views(engine, 999999) == []


def test_the_page_names_its_assignee_and_lists_only_active_members(app, khana, engine) -> None:  # type: ignore[no-untyped-def]
    """The assignee's email comes from the active members' list, or on its own once they are inactive."""
    from service.orgs.models import User
    from service.reports.models import Report

    with Session(engine) as s:
        leaver = s.exec(select(User.id).where(User.email == "handler@khana.test")).one()
        other = s.exec(select(User.id).where(User.email == "admin@khana.test")).one()
        s.get(Report, khana.id).assigned_user_id = leaver  # type: ignore[union-attr]
        s.commit()
    sign_in(app, "supervisor@khana.test")
    page = app.get(f"/cases/{khana.id}").text
    assert "<dd>handler@khana.test</dd>" in page and f'<option value="{leaver}">handler@khana.test</option>' in page
    with Session(engine) as s:
        s.get(User, leaver).is_active = False  # type: ignore[union-attr]
        s.commit()
    page = app.get(f"/cases/{khana.id}").text
    assert "<dd>handler@khana.test</dd>" in page and f'<option value="{leaver}">' not in page
    assert f'<option value="{other}">admin@khana.test</option>' in page
