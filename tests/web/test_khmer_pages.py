"""Every Khmer page of demo-like data in real Chromium (Playwright, Debian's chromium): no English word or
label leaks, no sentence mixes Khmer and Latin digits, every chart's empty-state message fits its chart.

Allowed Latin: proper nouns and codes (Samleng, KHANA, HIV, TB, SMS, …), people's and organisations'
own data (email addresses, organisation and routing-rule names, reporters' words), zone names.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

from service.demo import DEMO_PASSWORD, load_demo
from service.orgs.models import Organisation, User
from service.queue import handling
from service.reports.models import Report
from service.routing.models import RoutingRule
from tests.support.browser import TIMEOUT_MS, launch, needs_chromium

pytestmark = needs_chromium

# Names and codes that stay as they are in Khmer text.
ALLOWED = {"Samleng", "English", "Português", "KHANA", "HIV", "TB", "SMS", "WhatsApp", "Telegram", "PrEP", "ARV",
           "Open311", "GeoReport", "v2", "services", "requests", "json", "CSV", "XLSX", "PDF", "ID", "Poor", "OK",
           "UTC", "Q1", "Q2", "Q3", "Q4", "x", "KB", "QR", "TOTP", "Asia", "Phnom", "Penh", "Africa", "Johannesburg",
           "demo", "NCHADS", "CENAT", "HCMC", "CCHR", "Natural", "Earth", "YAML", "QXZ"}
# What the page shows of people's own words (never translated): reports, notes, replies, quotes, addresses.
STRIP_USER_TEXT = """() => {
  const skip = 'script, style, noscript, title, .narrative, q, blockquote, td.story, .story, .who, code, '
    + 'select[name=time_zone], select[name=rule_key], [lang]:not([lang=km]), textarea, '
    + 'ul.reasons';  // the triage reasons' sentences: the case page's why-sentences render them
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    if (!node.parentElement.closest(skip) && node.textContent.trim()) out.push(node.textContent.trim());
  }
  return out.join('\\n');
}"""
KHMER_DIGIT = re.compile("[\u17e0-\u17e9]")
LATIN_DIGIT = re.compile("[0-9]")
# Email addresses, zone names (Asia/Phnom_Penh) and dotted codes (audit actions such as case.view).
# Receipt codes (K3M-7QX) and rule versions (v1) too.
CODES = re.compile(r"\S+@\S+|\S+/\S+|\b[a-z_]+(?:\.[a-z_]+)+\b|\b[A-Z0-9]{2,}(?:-[A-Z0-9]+)+\b|\bv\d+\b")


def leaks(text: str, allowed: set[str]) -> list[str]:
    """Latin words (2+ letters) that are not allowed names or codes."""
    text = CODES.sub(" ", text)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_]+", text)
    return sorted({w for w in words if w not in allowed})


def mixed_digits(text: str) -> list[str]:
    """Sentences (lines, or parts between Khmer full stops) with both Khmer and Latin digits."""
    return [part for line in text.splitlines() for part in line.split("។")
            if KHMER_DIGIT.search(part) and LATIN_DIGIT.search(part)]


def test_mixed_digits_found() -> None:
    assert mixed_digits("ចំនួនពី ១ ដល់ 9 បង្ហាញ") and not mixed_digits("ចំនួនពី 1 ដល់ 9")
    assert leaks("ព្រឹត្តិការណ៍ triage · system", set()) == ["system", "triage"]


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def _demo(engine) -> tuple[list[int], set[str], str]:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        load_demo(s)
        s.commit()
        khana = s.exec(select(Organisation).where(Organisation.slug == "khana-demo")).one()
        every = s.exec(select(Report).where(Report.org_id == khana.id).order_by(col(Report.id))).all()
        # The live demo cases and two of the history's cases in each status (answered, climbed,
        # closed...): every kind of timeline entry, without walking a thousand pages.
        by_status: dict[str, list[int]] = {}
        for r in every:
            by_status.setdefault(r.status, []).append(r.id)  # type: ignore[arg-type]
        cases = sorted({*(r.id for r in every[:10]), *(i for ids in by_status.values() for i in ids[:2])})
        # One case escalated by a handler: its timeline says where it went ("to nchads" was English).
        handler = s.exec(select(User).where(User.email == "handler@khana.demo")).one()
        for case_id in cases:
            report = s.get(Report, case_id)
            if handling.escalation_view(s, report).ladder and report.status in ("received", "triaged", "in_progress"):
                handling.escalate(s, user=handler, report=report, after=0)
                break
        else:
            raise AssertionError("no demo case can be escalated")
        s.commit()
        names = {w for o in s.exec(select(Organisation)).all() for w in re.findall(r"[A-Za-z]+", f"{o.name} {o.slug}")}
        names |= {w for r in s.exec(select(RoutingRule)).all()
                  for w in re.findall(r"[A-Za-z]+", f"{r.name} {r.rule_key}")}
        from service.places.models import Place

        # Places with no Khmer name (Southern Africa's) keep their own names.
        names |= {w for p in s.exec(select(Place)).all() if not re.search("[\u1780-\u17ff]", p.name_km or "")
                  for w in re.findall(r"[A-Za-z]+", p.name_en)}
        # So do grievance bodies with no Khmer name (Southern Africa's programmes and mechanisms).
        from service.bodies.models import GrievanceBody

        names |= {w for b in s.exec(select(GrievanceBody)).all() if not re.search("[\u1780-\u17ff]", b.name_km or "")
                  for w in re.findall(r"[A-Za-z]+", b.name_en)}
        place = s.exec(select(Place).where(Place.kind == "province")).first()
        return cases, names, place.code  # type: ignore[union-attr]


def _sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_selector("header.top #logout")


def _check(page, url: str, allowed: set[str], problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    assert page.evaluate("document.documentElement.lang") == "km", url
    text = page.evaluate(STRIP_USER_TEXT)
    for word in leaks(text, allowed):
        line = next((ln for ln in text.splitlines() if re.search(rf"\b{re.escape(word)}\b", ln)), "")
        problems.append(f"{url}: English {word!r} in {line.strip()[:120]!r}")
    for sentence in mixed_digits(text):
        problems.append(f"{url}: mixed digits in {sentence.strip()[:120]!r}")
    # Each chart's empty-state message inside its chart (not cut off at either end).
    for box in page.evaluate("""() => [...document.querySelectorAll('svg.empty text.no-data')].map(t => {
        const b = t.getBBox(), vb = t.ownerSVGElement.viewBox.baseVal;
        return {x: b.x, right: b.x + b.width, width: vb.width, text: t.textContent}; })"""):
        if box["x"] < 0 or box["right"] > box["width"]:
            problems.append(f"{url}: empty-state text cut off ({box['x']:.0f}..{box['right']:.0f} of "
                            f"{box['width']:.0f}): {box['text'][:60]!r}")


@pytest.mark.parametrize("width", [1280, 390])
def test_every_khmer_page_speaks_khmer(browser, live_server, engine, places, width) -> None:  # type: ignore[no-untyped-def]
    cases, names, province = _demo(engine)
    allowed = ALLOWED | names
    base = live_server.base_url
    problems: list[str] = []
    for email, paths in (
        ("supervisor@khana.demo", ["/", *[f"/cases/{c}" for c in cases], "/dashboard", f"/scorecards/{province}",
                                   "/account", "/admin/dead-letters", "/admin/routing", "/admin/agents", "/status"]),
        ("admin@samleng.demo", ["/admin/audit", "/admin/users", "/admin/rules", "/dashboard"]),
        (None, ["/public?lang=km", "/status", "/"]),
    ):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies([{"name": "samleng-lang", "value": "km", "url": base}])
        page = context.new_page()
        if email:
            _sign_in(page, base, email)
        for path in paths:
            _check(page, base + path, allowed, problems)
        if width == 390:  # phone width: nothing wider than the screen
            page.goto(base + paths[0])
            assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, paths[0]
        context.close()
    if problems:
        import os

        with open(os.environ.get("SAMLENG_KM_PROBLEMS", "/dev/null"), "w") as fh:
            fh.write("\n".join(problems))
    assert problems == []
