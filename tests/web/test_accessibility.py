"""Accessibility: axe-core (vendored in tests/support/axe, MPL-2.0; never from a CDN) finds no serious or
critical violation of WCAG 2 A/AA on the queue, a case, the dashboard and the public page, in English
and in Khmer. Runs in a real headless Chromium (Debian's) against the app behind real HTTP; pages other
people change later are checked the same way, so a regression fails here."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.support.browser import TIMEOUT_MS, launch, needs_chromium
from tests.support.factories import make_report
from tests.support.review import PASSWORD, build_world

AXE = Path(__file__).resolve().parents[1] / "support" / "axe" / "axe.min.js"
pytestmark = needs_chromium
RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                          resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary.split('\\n').slice(1, 3).join(' '))}));
}"""


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    yield from launch()


def serious(page) -> list[dict]:  # type: ignore[no-untyped-def]
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN)


def test_no_serious_accessibility_violations_in_english_and_khmer(browser, live_server, engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
        case = make_report(s, org_id=world.orgs["a"], urgency="urgent", due_in=timedelta(hours=-1),
                           narrative="Police took our condoms near the market", category="human_rights_violation",
                           population="sex_worker", consent_address="+85512000777", triage_confidence=0.8,
                           triage_reasons=["mentions police"], category_source="triage")
        for i in range(3):
            make_report(s, org_id=world.orgs["a"], narrative=f"No ARV at the health centre, visit {i}",
                        category="service_quality", due_in=timedelta(hours=30 + i))
        s.commit()
    # The app's CSP rightly refuses inline scripts: only the test's own axe script is let through.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    base = live_server.base_url

    # The check itself can fail: an unlabelled field and grey-on-grey text are caught.
    page.set_content('<html><body><input type="text"><p style="color:#999;background:#aaa">faint</p></body></html>')
    assert {v["id"] for v in serious(page)} >= {"label", "color-contrast", "html-has-lang"}

    found: dict[str, list[dict]] = {}
    page.goto(base + "/public")
    found["public en"] = serious(page)
    page.goto(base + "/public?lang=km")
    found["public km"] = serious(page)
    page.goto(base + "/")
    found["login"] = serious(page)
    page.get_by_label("Email").fill("supervisor@a.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("table.queue")
    for language in ("en", "km"):
        page.goto(base + "/")
        if language == "km":  # the review queue's own switch (a form): the choice stays for the next pages
            page.get_by_role("button", name="ខ្មែរ").click()
            page.wait_for_function("document.documentElement.lang === 'km'")
        page.wait_for_selector("#counts [data-counts]")
        found[f"queue {language}"] = serious(page)
        page.goto(base + f"/cases/{case.id}")
        assert page.locator("html").get_attribute("lang") == language
        found[f"case {language}"] = serious(page)
        page.goto(base + "/dashboard")
        assert page.locator("html").get_attribute("lang") == language
        found[f"dashboard {language}"] = serious(page)
    problems = {where: v for where, v in found.items() if v}
    assert not problems, "\n".join(f"{where}: {v['id']} ({v['impact']}): {v['help']} — {v['nodes']}"
                                   for where, vs in problems.items() for v in vs)


def test_no_serious_violations_on_the_supervisors_and_administrators_pages(browser, live_server, engine,  # type: ignore[no-untyped-def]
                                                                           places) -> None:
    """The workload, bulk, tags, saved views, reply templates, grievance bodies, audit, users, dead
    letters, routing, outreach workers, routing rules, scorecard and account pages, and a body's
    response page, in English and Khmer."""
    from service.bodies.service import load_bodies
    from service.demo import ORGS
    from service.escalation import service as esc
    from service.orgs.service import create_org
    from service.routing.service import load_rules
    from service.supervision import replies, tags
    from tests.escalation.factories import make_case

    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
        for slug, name in ORGS:
            create_org(s, slug=slug, name=name)
        load_bodies(s)
        load_rules(s)
        held = make_report(s, org_id=world.orgs["a"], urgency="urgent", due_in=timedelta(hours=-1),
                           assigned_user_id=world.users["a:handler"].id, category="service_quality")
        tags.add_tag(s, user=world.users["a:handler"], report=held, tag="stock-out")
        replies.save(s, user=world.users["a:admin"], name="Thanks", texts={"en": "Thank you.", "km": "អរគុណ។"})
        routed = make_case(s, narrative="No ARV at the health centre")
        url = esc.response_url(esc.escalate(s, routed, actor="handler"))
        s.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    base = live_server.base_url
    found: dict[str, list[dict]] = {}
    respond = url.removeprefix(base)
    for language in ("en", "km"):  # the body's page: no account, its language from the link's ?lang
        page.goto(base + respond + f"?lang={language}")
        assert page.locator("html").get_attribute("lang") == language
        found[f"respond {language}"] = serious(page)

    def sign_in_as(email: str) -> None:
        context.clear_cookies()
        page.goto(base + "/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("table.queue")

    handler = world.users["a:handler"].id
    org_pages = ("/supervise/workload", f"/supervise/workload/{handler}", "/supervise/workload/unassigned",
                 "/supervise/replies", "/admin/bodies", "/admin/bodies/new", "/admin/audit", "/admin/users",
                 "/admin/dead-letters", "/admin/routing", "/admin/agents", "/tags", "/tags?tag=stock-out", "/filters",
                 "/scorecards/KH-2", "/account")
    platform_pages = ("/admin/rules", "/admin/bodies/nacd")
    for email, paths in (("admin@a.test", org_pages), ("root@platform.test", platform_pages)):
        sign_in_as(email)
        for language in ("en", "km"):
            if language == "km":
                page.get_by_role("button", name="ខ្មែរ").click()
                page.wait_for_function("document.documentElement.lang === 'km'")
            for path in paths:
                response = page.goto(base + path)
                assert response is not None and response.status == 200, path
                assert page.locator("html").get_attribute("lang") == language, path
                found[f"{path} {language}"] = serious(page)
        if email == "admin@a.test":  # the answer to a bulk action from the queue, in Khmer
            page.goto(base + "/")
            page.locator(f'input[name="case"][value="{held.id}"]').check()
            page.locator("#bulk-tag").fill("police")
            page.get_by_role("button", name="បន្ថែមស្លាក").click()
            page.wait_for_selector("#bulk-result")
            found["bulk result km"] = serious(page)
    problems = {where: v for where, v in found.items() if v}
    assert not problems, "\n".join(f"{where}: {v['id']} ({v['impact']}): {v['help']} — {v['nodes']}"
                                   for where, vs in problems.items() for v in vs)
