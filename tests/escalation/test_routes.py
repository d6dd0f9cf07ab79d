"""The bodies' one-page response form over real HTTP: no account, signed link, CSRF-safe, en + km."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.config import get_settings
from service.escalation import service as esc
from service.escalation.models import Escalation
from service.reports.models import Report, ReportEvent
from tests.escalation.factories import make_case

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def case_link(settings, engine, seeded, live_server):  # type: ignore[no-untyped-def]
    get_settings().public_url = live_server.base_url
    with Session(engine) as s:
        report = make_case(s, narrative="They asked 20000 riel for the TB test, my number 012 345 678")
        escalation = esc.escalate(s, report, actor="handler")
        url = esc.response_url(escalation)
        s.commit()
        return url.removeprefix(live_server.base_url), report.id, escalation.id


def test_page_shows_the_masked_case_in_the_bodys_language_with_safe_headers(live_server, case_link) -> None:  # type: ignore[no-untyped-def]
    path, _report_id, _ = case_link
    page = live_server.client.get(path)
    assert page.status_code == 200 and 'lang="km"' in page.text  # Chrey HC writes in Khmer
    assert "[phone]" in page.text and "012 345 678" not in page.text and "មណ្ឌលសុខភាពជ្រៃ" in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    english = live_server.client.get(path + "?lang=en")
    assert 'lang="en"' in english.text and "This is not for our office" in english.text


def test_answer_is_recorded_once_and_double_submit_is_harmless(live_server, engine, case_link) -> None:  # type: ignore[no-untyped-def]
    path, report_id, escalation_id = case_link
    csrf = CSRF.search(live_server.client.get(path).text).group(1)  # type: ignore[union-attr]
    form = {"csrf": csrf, "action": "action_taken", "text": "Fee refunded; staff warned", "lang": "en"}
    first = live_server.client.post(path, data=form)
    again = live_server.client.post(path, data=form)
    assert first.status_code == again.status_code == 200 and "Your answer is recorded" in first.text
    with Session(engine) as s:
        assert s.get(Report, report_id).status == "responded"  # type: ignore[union-attr]
        responses = [e for e in s.exec(select(ReportEvent).where(ReportEvent.report_id == report_id)).all()
                     if e.kind == "body_response"]
        assert len(responses) == 1 and responses[0].detail["text"] == "Fee refunded; staff warned"
    resolved = live_server.client.post(path, data={**form, "action": "resolved"})
    assert resolved.status_code == 200
    late = live_server.client.post(path, data={**form, "action": "not_ours"})
    assert late.status_code == 200 and "already closed" in late.text
    with Session(engine) as s:
        assert s.get(Escalation, escalation_id).status == "resolved"  # type: ignore[union-attr]


@pytest.mark.parametrize("tamper", ["signature", "payload", "garbage"])
def test_tampered_links_are_refused(live_server, case_link, tamper: str) -> None:  # type: ignore[no-untyped-def]
    path, *_ = case_link
    token = path.rsplit("/", 1)[1]
    payload, sig = token.split(".")
    bad = {"signature": payload + "." + ("A" if sig[0] != "A" else "B") + sig[1:],
           "payload": ("M" if payload[0] != "M" else "N") + payload[1:] + "." + sig, "garbage": "not-a-token"}[tamper]
    page = live_server.client.get("/respond/" + bad)
    assert page.status_code == 403 and "not valid" in page.text
    post = live_server.client.post("/respond/" + bad, data={"csrf": "x", "action": "resolved"})
    assert post.status_code == 403


def test_expired_link_is_refused(live_server, case_link, controlled_clock) -> None:  # type: ignore[no-untyped-def]
    path, *_ = case_link
    controlled_clock.advance(timedelta(hours=72) + timedelta(days=get_settings().response_link_days, minutes=1))
    page = live_server.client.get(path)
    assert page.status_code == 410 and "expired" in page.text


def test_csrf_and_cross_origin_posts_are_refused(live_server, engine, case_link) -> None:  # type: ignore[no-untyped-def]
    path, report_id, _ = case_link
    csrf = CSRF.search(live_server.client.get(path).text).group(1)  # type: ignore[union-attr]
    no_csrf = live_server.client.post(path, data={"action": "resolved"})
    cross = live_server.client.post(path, data={"csrf": csrf, "action": "resolved"},
                                    headers={"Origin": "https://evil.example"})
    assert no_csrf.status_code == 403 and cross.status_code == 403
    bad_action = live_server.client.post(path, data={"csrf": csrf, "action": "delete-everything"})
    assert bad_action.status_code == 400
    not_form = live_server.client.post(path, json={"csrf": csrf, "action": "resolved"})
    assert not_form.status_code == 415
    with Session(engine) as s:
        assert s.get(Report, report_id).status == "escalated"  # type: ignore[union-attr]
