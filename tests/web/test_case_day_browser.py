"""A handler's and supervisor's day in Debian's chromium (Playwright's bundled driver), both databases:
the reasons as sentences, the escalation confirmation (body, rung, deadline) then the send, the status
list without a default, an undelivered escalation on the case and in the queue, the first response's
due date, the reroute list inside its card at 1366 px, the tab icon; then in Khmer, then at phone
width (390 px); the supervisor's dashboard counting the passed deadline as missed, a province's
scorecard title and a quarter's last day."""

from __future__ import annotations

import re

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from service.escalation.models import Escalation
from service.kit.clock import now
from service.worker import Worker
from service.reports.models import Report
from tests.support.browser import TIMEOUT_MS, launch, needs_chromium
from tests.support.review import PASSWORD

pytestmark = needs_chromium
REASONS = [{"kind": "language", "language": "en", "score": 0.938},
           {"kind": "rule", "rule": "urgent/threat", "words": ["threaten*"], "languages": ["en"]},
           {"kind": "rule", "rule": "urgent/detained_now", "words": ["detain*", "police took*"], "languages": ["en"]},
           {"kind": "model", "rule": "model/category", "category": "human_rights_violation",
            "scores": {"human_rights_violation": 1.0}, "urgent_score": 0.996}]


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def _sign_in(context, base: str, email: str):  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(base + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("table.queue, h1")
    return page


def _inside(page, inner: str, outer: str) -> bool:  # type: ignore[no-untyped-def]
    a, b = page.locator(inner).bounding_box(), page.locator(outer).bounding_box()
    return a["x"] >= b["x"] - 1 and a["x"] + a["width"] <= b["x"] + b["width"] + 1


def test_case_page_day_in_english_khmer_and_on_a_phone(browser, live_server, khana, engine, settings) -> None:
    with Session(engine) as s:
        report = s.get(Report, khana.id)
        report.triage_reasons, report.triage_confidence, report.category_source = REASONS, 1.0, "reporter"
        s.add(report)
        s.commit()
    base = live_server.base_url
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = _sign_in(context, base, "handler@khana.test")
    row = page.locator(f'tr[data-case="{khana.id}"]')
    assert "reply by" in row.inner_text()  # a new SMS case: when its first response is due, not "–"

    page.goto(base + f"/cases/{khana.id}")
    why = page.locator("#triage ul.reasons").inner_text()
    assert "Urgent: ‘threaten…’ — a threat of harm" in why and "Model: Rights abuse or police, 100 %" in why
    assert '"kind"' not in page.inner_text("#triage") and "100% (set by" in page.inner_text("#triage")
    assert "first response by" in page.inner_text("#due")
    assert _inside(page, "#reroute-form select", "#escalation")  # the rule list stays in its card at 1366 px
    assert page.request.get(base + "/favicon.ico").status == 200

    # Escalate: a confirmation page names the body, the rung and the deadline; nothing is sent yet.
    page.get_by_role("button", name="Escalate…").click()
    page.wait_for_selector("#escalate-confirm")
    body = page.inner_text("#target-body")
    assert "rung" in page.inner_text("#target-rung") and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+", page.inner_text("#target-due").strip())
    with Session(engine) as s:
        assert s.exec(select(Escalation).where(Escalation.report_id == khana.id)).first() is None
    page.get_by_role("button", name=f"Send to {body}").click()
    page.wait_for_url(f"**/cases/{khana.id}#timeline")
    assert body in page.inner_text("#escalation")
    options = page.locator("#handling select[name=to] option")
    assert options.first.get_attribute("value") == "" and page.locator("#handling select[name=to]").input_value() == ""
    assert "escalated" not in [options.nth(i).get_attribute("value") for i in range(options.count())]

    # No SMTP here: the email to the body dies. The case and the queue say so.
    Worker(engine, settings).run("deliver")
    page.goto(base + f"/cases/{khana.id}")
    assert page.locator("#escalation-undelivered").is_visible() and page.locator("#failed-deliveries").is_visible()
    page.goto(base + "/")
    assert page.locator(f'tr[data-case="{khana.id}"] .badge.failed').inner_text() == "not delivered"

    # In Khmer.
    page.goto(base + f"/cases/{khana.id}")
    page.get_by_role("button", name="ខ្មែរ").click()
    page.wait_for_url(f"**/cases/{khana.id}")
    assert "បន្ទាន់៖ ‘threaten…’ — ការគំរាមធ្វើបាប" in page.inner_text("#triage ul.reasons")
    assert "ស្ថាប័ននេះមិនទាន់បានទទួលករណីនេះទេ" in page.inner_text("#escalation-undelivered")
    page.get_by_role("button", name="បញ្ជូនបន្ត…").click()
    page.wait_for_selector("#escalate-confirm")
    assert "បញ្ជូនបន្តករណី" in page.inner_text("h1")
    page.get_by_role("link", name="បោះបង់").or_(page.get_by_role("link", name="← ត្រឡប់ទៅករណីវិញ")).first.click()
    page.wait_for_url(f"**/cases/{khana.id}")
    page.get_by_role("button", name="English").click()
    context.close()

    # At phone width: the case page and the confirmation fit the screen, the send button is reachable.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.set_default_timeout(TIMEOUT_MS)
    small = _sign_in(phone, base, "handler@khana.test")
    small.goto(base + f"/cases/{khana.id}")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert _inside(small, "#reroute-form select", "#escalation") if small.locator("#reroute-form").count() else True
    with Session(engine) as s:
        latest = s.exec(select(Escalation).where(Escalation.report_id == khana.id)
                        .order_by(col(Escalation.id).desc())).first()
    small.goto(base + f"/cases/{khana.id}/escalate?after={latest.id}")  # type: ignore[union-attr]
    small.wait_for_selector("#escalate-confirm")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    if small.locator("#escalate-confirm-form button").count():
        assert _inside(small, "#escalate-confirm-form button", "#escalate-confirm")
    phone.close()


def test_supervisor_sees_missed_deadlines_and_province_titles(browser, live_server, khana, engine, settings) -> None:
    from service.escalation import service as esc

    with Session(engine) as s:  # escalated, never answered, deadline passed an hour ago
        report = s.get(Report, khana.id)
        made = esc.escalate(s, report, actor="handler@khana.test")  # type: ignore[arg-type]
        made.due_at = report.due_at = now() - timedelta(hours=1)  # type: ignore[union-attr]
        s.add(made)
        s.add(report)
        s.commit()
    base = live_server.base_url
    for width in (1366, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = _sign_in(context, base, "supervisor@khana.test")
        assert page.locator(f'tr[data-case="{khana.id}"] .badge.overdue').count() == 1  # the queue: overdue
        page.goto(base + "/dashboard")
        html = page.content()  # the pie chart's labels are SVG text
        assert "deadline missed" in html and "still running" not in html
        page.goto(base + "/scorecards/KH-2?since=2026-10-01&until=2027-01-01")
        assert "Province scorecard" in page.inner_text("h1") and "District scorecard" not in page.inner_text("body")
        assert "2026-10-01 – 2026-12-31" in page.inner_text("body")
        page.goto(base + "/scorecards/KH-2?since=2026-10-01&until=2027-01-01&lang=km")
        assert "តារាងពិន្ទុខេត្ត" in page.inner_text("body")
        page.goto(base + "/dashboard?lang=km")
        khmer = page.content()
        assert "ហួសពេលកំណត់" in khmer and "នៅមិនទាន់ដល់ពេល" not in khmer
        context.close()
