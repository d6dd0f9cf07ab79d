"""Claiming a case someone else holds is a reassignment: only supervisors and administrators may."""

from __future__ import annotations

from sqlmodel import Session

from service.reports.models import Report
from tests.support.review import bearer


def test_a_handler_cannot_claim_a_case_assigned_to_someone_else(app, world, engine) -> None:  # type: ignore[no-untyped-def]
    case = world.cases["a"]
    handler, supervisor = bearer(app, "handler@a.test"), bearer(app, "supervisor@a.test")
    other = world.users["a:admin"].id
    assert app.post(f"/api/v1/cases/{case.id}/assign", json={"user_id": other}, headers=supervisor).status_code == 200
    assert app.post(f"/api/v1/cases/{case.id}/claim", headers=handler).status_code == 403
    with Session(engine) as s:
        assert s.get(Report, case.id).assigned_user_id == other  # type: ignore[union-attr]
    # A supervisor may take it over (a reassignment, audited as one); claiming your own case is harmless.
    assert app.post(f"/api/v1/cases/{case.id}/claim", headers=supervisor).status_code == 200
    assert app.post(f"/api/v1/cases/{case.id}/claim", headers=supervisor).status_code == 200
    with Session(engine) as s:
        assert s.get(Report, case.id).assigned_user_id == world.users["a:supervisor"].id  # type: ignore[union-attr]
