"""The case page shows the deadline clock: running, paused (waiting on the reporter), counting working time
only, overdue; a handler pauses it by asking the reporter and may stop waiting. Real HTTP through the
in-process app, both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.bodies.service import get_body
from service.escalation.models import Escalation
from service.kit import clock
from service.reports.models import Report, ReportEvent
from tests.support.review import bearer, csrf_of, sign_in


@pytest.fixture
def moved() -> Iterator[object]:
    clock.reset()
    yield clock
    clock.reset()


def clock_of(html: str) -> str:
    found = re.search(r'<dd id="clock" data-state="([a-z]+)">', html)
    return found.group(1) if found else ""


def escalate(app, case_id: int) -> None:  # type: ignore[no-untyped-def]
    page = app.get(f"/cases/{case_id}")
    assert app.post(f"/cases/{case_id}/escalate", data={"csrf_token": csrf_of(page.text), "after": "0"},
                    follow_redirects=False).status_code == 303


def test_asking_the_reporter_pauses_the_clock_and_the_handler_can_stop_waiting(app, khana, engine) -> None:
    sign_in(app, "handler@khana.test")
    assert 'id="clock"' not in app.get(f"/cases/{khana.id}").text  # nothing awaited from a body yet
    escalate(app, khana.id)
    page = app.get(f"/cases/{khana.id}").text
    assert clock_of(page) == "running" and "Running: the answer is due" in page
    # The "more information" template asks a question: it always waits for the answer.
    sent = app.post(f"/cases/{khana.id}/reply", data={"csrf_token": csrf_of(page), "template": "more_info",
                                                      "wait": "1"}, follow_redirects=False)
    assert sent.status_code == 303
    page = app.get(f"/cases/{khana.id}").text
    assert clock_of(page) == "paused" and "waiting on the reporter&#39;s answer" in page
    assert "paused: waiting on the reporter" in page and "Deadline paused: waiting on the reporter" in page
    with Session(engine) as s:
        assert s.get(Report, khana.id).due_at is None
    app.cookies.set("samleng-lang", "km")
    khmer = app.get(f"/cases/{khana.id}").text
    assert "កំពុងរង់ចាំចម្លើយពីអ្នករាយការណ៍" in khmer and "ឈប់រង់ចាំ" in khmer
    app.cookies.set("samleng-lang", "en")
    # Stop waiting: the clock runs again, audited; a second time is refused (409), never a 500.
    stopped = app.post(f"/cases/{khana.id}/clock/resume", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert stopped.status_code == 303
    assert clock_of(app.get(f"/cases/{khana.id}").text) == "running"
    again = app.post(f"/cases/{khana.id}/clock/resume", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert again.status_code == 409 and "the deadline is not paused" in again.text
    with Session(engine) as s:
        [entry] = s.exec(select(AuditEvent).where(AuditEvent.action == "case.clock_resume")).all()
        assert entry.actor == "handler@khana.test"
        kinds = [e.kind for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == khana.id)
                                        .order_by(col(ReportEvent.id))).all()]
        assert kinds[-2:] == ["clock_paused", "clock_resumed"]
        assert s.get(Report, khana.id).due_at is not None


def test_a_plain_reply_does_not_pause_unless_asked_and_the_api_can_wait(app, khana, engine) -> None:
    sign_in(app, "handler@khana.test")
    escalate(app, khana.id)
    page = app.get(f"/cases/{khana.id}").text
    app.post(f"/cases/{khana.id}/reply", data={"csrf_token": csrf_of(page), "text": "We are on it."})
    assert clock_of(app.get(f"/cases/{khana.id}").text) == "running"
    headers = bearer(app, "handler@khana.test")
    answer = app.post(f"/api/v1/cases/{khana.id}/reply", headers=headers,
                      json={"text": "Which day was it?", "wait_for_answer": True})
    assert answer.status_code == 200, answer.text
    assert clock_of(app.get(f"/cases/{khana.id}").text) == "paused"
    bad = app.post(f"/api/v1/cases/{khana.id}/reply", headers=headers, json={"text": "x", "wait_for_answer": "soon"})
    assert bad.status_code == 422


def test_working_time_and_overdue_on_the_case_page(app, khana, engine, moved) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        body = get_body(s, "chrey-hc")
        body.deadline_counting, body.working_hours, body.holiday_country = "working", "mon-fri 08:00-17:00", "KH"
        s.add(body)
        s.commit()
    sign_in(app, "handler@khana.test")
    escalate(app, khana.id)
    page = app.get(f"/cases/{khana.id}").text
    assert clock_of(page) == "working" and "Counting working time only" in page
    assert ("counting now, until" in page) or ("it runs again" in page)
    with Session(engine) as s:
        escalation = s.exec(select(Escalation).where(Escalation.report_id == khana.id)).one()
        assert escalation.counting == "working"
        left = escalation.due_at - clock.now()  # type: ignore[operator]
    moved.advance(left + timedelta(minutes=5))  # type: ignore[attr-defined]
    sign_in(app, "handler@khana.test")
    page = app.get(f"/cases/{khana.id}").text
    assert clock_of(page) == "overdue" and "Overdue since" in page
