"""Only the escalation that holds the case may settle it: a superseded or expired body's link or API
token cannot resolve it, hand it back or acknowledge it; it can still record what it did, and is told
who holds the case now."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.flows import deadlines
from service.bodies.models import GrievanceBody
from service.bodies.service import issue_api_token
from service.config import get_settings
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.reports.models import Report, ReportEvent
from tests.escalation.factories import make_case

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def _superseded(s: Session) -> tuple[Report, Escalation, Escalation]:
    report = make_case(s)
    first = esc.escalate(s, report, actor="handler")
    second = esc.escalate(s, report, actor="handler", idempotency_key=f"after:{first.id}")
    assert first.status == "superseded"
    return report, first, second


@pytest.mark.parametrize("action", ["resolved", "not_ours", "acknowledge"])
def test_a_superseded_body_cannot_settle_the_case(s: Session, action: str) -> None:
    report, first, second = _superseded(s)
    with pytest.raises(esc.NotCurrent) as caught:
        esc.record_response(s, first, action=action, text="done")
    assert caught.value.holder == s.get(GrievanceBody, second.body_id).name_en  # type: ignore[union-attr]
    assert report.status == "escalated" and first.status == "superseded" and second.status == "open"
    assert not [e for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id)).all()
                if e.kind in ("body_response", "needs_reroute")]


def test_an_expired_body_cannot_resolve_but_may_still_record_what_it_did(s: Session, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    report = make_case(s, category="service_quality", population=None)
    first = esc.escalate(s, report, actor="handler")
    controlled_clock.advance(timedelta(hours=200))
    assert deadlines.check_deadlines(s)["moved_up"] == 1
    assert first.status == "expired"
    with pytest.raises(esc.NotCurrent):
        esc.record_response(s, first, action="resolved")
    esc.record_response(s, first, action="action_taken", text="We warned the cashier")
    assert report.status == "escalated" and first.status == "expired"
    notes = [e.detail for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id)).all()
             if e.kind == "body_response"]
    assert notes and notes[-1]["text"] == "We warned the cashier"


def test_superseded_link_and_api_get_a_clear_refusal(settings, engine, seeded, live_server) -> None:  # type: ignore[no-untyped-def]
    get_settings().public_url = live_server.base_url
    with Session(engine) as s:
        report, first, second = _superseded(s)
        path = esc.response_url(first).removeprefix(live_server.base_url)
        token = issue_api_token(s, s.get(GrievanceBody, first.body_id))  # type: ignore[arg-type]
        holder = s.get(GrievanceBody, second.body_id).name_en  # type: ignore[union-attr]
        report_id, first_id = report.id, first.id
        s.commit()
    page = live_server.client.get(path + "?lang=en")
    assert page.status_code == 200 and holder in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    refused = live_server.client.post(path, data={"csrf": csrf, "action": "resolved", "lang": "en"})
    assert refused.status_code == 409 and holder in refused.text
    api = live_server.client.post(f"/api/v1/body/escalations/{first_id}/response",
                                  json={"action": "resolved"}, headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 409 and holder in api.json()["detail"]
    with Session(engine) as s:
        assert s.get(Report, report_id).status == "escalated"  # type: ignore[union-attr]
        assert s.get(Escalation, first_id).status == "superseded"  # type: ignore[union-attr]
