"""The web queue renders without counting; the quick filters' counts come from /queue/counts
(scoped to the organisation, within the current filters), or inline with counts=1 without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, func, select

from service.audit.models import AuditEvent
from service.queue import service as queue
from service.reports.models import Report
from tests.support.factories import make_report
from tests.support.review import sign_in


def counts_of(html: str) -> dict[str, str]:
    """The fragment's numbers: "total" and each quick filter's, by the filter its link sets."""
    found = {"total": re.search(r'data-counts="1">(\S+) ', html).group(1)}  # type: ignore[union-attr]
    for href, number in re.findall(r'<a id="[^"]*" href="/\?([^"]*)" class="pill[^"]*">[^<]*<span class="n">([^<]+)</span>', html):
        last = href.replace("&amp;", "&").split("&")[-1]
        found[last] = number
    return found


def forbid_counting(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def refuse(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the queue page must not count the quick filters inline")

    monkeypatch.setattr(queue, "queue_counts", refuse)
    monkeypatch.setattr(queue, "view_counts", refuse)


def test_the_page_comes_without_counts_and_asks_for_them(app, world, monkeypatch) -> None:
    sign_in(app, "handler@a.test")
    forbid_counting(monkeypatch)
    page = app.get("/", params={"category": "financial_hardship"})
    assert page.status_code == 200
    assert f'data-case="{world.cases["a"].id}"' in page.text and 'class="quick"' in page.text
    assert "data-counts" not in page.text and 'class="n"' not in page.text
    # htmx fetches the counts once the page has loaded, with the same filters, and refreshes them
    assert 'hx-get="/queue/counts?category=financial_hardship" hx-trigger="load, every 60s"' in page.text
    # without JavaScript: a link that shows the same page with its counts
    assert '<noscript><p><a href="/?category=financial_hardship&amp;counts=1">Show counts</a></p></noscript>' in page.text
    # the quick filters keep the current filters
    assert 'href="/?category=financial_hardship&amp;urgency=urgent"' in page.text
    assert page.headers["Cache-Control"] == "no-store" and "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_fragment_counts_the_callers_organisation_only(app, world) -> None:
    sign_in(app, "handler@a.test")
    a = app.get("/queue/counts", headers={"HX-Request": "true"})
    assert a.status_code == 200 and "<html" not in a.text
    assert counts_of(a.text) == {"total": "2", "urgency=urgent": "0", "overdue=1": "0", "assigned=unassigned": "2",
                                 "assigned=me": "0", "status=received": "2", "status=triaged": "0",
                                 "status=in_progress": "0", "status=escalated": "0", "status=responded": "0"}
    assert a.headers["Cache-Control"] == "no-store" and a.headers["X-Content-Type-Options"] == "nosniff"
    for role in ("handler", "supervisor", "admin"):  # organisation B sees its own numbers, never A's
        sign_in(app, f"{role}@b.test")
        b = counts_of(app.get("/queue/counts").text)
        assert b["total"] == "2" and b["urgency=urgent"] == "1"
        assert counts_of(app.get("/queue/counts", params={"category": "financial_hardship"}).text)["total"] == "0"
    sign_in(app, "root@platform.test")  # the platform admin sees every organisation and the unrouted report
    assert counts_of(app.get("/queue/counts").text)["total"] == "5"


def test_the_fragment_applies_the_filters(app, world, engine) -> None:
    with Session(engine) as s:
        make_report(s, org_id=world.orgs["a"], urgency="urgent", due_in=timedelta(hours=-2),
                    category="financial_hardship", assigned_user_id=world.users["a:handler"].id)
        make_report(s, org_id=world.orgs["a"], urgency="urgent", category="service_quality", status="triaged")
        s.commit()
    sign_in(app, "handler@a.test")
    everything = counts_of(app.get("/queue/counts").text)
    assert everything["total"] == "4" and everything["urgency=urgent"] == "2" and everything["overdue=1"] == "1"
    assert everything["assigned=me"] == "1" and everything["status=triaged"] == "1"
    money = app.get("/queue/counts", params={"category": "financial_hardship"})
    assert 'data-counts="1">2 matching' in money.text
    assert counts_of(money.text) == {
        "total": "2", "urgency=urgent": "1", "overdue=1": "1", "assigned=unassigned": "1", "assigned=me": "1",
        "status=received": "2", "status=triaged": "0", "status=in_progress": "0", "status=escalated": "0",
        "status=responded": "0"}
    # a status pill replaces the status filter: each count is what its link lists
    triaged = counts_of(app.get("/queue/counts", params={"status": "triaged"}).text)
    assert triaged["total"] == "1" and triaged["status=received"] == "3"
    listed = app.get("/", params={"status": "received", "urgency": "urgent"}).text
    assert listed.count("data-case=") == 1
    # the text search is left out of the counts, and the fragment says so
    searched = app.get("/queue/counts", params={"q": "no such words anywhere", "urgency": "urgent"})
    assert counts_of(searched.text)["total"] == "2" and "The counts leave out the text search." in searched.text
    # unknown values are ignored like the page ignores them, never a 500
    odd = app.get("/queue/counts", params={"category": "nope", "place_id": "x", "status": "\x00", "cluster_id": "-1"})
    assert odd.status_code == 200 and counts_of(odd.text)["total"] == "4"


def test_counts_are_capped(app, world, engine, monkeypatch) -> None:
    monkeypatch.setattr(queue, "COUNT_CAP", 2)
    with Session(engine) as s:
        make_report(s, org_id=world.orgs["a"], narrative="third")
        s.commit()
    sign_in(app, "handler@a.test")
    assert counts_of(app.get("/queue/counts").text)["total"] == "2+"


def test_without_javascript_the_counts_come_inline_on_demand(app, world) -> None:
    sign_in(app, "handler@a.test")
    page = app.get("/", params={"counts": "1", "urgency": "normal"})
    assert page.status_code == 200 and 'data-counts="1">2 matching' in page.text
    assert 'hx-get="/queue/counts' not in page.text and "<noscript>" not in page.text
    assert 'href="/?urgency=urgent"' in page.text  # the pill replaces the urgency; "counts" is not carried on


def test_the_fragment_in_khmer(app, world) -> None:
    sign_in(app, "handler@a.test")
    app.cookies.set("samleng-lang", "km")
    text = app.get("/queue/counts", params={"urgency": "normal"}).text
    assert "ដែលត្រូវនឹងតម្រង" in text and "បន្ទាន់" in text


def test_signed_out_and_unsafe_methods(app, world, engine) -> None:
    anonymous = app.get("/queue/counts", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/"
    refresh = app.get("/queue/counts", headers={"HX-Request": "true"}, follow_redirects=False)
    assert refresh.status_code == 204 and refresh.headers["HX-Redirect"] == "/"
    sign_in(app, "handler@a.test")
    with Session(engine) as s:
        before = (s.exec(select(func.count()).select_from(AuditEvent)).one(),
                  [(r.id, r.status, r.updated_at) for r in s.exec(select(Report).order_by(Report.id))])
    assert app.get("/queue/counts").status_code == 200
    assert app.post("/queue/counts").status_code == 405  # GET only; it changes nothing
    with Session(engine) as s:
        after = (s.exec(select(func.count()).select_from(AuditEvent)).one(),
                 [(r.id, r.status, r.updated_at) for r in s.exec(select(Report).order_by(Report.id))])
    assert after == before
    # a session that ended gets no counts
    app.cookies.clear()
    app.cookies.set("__Host-samleng", "not-a-session-token")
    assert app.get("/queue/counts", follow_redirects=False).status_code == 303


def test_the_rows_are_escaped_and_translated(app, world, engine) -> None:
    with Session(engine) as s:
        case = make_report(s, org_id=world.orgs["a"], urgency="urgent", due_in=timedelta(hours=-1),
                           narrative='<script>alert("x")</script> & a very long story ' + "x" * 200,
                           assigned_user_id=world.users["a:handler"].id)
        s.commit()
        case_id = case.id
    sign_in(app, "handler@a.test")
    for headers in ({}, {"HX-Request": "true"}):  # the page and its 30-second refresh
        html = app.get("/", headers=headers).text
        assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; a very" in html
        row = html[html.index(f'data-case="{case_id}"'):]
        row = row[:row.index("</tr>")]
        assert f'<tr class="u-urgent is-overdue" data-case="{case_id}">' in html
        assert '<span class="badge overdue">overdue</span>' in row and "received ·assigned" in row and "x…</a>" in row
    app.cookies.set("samleng-lang", "km")
    assert "បន្ទាន់" in app.get("/", headers={"HX-Request": "true"}).text


def test_a_large_filtered_view_shows_lower_bounds(app, world, monkeypatch) -> None:
    sign_in(app, "handler@a.test")
    assert counts_of(app.get("/queue/counts", params={"urgency": "normal"}).text)["total"] == "2"
    monkeypatch.setattr(queue, "COUNT_SCAN", 1)  # the view holds more rows than the counts read
    partial = counts_of(app.get("/queue/counts", params={"urgency": "normal"}).text)
    assert partial["total"] == "1+" and partial["status=triaged"] == "0+"
