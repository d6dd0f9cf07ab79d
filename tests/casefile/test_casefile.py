"""The printable case file: masked words, timeline, escalations and answers, evidence list; no identifiers;
only for those who may see the case; every print audited. Printed by Debian's chromium, read by pdftotext."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.bodies.models import GrievanceBody
from service.escalation.models import Escalation
from service.evidence.service import store_evidence
from service.kit.clock import now
from service.reports.models import ReportEvent
from tests.analytics.test_exports_reports import pdftotext, squeezed
from tests.support.browser import needs_chromium
from tests.support.factories import make_report
from tests.support.review import sign_in

pytestmark = needs_chromium
WORDS = "The nurse at Chrey asked for 20000 riel for the test, call me on 012 345 678"
ANSWER = "The fee was refunded to the patient."


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def test_case_file_has_the_masked_story_and_no_identifier(app, world, engine, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        case = make_report(s, org_id=world.orgs["a"], narrative=WORDS, consent_address="+85512000999",
                           category="financial_hardship", channel="telegram")
        body = GrievanceBody(slug="chrey-hc-test", name_en="Chrey health centre (test)", name_km="មណ្ឌលសុខភាពជ្រៃ",
                             level="facility", network="health")
        s.add(body)
        s.flush()
        sent = now() - timedelta(days=3)
        s.add(Escalation(report_id=case.id, body_id=body.id, rung=0, idempotency_key=f"t:{case.id}", status="resolved",
                         actor="handler@a.test", created_at=sent, due_at=sent + timedelta(hours=72),
                         responded_at=sent + timedelta(days=1), closed_at=sent + timedelta(days=1),
                         response_masked=ANSWER, link_nonce="n" * 16))
        s.add(ReportEvent(report_id=case.id, kind="escalated", actor="handler@a.test", created_at=sent,
                          detail={"body": body.slug, "rung": 0}))
        s.add(ReportEvent(report_id=case.id, kind="body_response", actor=f"body:{body.slug}",
                          created_at=sent + timedelta(days=1), detail={"action": "resolved", "text": ANSWER}))
        store_evidence(s, report_id=case.id, data=_png(), settings=settings)  # type: ignore[arg-type]
        s.commit()
    url = f"/cases/{case.id}/casefile.pdf"

    assert app.get(url).status_code == 401  # signed out
    sign_in(app, "handler@a.test")
    page = app.get(f"/cases/{case.id}")
    assert f'href="{url}?lang=km"' in page.text and f'href="{url}?lang=en"' in page.text
    assert app.get(url, params={"lang": "fr"}).status_code == 422
    made = app.get(url, params={"lang": "en"})
    assert made.status_code == 200 and made.content.startswith(b"%PDF")
    assert "attachment" in made.headers["content-disposition"]
    text = " ".join(pdftotext(made.content).split())
    assert case.narrative_masked and case.narrative_masked != WORDS
    assert " ".join(case.narrative_masked.split()) in text
    assert ANSWER in text and "Chrey health centre (test)" in text and "image/png" in text
    for secret in ("012 345 678", "345 678", "+85512000999", "85512000999", "handler@a.test", WORDS):
        assert secret not in text
    km = squeezed(pdftotext(app.get(url, params={"lang": "km"}).content))
    assert "សំណុំរឿង" in km and "មណ្ឌលសុខភាពជ្រៃ" in km and "345678" not in km

    sign_in(app, "handler@b.test")  # another organisation: no hint the case exists
    assert app.get(url, params={"lang": "en"}).status_code == 404
    with Session(engine) as s:
        printed = s.exec(select(AuditEvent).where(AuditEvent.action == "case.casefile")).all()
        assert [(e.actor, str(e.object_id)) for e in printed] == [("handler@a.test", str(case.id))] * 2
