"""The public page and Open311 name the service group and every bundled grievance body in the reader's
language: with `lang=pt` or `lang=km` no English group or body name is left, with `lang=en` (or none)
nothing changes, and Open311's machine fields (codes, slugs, levels, keywords) stay as they are."""

from __future__ import annotations

import html
import re

from sqlmodel import Session, col, select

from service.bodies.models import GrievanceBody
from service.escalation.models import Escalation
from service.kit.i18n import has_khmer
from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
from tests.escalation.factories import make_case


def bodies_section(page: str) -> str:
    section = page[page.index('id="bodies"'):page.index("Open311 GeoReport")]
    return html.unescape(" ".join(re.findall(r"<td>(.*?)</td>", section, re.S)))


def test_group_and_body_names_in_portuguese_and_khmer(app, engine, seeded, controlled_clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with Session(engine) as s:  # one escalation to every bundled body, so each has a row
        bodies = s.exec(select(GrievanceBody).order_by(col(GrievanceBody.slug))).all()
        for i, body in enumerate(bodies):
            case = make_case(s)
            s.add(Escalation(report_id=case.id, body_id=body.id, idempotency_key=f"names-{i}", actor="handler",
                            link_nonce=f"names{i}"))
        s.commit()
        english = {b.slug: b.name_en for b in bodies}
    assert len(english) >= 20

    en = app.get("/open311/v2/bodies.json").json()
    assert {r["body"]: r["name"] for r in en} == english, "English unchanged"
    assert app.get("/open311/v2/bodies.json", params={"lang": "en"}).json() == en
    en_page = bodies_section(app.get("/public", params={"lang": "en"}).text)
    assert all(name in en_page for name in english.values())
    services_en = app.get("/open311/v2/services.json").json()
    assert {s["group"] for s in services_en} == {"health services"}

    for lang in ("pt", "km"):
        records = app.get("/open311/v2/bodies.json", params={"lang": lang}).json()
        assert [(r["body"], r["level"], r["escalations"]) for r in records] == [
            (r["body"], r["level"], r["escalations"]) for r in en], "machine fields unchanged"
        left = {r["body"]: r["name"] for r in records if r["name"] == english[r["body"]]}
        assert left == {}, (lang, left)
        if lang == "km":
            assert all(has_khmer(r["name"]) for r in records), records
        xml = app.get("/open311/v2/bodies.xml", params={"lang": lang}).text
        page = bodies_section(app.get("/public", params={"lang": lang}).text)
        for name in english.values():
            assert f"<name>{html.escape(name, quote=False)}</name>" not in xml, (lang, name)
            assert name not in page, (lang, name)

        services = app.get("/open311/v2/services.json", params={"lang": lang}).json()
        assert [(s["service_code"], s["keywords"], s["type"]) for s in services] == [
            (s["service_code"], s["keywords"], s["type"]) for s in services_en]
        groups = {s["group"] for s in services}
        assert len(groups) == 1 and "health services" not in groups, groups
        services_xml = app.get("/open311/v2/services.xml", params={"lang": lang}).text
        assert "<group>health services</group>" not in services_xml and f"<group>{groups.pop()}</group>" in services_xml
    pt = app.get("/open311/v2/bodies.json", params={"lang": "pt"}).json()
    assert {r["body"]: r["name"] for r in pt}["mz-ntp"].startswith("Programa Nacional de Controlo da Tuberculose")
    assert {s["group"] for s in app.get("/open311/v2/services.json", params={"lang": "pt"}).json()} == {
        "serviços de saúde"}
