"""The dossier API (/api/v1/dossiers): supervisors build one from their organisation's cases or a cluster
and read its suppressed contents; handlers are refused; another organisation's is not found."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.reports.models import ReportCluster, ReportEvent
from tests.support.factories import make_report
from tests.support.review import bearer


def test_a_supervisor_builds_a_dossier_and_reads_its_suppressed_contents(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        cluster = ReportCluster(category="financial_hardship", size=3)
        s.add(cluster)
        s.flush()
        extra = make_report(s, org_id=world.orgs["a"], category="financial_hardship", cluster_id=cluster.id,
                            narrative="Nurse asked 5 dollars, my number is 012 999 888")
        for case in (world.cases["a"], world.cases["b"]):
            case.cluster_id = cluster.id
            s.add(case)
        s.commit()
    headers = bearer(app, "supervisor@a.test")
    made = app.post("/api/v1/dossiers", headers=headers, json={"title": "Informal fees", "cluster_id": cluster.id})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["case_ids"] == sorted([world.cases["a"].id, extra.id]) and body["source"] == "cluster"  # not org B's

    read = app.get(f"/api/v1/dossiers/{body['id']}?lang=pt", headers=headers)
    assert read.status_code == 200
    contents = read.json()["contents"]
    assert contents["over_time"]["cells"][-1][-1] == "<10" and contents["quotes_withheld"] is True
    assert contents["places"]["columns"] == ["casos"]
    assert "012 999 888" not in read.text and "Nurse" not in read.text
    assert [d["id"] for d in app.get("/api/v1/dossiers", headers=headers).json()] == [body["id"]]

    with Session(engine) as s:
        linked = s.exec(select(ReportEvent.report_id).where(ReportEvent.kind == "dossier_linked")).all()
        assert sorted(linked) == body["case_ids"]
        (audit,) = s.exec(select(AuditEvent).where(AuditEvent.action == "dossier.create")).all()
        assert audit.detail == {"source": "cluster", "cases": 2} and audit.actor == "supervisor@a.test"


def test_handlers_other_organisations_and_bad_input_are_refused(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    a, a2, b = world.cases["a"].id, world.cases["a2"].id, world.cases["b"].id
    assert app.post("/api/v1/dossiers", json={"title": "x", "case_ids": [a, a2]}).status_code == 401
    handler = bearer(app, "handler@a.test")
    assert app.post("/api/v1/dossiers", headers=handler, json={"title": "x", "case_ids": [a, a2]}).status_code == 403
    sup = bearer(app, "supervisor@a.test")
    for bad in ({"title": "x", "case_ids": [a]},  # one case is not a pattern
                {"title": "   ", "case_ids": [a, a2]},
                {"title": "x"},  # no cases at all
                {"title": "x", "case_ids": [a, a2], "cluster_id": 1},  # both
                {"title": "x", "case_ids": [a, a2], "owner": "me"},  # unknown field
                {"title": "x\x00", "case_ids": [a, a2]},
                {"title": "x", "case_ids": [0, a]}):
        response = app.post("/api/v1/dossiers", headers=sup, json=bad)
        assert response.status_code == 422, (bad, response.text)
    assert app.post("/api/v1/dossiers", headers=sup, json={"title": "x", "case_ids": [a, b]}).status_code == 404
    assert app.post("/api/v1/dossiers", headers=sup, json={"title": "x", "cluster_id": 424242}).status_code == 404
    made = app.post("/api/v1/dossiers", headers=sup, json={"title": "x", "case_ids": [a, a2], "filter_query": "tag=fees"})
    assert made.status_code == 201 and made.json()["source"] == "filter"
    dossier_id = made.json()["id"]
    assert app.get(f"/api/v1/dossiers/{dossier_id}", headers=bearer(app, "supervisor@b.test")).status_code == 404
    assert app.get("/api/v1/dossiers", headers=bearer(app, "supervisor@b.test")).json() == []
    assert app.get(f"/api/v1/dossiers/{dossier_id}?lang=fr", headers=sup).status_code == 422
    assert app.get("/api/v1/dossiers/99999999999", headers=sup).status_code == 422
    platform = bearer(app, "root@platform.test")
    assert app.get(f"/api/v1/dossiers/{dossier_id}", headers=platform).status_code == 200
    assert app.post("/api/v1/dossiers", headers=platform, json={"title": "x", "case_ids": [a, a2]}).status_code == 403
    with Session(engine) as s:
        assert len(s.exec(select(ReportEvent).where(col(ReportEvent.kind) == "dossier_linked")).all()) == 2


def test_a_linked_case_shows_the_dossier_on_its_timeline_escaped(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    from tests.support.review import sign_in

    a, a2 = world.cases["a"].id, world.cases["a2"].id
    title = "Fees <script>alert(1)</script> at Chrey"
    made = app.post("/api/v1/dossiers", headers=bearer(app, "supervisor@a.test"), json={"title": title, "case_ids": [a, a2]})
    assert made.status_code == 201
    sign_in(app, "handler@a.test")
    page = app.get(f"/cases/{a}").text
    assert "Linked to a dossier (collective escalation)" in page
    assert "Fees &lt;script&gt;alert(1)&lt;/script&gt; at Chrey" in page and "<script>alert(1)" not in page


def test_a_case_that_joins_later_is_added_once_and_only_from_the_organisation(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    a, a2, b = world.cases["a"].id, world.cases["a2"].id, world.cases["b"].id
    with Session(engine, expire_on_commit=False) as s:
        later = make_report(s, org_id=world.orgs["a"], category="financial_hardship")
        s.commit()
    sup = bearer(app, "supervisor@a.test")
    dossier_id = app.post("/api/v1/dossiers", headers=sup, json={"title": "x", "case_ids": [a, a2]}).json()["id"]
    url = f"/api/v1/dossiers/{dossier_id}/cases"
    assert app.post(url, headers=sup, json={"case_ids": [later.id, b]}).status_code == 404  # nothing added
    assert app.post(url, headers=bearer(app, "supervisor@b.test"), json={"case_ids": [b]}).status_code == 404
    assert app.post(url, headers=sup, json={"case_ids": []}).status_code == 422
    added = app.post(url, headers=sup, json={"case_ids": [later.id, a]})
    assert added.status_code == 200 and added.json()["case_ids"] == sorted([a, a2, later.id])
    assert app.post(url, headers=sup, json={"case_ids": [later.id]}).json()["case_ids"] == sorted([a, a2, later.id])
    with Session(engine) as s:
        events = s.exec(select(ReportEvent.report_id).where(ReportEvent.kind == "dossier_linked")).all()
        assert sorted(events) == sorted([a, a2, later.id])  # each case marked once
        (audit,) = s.exec(select(AuditEvent).where(AuditEvent.action == "dossier.add_cases")).all()
        assert audit.detail == {"cases": 1}


def test_the_dossier_page_shows_the_suppressed_tables_in_the_readers_language(app, engine, world, places) -> None:  # type: ignore[no-untyped-def]
    from tests.support.review import sign_in

    from service.places.models import Place
    from service.reports.models import Report

    a, a2 = world.cases["a"].id, world.cases["a2"].id
    with Session(engine) as s:  # both in Battambang
        battambang = s.exec(select(Place).where(Place.code == "KH-2")).one().id
        for case_id in (a, a2):
            s.get(Report, case_id).place_id = battambang  # type: ignore[union-attr]
        s.commit()
    made = app.post("/api/v1/dossiers", headers=bearer(app, "supervisor@a.test"),
                    json={"title": "Fees <b>at</b> Chrey", "case_ids": [a, a2]}).json()
    url = f"/supervise/dossiers/{made['id']}"
    assert app.get(url, follow_redirects=False).status_code == 303  # signed out
    sign_in(app, "handler@a.test")
    assert app.get(url).status_code == 403
    sign_in(app, "supervisor@b.test")
    assert app.get(url).status_code == 404
    sign_in(app, "supervisor@a.test")
    page = app.get(url + "?lang=km")
    assert page.status_code == 200
    html = page.text
    assert "ឯកសាររួម" in html and "ករណីតាមខេត្ត" in html and "Fees &lt;b&gt;at&lt;/b&gt; Chrey" in html
    assert "&lt;10" in html and f'href="/cases/{a}"' in html
    assert "ករណីតិចពេក" in html  # two cases: no quote
    # The province table drawn as the suppressed map: two cases, so the province is hatched, with no number.
    assert 'id="dossier-map"' in html and 'class="province hidden"' in html
    assert "ផែនទីនេះបង្ហាញតែចំនួននៃតារាងករណីតាមខេត្ត" in html
    assert 'class="province bin-' not in html
    assert "Nurse asked" not in html  # no narrative, even masked
    pt = app.get(url + "?lang=pt").text
    assert "Casos por província" in pt and "em preparação" in pt


def test_a_supervisor_escalates_a_dossier_and_the_body_answers_through_its_page(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    import re

    from service.bodies.service import upsert_body
    from service.outbox.models import OutboundMessage
    from tests.escalation.factories import payload

    a, a2 = world.cases["a"].id, world.cases["a2"].id
    with Session(engine) as s:
        upsert_body(s, slug="moh-national", name_en="Ministry of Health", level="national", language="pt",
                    email="queixas@moh.example.org", webhook_url="http://127.0.0.1:9/hook")
        upsert_body(s, slug="phd-local", name_en="Provincial Health Department", level="province",
                    email="phd@example.org")
        s.commit()
    sup = bearer(app, "supervisor@a.test")
    dossier_id = app.post("/api/v1/dossiers", headers=sup, json={"title": "Fees at Chrey", "case_ids": [a, a2]}).json()["id"]
    url = f"/api/v1/dossiers/{dossier_id}/escalate"
    assert app.post(url, headers=bearer(app, "handler@a.test"), json={"body": "moh-national"}).status_code == 403
    assert app.post(url, headers=bearer(app, "supervisor@b.test"), json={"body": "moh-national"}).status_code == 404
    assert app.post(url, headers=sup, json={"body": "nobody"}).status_code == 404
    assert app.post(url, headers=sup, json={"body": "phd-local"}).status_code == 422  # not national or regional
    assert app.post(url, headers=sup, json={"body": "Moh National!"}).status_code == 422
    assert app.post(url, headers=sup, json={}).status_code == 422
    sent = app.post(url, headers=sup, json={"body": "moh-national"})
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "open" and sent.json()["due_at"]
    assert app.post(url, headers=sup, json={"body": "moh-national"}).status_code == 422  # already waiting for it
    assert app.get(f"/api/v1/dossiers/{dossier_id}", headers=sup).json()["status"] == "escalated"

    with Session(engine) as s:
        mail = s.exec(select(OutboundMessage).where(OutboundMessage.kind == "email")).one()
        hook = s.exec(select(OutboundMessage).where(OutboundMessage.kind == "webhook")).one()
        (audit,) = s.exec(select(AuditEvent).where(AuditEvent.action == "dossier.escalate")).all()
        assert audit.detail["body"] == "moh-national"
        text = payload(mail)["text"]
        assert payload(mail)["subject"].startswith("[Samleng] Queixa coletiva") and "Casos por província" in text
        assert payload(hook)["type"] == "dossier.escalated" and "case" not in payload(hook)["data"]
    link = re.search(r"http\S+/respond/(\S+)", text).group(1)  # type: ignore[union-attr]
    page = app.get(f"/respond/{link}")
    assert page.status_code == 200 and "Queixa coletiva" in page.text and "Fees at Chrey" in page.text
    assert "&lt;10" in page.text and "Nurse asked" not in page.text and f">{a}<" not in page.text
    with Session(engine) as s:  # a body integrating by API: its case list skips the dossier, never a 500
        from service.bodies.service import get_body, issue_api_token

        token = issue_api_token(s, get_body(s, "moh-national"))
        s.commit()
    listed = app.get("/api/v1/body/escalations", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json() == []
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answered = app.post(f"/respond/{link}", data={"csrf": csrf, "action": "action_taken", "text": "Fees stopped", "lang": "en"})
    assert answered.status_code == 200 and "Thank you" in answered.text
    assert app.get(f"/api/v1/dossiers/{dossier_id}", headers=sup).json()["status"] == "answered"
    with Session(engine) as s:
        events = s.exec(select(ReportEvent).where(ReportEvent.kind == "dossier_response")).all()
        assert sorted(e.report_id for e in events) == sorted([a, a2])
        assert all(e.detail["text"] == "Fees stopped" for e in events)
    from tests.support.review import sign_in

    sign_in(app, "handler@a.test")
    case_page = app.get(f"/cases/{a}").text
    assert "A dossier this case is in was sent to a body" in case_page and "Fees stopped" in case_page


def test_a_supervisor_builds_a_dossier_from_the_cluster_page_and_sends_it_from_its_page(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    import re

    from service.bodies.service import upsert_body
    from tests.support.review import sign_in

    with Session(engine, expire_on_commit=False) as s:
        cluster = ReportCluster(category="financial_hardship", size=2)
        s.add(cluster)
        s.flush()
        for case in (world.cases["a"], world.cases["a2"]):
            case.cluster_id = cluster.id
            s.add(case)
        upsert_body(s, slug="moh-national", name_en="Ministry of Health", level="national", email="moh@example.org")
        s.commit()
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')
    sign_in(app, "handler@a.test")
    assert 'id="build-dossier"' not in app.get(f"/?cluster_id={cluster.id}&status=all").text  # supervisors only
    sign_in(app, "supervisor@a.test")
    queue = app.get(f"/?cluster_id={cluster.id}&status=all").text
    assert 'id="build-dossier"' in queue and "Build a dossier from this cluster" in queue
    token = csrf.search(queue[queue.index('id="build-dossier"'):]).group(1)  # type: ignore[union-attr]
    assert app.post("/supervise/dossiers", data={"title": "x", "cluster_id": cluster.id},
                    follow_redirects=False).status_code == 403  # no CSRF token
    assert app.post("/supervise/dossiers", data={"title": " ", "cluster_id": cluster.id, "csrf_token": token},
                    follow_redirects=False).status_code == 422
    built = app.post("/supervise/dossiers", data={"title": "Fees at Chrey", "cluster_id": cluster.id,
                                                  "csrf_token": token}, follow_redirects=False)
    assert built.status_code == 303, built.text
    url = built.headers["location"]
    dossier_page = app.get(url + "?lang=pt").text
    assert "Enviar o dossiê a um órgão nacional ou regional" in dossier_page and 'value="moh-national"' in dossier_page
    token = csrf.search(dossier_page).group(1)  # type: ignore[union-attr]
    assert app.post(url + "/escalate", data={"body": "nobody", "csrf_token": token},
                    follow_redirects=False).status_code == 404
    sent = app.post(url + "/escalate", data={"body": "moh-national", "csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == url
    after = app.get(url).text
    assert "Sent to Ministry of Health" in after and "sent to a body" in after
    assert f'href="{url}/dossier.pdf?lang=km"' in after
    pdf = app.get(url + "/dossier.pdf?lang=km")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert app.get(url + "/dossier.pdf?lang=fr").status_code == 422
    sign_in(app, "handler@a.test")
    assert app.get(url + "/dossier.pdf").status_code == 403
    sign_in(app, "supervisor@b.test")
    assert app.post(url + "/escalate", data={"body": "moh-national", "csrf_token": token},
                    follow_redirects=False).status_code in (403, 404)
