"""Case actions through the API: timeline events, audit entries with before/after, the outbox."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.audit.service import verify
from service.kit.crypto import unseal
from service.outbox.models import OutboundMessage
from service.reports.models import Report, ReportCluster, ReportEvent
from tests.support.review import bearer, csrf_of, sign_in


def audit(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))).all())


def last_event(engine, report_id: int) -> ReportEvent:
    with Session(engine) as s:
        return s.exec(select(ReportEvent).where(ReportEvent.report_id == report_id)
                      .order_by(col(ReportEvent.id).desc())).first()


def test_triage_correction_is_recorded_for_training(app, world, engine) -> None:
    case = world.cases["a"]
    headers = bearer(app, "handler@a.test")
    response = app.post(f"/api/v1/cases/{case.id}/triage", json={"category": "stigma_discrimination",
                                                                  "urgency": "urgent"}, headers=headers)
    assert response.status_code == 200
    event = last_event(engine, case.id)
    assert event.kind == "triage_corrected" and event.actor == "handler@a.test"
    assert event.detail == {"from": {"category": "financial_hardship", "urgency": "normal"},
                            "to": {"category": "stigma_discrimination", "urgency": "urgent"}}
    with Session(engine) as s:
        report = s.get(Report, case.id)
        assert (report.category, report.urgency, report.category_source) == ("stigma_discrimination", "urgent",
                                                                             "handler")
    [entry] = audit(engine, "case.triage_correct")
    assert entry.detail == {"before": {"category": "financial_hardship", "urgency": "normal"},
                            "after": {"category": "stigma_discrimination", "urgency": "urgent"}}
    assert entry.object_id == str(case.id) and entry.actor == "handler@a.test"


def test_population_correction_through_api_and_form(app, world, engine) -> None:
    """Absent keeps the population, null (API) or "none" (form) clears it, a value sets it; the
    "Mark urgent" button, which sends no population, leaves it alone."""
    case = world.cases["a"]
    headers = bearer(app, "handler@a.test")

    def population() -> str | None:
        with Session(engine) as s:
            return s.get_one(Report, case.id).population

    assert app.post(f"/api/v1/cases/{case.id}/triage", json={"population": "tb"}, headers=headers).status_code == 200
    assert population() == "tb"
    assert last_event(engine, case.id).detail["to"] == {"category": "financial_hardship", "urgency": "normal",
                                                         "population": "tb"}
    assert app.post(f"/api/v1/cases/{case.id}/triage", json={"urgency": "urgent"}, headers=headers).status_code == 200
    assert population() == "tb"
    assert app.post(f"/api/v1/cases/{case.id}/triage", json={"population": "pirates"},
                    headers=headers).status_code == 422
    assert app.post(f"/api/v1/cases/{case.id}/triage", json={"population": None}, headers=headers).status_code == 200
    assert population() is None
    sign_in(app, "handler@a.test")
    page = app.get(f"/cases/{case.id}").text
    assert 'name="population"' in page
    form = {"csrf_token": csrf_of(page), "category": "financial_hardship", "urgency": "urgent",
            "population": "sex_worker"}
    assert app.post(f"/cases/{case.id}/triage", data=form, follow_redirects=False).status_code == 303
    assert population() == "sex_worker"
    form = {"csrf_token": csrf_of(app.get(f"/cases/{case.id}").text), "urgency": "urgent"}
    app.post(f"/cases/{case.id}/triage", data=form, follow_redirects=False)
    assert population() == "sex_worker"
    form = {"csrf_token": csrf_of(app.get(f"/cases/{case.id}").text), "urgency": "urgent", "population": "none"}
    app.post(f"/cases/{case.id}/triage", data=form, follow_redirects=False)
    assert population() is None


def test_claim_assign_release(app, world, engine) -> None:
    case = world.cases["a"]
    handler, supervisor = bearer(app, "handler@a.test"), bearer(app, "supervisor@a.test")
    assert app.post(f"/api/v1/cases/{case.id}/claim", headers=handler).status_code == 200
    mine = app.get("/api/v1/cases", params={"assigned": "me"}, headers=handler).json()["items"]
    assert [c["id"] for c in mine] == [case.id]
    # A handler cannot hand a case to someone else; a supervisor can.
    other = world.users["a:admin"].id
    assert app.post(f"/api/v1/cases/{case.id}/assign", json={"user_id": other}, headers=handler).status_code == 403
    assert app.post(f"/api/v1/cases/{case.id}/assign", json={"user_id": other}, headers=supervisor).status_code == 200
    assert app.post(f"/api/v1/cases/{case.id}/release", headers=handler).status_code == 403
    assert app.post(f"/api/v1/cases/{case.id}/release", headers=supervisor).status_code == 200
    actions = [e.detail for e in audit(engine, "case.assign")]
    assert actions == [{"before": {"assigned_user_id": None}, "after": {"assigned_user_id": world.users["a:handler"].id}},
                       {"before": {"assigned_user_id": world.users["a:handler"].id},
                        "after": {"assigned_user_id": other}}]
    assert audit(engine, "case.release")[0].detail == {"before": {"assigned_user_id": other},
                                                       "after": {"assigned_user_id": None}}
    kinds = [e["kind"] for e in app.get(f"/api/v1/cases/{case.id}", headers=handler).json()["timeline"]]
    assert kinds == ["received", "assigned", "assigned", "released"]


def test_notes_are_on_the_timeline_but_not_in_the_audit_log(app, world, engine) -> None:
    case = world.cases["a"]
    headers = bearer(app, "handler@a.test")
    assert app.post(f"/api/v1/cases/{case.id}/notes", json={"text": "Called the OD director"},
                    headers=headers).status_code == 200
    timeline = app.get(f"/api/v1/cases/{case.id}", headers=headers).json()["timeline"]
    assert timeline[-1]["kind"] == "note" and timeline[-1]["detail"]["text"] == "Called the OD director"
    [entry] = audit(engine, "case.note")
    assert "OD director" not in str(entry.detail)


def test_status_transitions_follow_the_table(app, world, engine) -> None:
    case = world.cases["a"]
    headers = bearer(app, "handler@a.test")
    assert app.post(f"/api/v1/cases/{case.id}/status", json={"to": "closed"}, headers=headers).status_code == 409
    assert app.post(f"/api/v1/cases/{case.id}/status", json={"to": "rejected"}, headers=headers).status_code == 422
    assert app.post(f"/api/v1/cases/{case.id}/status", json={"to": "in_progress"}, headers=headers).status_code == 200
    assert app.post(f"/api/v1/cases/{case.id}/status", json={"to": "rejected", "reason": "not a health service"},
                    headers=headers).status_code == 200
    event = last_event(engine, case.id)
    assert event.detail == {"from": "in_progress", "to": "rejected", "reason": "not a health service"}
    assert [e.detail for e in audit(engine, "case.status")] == [
        {"before": {"status": "received"}, "after": {"status": "in_progress"}},
        {"before": {"status": "in_progress"}, "after": {"status": "rejected"}}]


def test_merge_a_duplicate_into_its_cluster(app, world, engine) -> None:
    first, second = world.cases["a"], world.cases["a2"]
    headers = bearer(app, "handler@a.test")
    assert app.post(f"/api/v1/cases/{second.id}/merge", json={"into_case_id": first.id}, headers=headers).status_code == 200
    with Session(engine) as s:
        a, b = s.get(Report, first.id), s.get(Report, second.id)
        assert b.status == "duplicate" and a.cluster_id is not None and a.cluster_id == b.cluster_id
        assert s.get(ReportCluster, a.cluster_id).size == 2
    assert app.post(f"/api/v1/cases/{first.id}/merge", json={"into_case_id": first.id}, headers=headers).status_code == 422
    [entry] = audit(engine, "case.merge")
    assert entry.detail["after"]["into"] == first.id


def test_reply_goes_through_the_outbox_and_never_shows_the_number(app, world, engine) -> None:
    case = world.cases["a"]
    headers = bearer(app, "handler@a.test")
    response = app.post(f"/api/v1/cases/{case.id}/reply", json={"template": "more_info"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["segments"] == 1
    with Session(engine) as s:
        [message] = s.exec(select(OutboundMessage)).all()
        assert unseal(message.to_sealed) == "+85512000001"
        assert "tell us more" in unseal(message.body_sealed)
        assert s.get(Report, case.id).first_response_at is not None
    detail = app.get(f"/api/v1/cases/{case.id}", headers=headers).text
    assert "85512000001" not in detail
    assert "message_out" in detail
    sign_in(app, "handler@a.test")
    assert "85512000001" not in app.get(f"/cases/{case.id}").text
    [entry] = audit(engine, "case.reply")
    assert entry.detail["after"]["outbound_id"] == message.id and "85512000001" not in str(entry.detail)


def test_no_reply_without_consent(app, world, engine) -> None:
    case = world.cases["a2"]
    headers = bearer(app, "handler@a.test")
    assert app.get(f"/api/v1/cases/{case.id}", headers=headers).json()["can_reply"] is False
    response = app.post(f"/api/v1/cases/{case.id}/reply", json={"text": "hello"}, headers=headers)
    assert response.status_code == 409
    with Session(engine) as s:
        assert s.exec(select(OutboundMessage)).all() == []


def test_a_reply_in_khmer_counts_ucs2_segments(app, world, engine) -> None:
    case = world.cases["a"]
    sign_in(app, "handler@a.test")
    token = csrf_of(app.get(f"/cases/{case.id}").text)
    text = "សូមអរគុណ " * 10
    fragment = app.post(f"/cases/{case.id}/reply/segments", data={"text": text, "csrf_token": token})
    assert "UCS-2" in fragment.text and "2 SMS" in fragment.text


def test_every_view_and_change_is_audited_and_the_chain_holds(app, world, engine) -> None:
    case = world.cases["a"]
    headers = bearer(app, "handler@a.test")
    app.get(f"/api/v1/cases/{case.id}", headers=headers)
    sign_in(app, "handler@a.test")
    app.get(f"/cases/{case.id}")
    views = audit(engine, "case.view")
    assert [(v.actor, v.object_id, v.detail["via"]) for v in views] == [
        ("handler@a.test", str(case.id), "api"), ("handler@a.test", str(case.id), "web")]
    with Session(engine) as s:
        assert verify(s) == (True, None)


def test_a_tampered_audit_entry_breaks_the_chain_and_the_admin_page_says_so(app, world, engine) -> None:
    headers = bearer(app, "handler@a.test")
    for _ in range(3):
        app.get(f"/api/v1/cases/{world.cases['a'].id}", headers=headers)
    with Session(engine) as s:
        victim = s.exec(select(AuditEvent).where(AuditEvent.action == "case.view").order_by(col(AuditEvent.id))).first()
        victim.actor = "someone-else@a.test"
        s.add(victim)
        s.commit()
        assert verify(s) == (False, victim.id)
    sign_in(app, "root@platform.test")
    page = app.get("/admin/audit").text
    assert f"BROKEN at entry {victim.id}" in page


def test_admin_audit_page_filters(app, world, engine) -> None:
    headers = bearer(app, "handler@a.test")
    app.post(f"/api/v1/cases/{world.cases['a'].id}/notes", json={"text": "x"}, headers=headers)
    app.get(f"/api/v1/cases/{world.cases['a2'].id}", headers=headers)
    sign_in(app, "root@platform.test")
    page = app.get("/admin/audit", params={"action": "case.note"}).text
    assert "<td>case.note</td>" in page and "<td>case.view</td>" not in page
    page = app.get("/admin/audit", params={"case": world.cases["a2"].id}).text
    assert "<td>case.view</td>" in page and "<td>case.note</td>" not in page
    # An organisation's admin sees its own users' entries only.
    sign_in(app, "admin@b.test")
    assert "handler@a.test" not in app.get("/admin/audit").text
