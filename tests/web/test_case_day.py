"""A handler's day on the case page, over real HTTP (TestClient), both databases: the reasons as
sentences, escalating only after a confirmation page (no JavaScript needed) that names the body,
rung and deadline, the status list without a default, an undelivered escalation on the case and
in the queue, the first response's due date, the tab icon. The browser test (test_case_day_browser.py)
walks the same in Chromium, in Khmer and at phone width."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from service.escalation.models import Escalation
from service.orgs.models import User
from service.outbox.models import OutboundMessage
from service.outbox.worker import Worker
from service.kit import zones
from service.orgs.zones import name_for_user
from service.queue.service import first_response_due
from service.reports.models import Report
from tests.support.review import csrf_of, sign_in

REASONS = [{"kind": "language", "language": "en", "score": 0.938},
           {"kind": "rule", "rule": "urgent/threat", "words": ["threaten*"], "languages": ["en"]},
           {"kind": "rule", "rule": "urgent/detained_now", "words": ["detain*", "police took*"], "languages": ["en"]},
           {"kind": "model", "rule": "model/category", "category": "human_rights_violation",
            "scores": {"human_rights_violation": 1.0, "other": 0.0}, "urgent_score": 0.996}]


def _escalations(engine, report_id: int) -> list[Escalation]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(Escalation).where(Escalation.report_id == report_id).order_by(col(Escalation.id))).all())


def test_why_lists_sentences_not_json_and_confidence_is_spaced(app, khana, engine) -> None:
    with Session(engine) as s:
        report = s.get(Report, khana.id)
        report.triage_reasons, report.triage_confidence, report.category_source = REASONS, 1.0, "reporter"
        s.add(report)
        s.commit()
    sign_in(app, "handler@khana.test")
    page = app.get(f"/cases/{khana.id}").text
    triage = page[page.index('id="triage"'):page.index('id="handling"')]
    assert '{&#34;kind&#34;' not in triage and '"kind"' not in triage
    assert "<li>Urgent: ‘threaten…’ — a threat of harm</li>" in triage
    assert "<li>Urgent: ‘detain…’, ‘police took…’ — someone detained now</li>" in triage
    assert "<li>Model: Rights abuse or police, 100 %</li>" in triage
    assert re.search(r"100% <span class=\"muted\">\(set by", triage)
    app.cookies.set("samleng-lang", "km")
    khmer = app.get(f"/cases/{khana.id}").text
    assert "<li>បន្ទាន់៖ ‘threaten…’ — ការគំរាមធ្វើបាប</li>" in khmer and "ភាសា៖ អង់គ្លេស, ៩៤ %" in khmer


def test_escalate_shows_where_it_goes_and_sends_only_when_confirmed(app, khana, engine) -> None:
    sign_in(app, "handler@khana.test")
    case_page = app.get(f"/cases/{khana.id}").text
    # The case page's button is a GET form: it asks, it does not send.
    assert re.search(r'<form method="get" action="/cases/%d/escalate"' % khana.id, case_page)
    confirm = app.get(f"/cases/{khana.id}/escalate", params={"after": 0})
    assert confirm.status_code == 200 and _escalations(engine, khana.id) == []
    body = re.search(r'id="target-body"><strong>([^<]+)</strong>', confirm.text).group(1)  # type: ignore[union-attr]
    rung = re.search(r'id="target-rung">[^<]*rung (\d+) of (\d+)', confirm.text)
    due = re.search(r'id="target-due">(\d{4}-\d\d-\d\d \d\d:\d\d) [^<\s]+<', confirm.text)  # in the reader's zone
    assert rung and due and int(rung.group(2)) == 5
    form = {"csrf_token": csrf_of(confirm.text), "after": "0"}
    assert app.post(f"/cases/{khana.id}/escalate", data=form, follow_redirects=False).status_code == 303
    [made] = _escalations(engine, khana.id)
    assert made.rung + 1 == int(rung.group(1))
    with Session(engine) as s:
        handler = s.exec(select(User).where(User.email == "handler@khana.test")).one()
        shown_as = zones.show(made.due_at, name_for_user(s, handler), "%Y-%m-%d %H:%M")
    gap = datetime.fromisoformat(shown_as) - datetime.fromisoformat(due.group(1))
    assert abs(gap.total_seconds()) < 600
    with Session(engine) as s:
        from service.bodies.models import GrievanceBody

        assert s.get(GrievanceBody, made.body_id).name_en == body  # type: ignore[union-attr]
    # The next step up, asked in Khmer: the page names the next body (or says none is left).
    app.cookies.set("samleng-lang", "km")
    again = app.get(f"/cases/{khana.id}/escalate", params={"after": made.id}).text
    assert "បញ្ជូនបន្តករណី" in again and ("ផ្ញើទៅ" in again or "គ្មានស្ថាប័នណានៅសល់" in again)
    assert len(_escalations(engine, khana.id)) == 1


def test_status_list_has_no_default_and_no_escalated(app, khana, engine) -> None:
    sign_in(app, "handler@khana.test")
    page = app.get(f"/cases/{khana.id}")
    token = csrf_of(page.text)
    assert app.post(f"/cases/{khana.id}/status", data={"csrf_token": token, "to": "in_progress"},
                    follow_redirects=False).status_code == 303
    html = app.get(f"/cases/{khana.id}").text
    select_html = re.search(r'<select name="to" required>(.*?)</select>', html, re.S).group(1)  # type: ignore[union-attr]
    assert select_html.startswith('<option value="" selected>Choose a status</option>')
    assert 'value="escalated"' not in select_html and 'value="resolved"' in select_html
    refused = app.post(f"/cases/{khana.id}/status", data={"csrf_token": token, "to": ""}, follow_redirects=False)
    assert refused.status_code == 409 and "Choose a status first." in refused.text
    with Session(engine) as s:
        assert s.get(Report, khana.id).status == "in_progress"  # type: ignore[union-attr]


def test_an_undelivered_escalation_shows_on_the_case_and_in_the_queue(app, khana, engine, settings) -> None:
    assert not settings.smtp_url and not settings.dev_outbox_on  # no SMTP configured: the email dies
    sign_in(app, "handler@khana.test")
    confirm = app.get(f"/cases/{khana.id}/escalate").text
    app.post(f"/cases/{khana.id}/escalate", data={"csrf_token": csrf_of(confirm), "after": "0"})
    Worker(engine, settings).deliver_due()
    with Session(engine) as s:
        statuses = {m.status for m in s.exec(select(OutboundMessage).where(
            OutboundMessage.report_id == khana.id, col(OutboundMessage.body_id).is_not(None))).all()}
    assert "dead" in statuses and not statuses & {"sent", "delivered"}
    page = app.get(f"/cases/{khana.id}").text
    assert 'id="escalation-undelivered"' in page and "not delivered: the body has not received the case" in page
    assert "<dd>waiting</dd>" not in page
    queue = app.get("/").text
    row = re.search(r'<tr[^>]*data-case="%d">.*?</tr>' % khana.id, queue, re.S).group(0)  # type: ignore[union-attr]
    assert 'class="badge failed">not delivered</span>' in row
    app.cookies.set("samleng-lang", "km")
    assert "មិនបានផ្ញើដល់៖ ស្ថាប័ននេះមិនទាន់បានទទួលករណីនេះទេ" in app.get(f"/cases/{khana.id}").text


def test_a_new_case_says_when_its_first_response_is_due(app, khana, engine) -> None:
    with Session(engine) as s:
        report = s.get(Report, khana.id)
        assert report.due_at is None and report.status in ("received", "triaged")  # type: ignore[union-attr]
        # Shown in the reader's zone: the platform's default, Phnom Penh (UTC+7).
        due = zones.show(first_response_due(report.created_at, report.urgency), "Asia/Phnom_Penh")  # type: ignore[union-attr]
        assert first_response_due(report.created_at, "urgent") - first_response_due(report.created_at, "normal") \
            == timedelta(hours=24 - 168)  # type: ignore[union-attr]
    sign_in(app, "handler@khana.test")
    assert f"first response by {due} +07" in app.get(f"/cases/{khana.id}").text
    row = re.search(r'<tr[^>]*data-case="%d">.*?</tr>' % khana.id, app.get("/").text, re.S).group(0)  # type: ignore[union-attr]
    assert f'<span class="muted">reply by</span> {due}' in row  # the queue's rows in the same zone


def test_the_tab_icon_is_served(app) -> None:
    response = app.get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
