"""The public page and Open311 GeoReport v2 over real HTTP: suppressed, anonymised, both languages."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session

from service.kit.clock import now
from tests.support.factories import make_report, place

REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}


def seed(session: Session) -> None:
    at = now() - timedelta(days=1)
    siem_reap = place(session, "KH-17")
    kampot = place(session, "KH-7")
    for i in range(12):
        make_report(session, place_id=siem_reap.id, category="stigma_discrimination", at=at,
                    narrative=f"staff shouted at me number {i}")
    for _ in range(3):
        make_report(session, place_id=kampot.id, category="financial_hardship", at=at,
                    narrative="asked to pay [phone] for a free test")
    # Kandal's 10 are the complement that hides Kampot's 3 (the page shows them as x), so Siem Reap's
    # 12 stay shown on the page — and listed by Open311, which lists nothing the page hides.
    for _ in range(10):
        make_report(session, place_id=place(session, "KH-8").id, category="service_quality", at=at, narrative="long wait")
    session.commit()


def test_public_page_suppresses_and_speaks_khmer(live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    seed(session)
    page = live_server.client.get("/public")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") >= 6 and "province-map" in html
    assert "&lt;10" in html  # Kampot's 3 reports are not shown as 3
    assert not re.search(r"<td>3</td>", html)
    assert "kozea.github.io" not in html and "<script" not in html  # no CDN scripts
    km = live_server.client.get("/public", params={"lang": "km"}).text
    assert "របាយការណ៍តាមខេត្ត" in km and "សៀមរាប" in km
    one = live_server.client.get("/public", params={"province": "KH-17"})
    assert one.status_code == 200 and "Siem Reap" in one.text
    assert live_server.client.get("/public", params={"province": "KH-99"}).status_code == 404
    assert live_server.client.get("/public", params={"lang": "fr"}).status_code == 422


def test_open311_services_and_requests_fields(live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    seed(session)
    services = live_server.client.get("/open311/v2/services.json").json()
    assert {s["service_code"] for s in services} >= {"stigma_discrimination", "financial_hardship"}
    assert all(set(s) == SERVICE_FIELDS and s["type"] in ("realtime", "batch", "blackbox") for s in services)
    reqs = live_server.client.get("/open311/v2/requests.json").json()
    # Siem Reap's 12 are published; Kampot's 3 stand in a group under the threshold and are not, nor
    # Kandal's 10, the page's x.
    assert len(reqs) == 12
    for r in reqs:
        assert set(r) == REQUEST_FIELDS
        assert r["status"] in ("open", "closed")
        assert r["address_id"] == "KH-17" and isinstance(r["lat"], float) and isinstance(r["long"], float)
        assert re.fullmatch(r"\d{4}-\d{2}-01T00:00:00(Z|[+-]\d{2}:\d{2})", r["requested_datetime"])  # month, not the moment
        assert r["description"] == ""  # no narrative unless a supervisor approved a quote
        assert re.fullmatch(r"[0-9a-f]{16}", r["service_request_id"])
    assert len({r["service_request_id"] for r in reqs}) == 12
    only = live_server.client.get("/open311/v2/requests.json", params={"service_code": "financial_hardship"}).json()
    assert only == []
    xml = live_server.client.get("/open311/v2/requests.xml")
    assert xml.status_code == 200 and xml.text.count("<request>") == 12 and "<service_request_id>" in xml.text
    assert live_server.client.get("/open311/v2/requests.json", params={"service_code": "nope"}).status_code == 400
    assert live_server.client.get("/open311/v2/requests.json", params={"start_date": "yesterday"}).status_code == 400
    assert live_server.client.get("/open311/v2/requests.csv").status_code == 404


def test_public_page_is_the_same_through_the_rollup(live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    from service.analytics import rollup

    seed(session)
    before = live_server.client.get("/public").text
    rollup.rebuild(session)
    session.commit()
    after = live_server.client.get("/public").text
    tables = re.compile(r"<table>.*?</table>", re.DOTALL)
    assert tables.findall(after) == tables.findall(before) and "&lt;10" in after


def test_public_page_and_open311_speak_portuguese(live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    """Southern-African readers: `lang=pt` on the public page and every Open311 resource; any other
    language is a 422 naming the field, never a 500 and never a silent English page."""
    seed(session)
    page = live_server.client.get("/public", params={"lang": "pt"})
    assert page.status_code == 200
    assert '<html lang="pt"' in page.text
    assert "O que as pessoas comunicam: números públicos" in page.text and "Queixas por província" in page.text
    assert "What people report" not in page.text
    # The header offers the other two languages as plain links back to this page.
    assert 'href="/public?lang=en"' in page.text or "/public?lang=en" in page.text
    assert "/public?lang=km" in page.text
    services = live_server.client.get("/open311/v2/services.json", params={"lang": "pt"}).json()
    names = {s["service_code"]: s["service_name"] for s in services}
    assert names["stigma_discrimination"] == "estigma e discriminação"
    described = {s["service_code"]: s["description"] for s in services}
    assert described["stigma_discrimination"] == "Queixas da comunidade: estigma e discriminação"
    xml = live_server.client.get("/open311/v2/services.xml", params={"lang": "pt"})
    assert xml.status_code == 200 and "estigma e discriminação" in xml.text
    reqs = live_server.client.get("/open311/v2/requests.json", params={"lang": "pt"}).json()
    assert len(reqs) == 12 and {r["service_name"] for r in reqs} == {"estigma e discriminação"}
    assert {r["status_notes"] for r in reqs} <= {"aberto", "resolvida", "outro"}
    assert live_server.client.get("/open311/v2/bodies.json", params={"lang": "pt"}).status_code == 200
    for path in ("/public", "/open311/v2/services.json", "/open311/v2/requests.json", "/open311/v2/bodies.xml"):
        for bad in ("fr", "PT", "", "pt-BR"):
            answer = live_server.client.get(path, params={"lang": bad})
            assert answer.status_code == 422, (path, bad)
            assert answer.json()["fields"] == ["query.lang"], (path, bad)
