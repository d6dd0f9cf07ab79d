"""The development outbox: in development, messages whose channel is not configured are kept for people to
read at /dev/outbox (admins only) instead of becoming dead letters; in production there is no such page.
And the case page says when a message about the case could not be delivered.

Real escalation through the app (TestClient over https), the real worker's delivery pass, both databases.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from service.bodies.models import GrievanceBody
from service.config import ConfigError, Settings
from service.escalation.models import Escalation
from service.outbox.models import DevOutboxMessage, OutboundMessage
from service.outbox.service import enqueue_message
from service.worker import Worker
from tests.support.review import csrf_of, sign_in
from tests.web.conftest import PHONE


def escalate(app, case_id: int) -> None:  # type: ignore[no-untyped-def]
    page = app.get(f"/cases/{case_id}")
    answer = app.post(f"/cases/{case_id}/escalate", data={"csrf_token": csrf_of(page.text), "after": "0"},
                      follow_redirects=False)
    assert answer.status_code == 303, answer.text


def first_body(engine, case_id: int) -> GrievanceBody:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        escalation = s.exec(select(Escalation).where(Escalation.report_id == case_id)).one()
        return s.get(GrievanceBody, escalation.body_id)  # type: ignore[return-value]


def outbox(engine, case_id: int) -> list[OutboundMessage]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(OutboundMessage).where(OutboundMessage.report_id == case_id)
                           .order_by(col(OutboundMessage.id))).all())


def test_escalation_email_and_sms_land_in_the_development_outbox(app, khana, engine, settings) -> None:  # type: ignore[no-untyped-def]
    settings.dev_outbox, settings.smtp_url = True, ""  # development, no SMTP server, no Twilio
    assert settings.dev_outbox_on and settings.effective_sms_driver == "console"
    sign_in(app, "handler@khana.test")
    escalate(app, khana.id)
    with Session(engine) as s:  # and an update to the consenting reporter, by SMS
        enqueue_message(s, channel="sms", to=PHONE, body="Your report was sent to the health centre.",
                        report_id=khana.id)
        s.commit()
    assert Worker(engine, settings).run("deliver") >= 2
    rows = outbox(engine, khana.id)
    assert rows and {r.status for r in rows} == {"sent"}  # caught, not dead letters
    body = first_body(engine, khana.id)
    with Session(engine) as s:
        caught = s.exec(select(DevOutboxMessage).order_by(col(DevOutboxMessage.id))).all()
        assert {c.route for c in caught} >= {"email", "sms"}
        assert all(c.report_id == khana.id for c in caught)
        email = next(c for c in caught if c.route == "email")
        sms = next(c for c in caught if c.route == "sms")
        assert email.to_masked == body.email
        assert sms.to_masked.endswith(PHONE[-2:]) and PHONE[3:-2] not in sms.to_masked
        assert PHONE.encode() not in sms.content_sealed  # text sealed, like the outbox's

    # Admins read them, newest first; the navigation links to the page.
    sign_in(app, "admin@khana.test")
    page = app.get("/dev/outbox")
    assert page.status_code == 200 and 'href="/dev/outbox"' in page.text
    assert body.email in page.text and "Your report was sent to the health centre." in page.text
    assert PHONE not in page.text and PHONE[3:-2] not in page.text
    assert f'<a href="/cases/{khana.id}">' in page.text
    assert page.text.index('class="route-sms"') < page.text.index('class="route-email"')  # newest first
    with Session(engine) as s:
        subject = __import__("json").loads(
            __import__("service.kit.crypto", fromlist=["unseal"]).unseal(email.content_sealed))["subject"]
    assert subject and subject in page.text.replace("&#39;", "'").replace("&amp;", "&")
    # An admin of another organisation does not see messages about KHANA's cases.
    sign_in(app, "admin@legal.test")
    other = app.get("/dev/outbox")
    assert other.status_code == 200 and body.email not in other.text and "No messages yet." in other.text


@pytest.mark.parametrize("who", ["handler@khana.test", "supervisor@khana.test"])
def test_only_admins_see_the_development_outbox(app, khana, settings, who) -> None:  # type: ignore[no-untyped-def]
    settings.dev_outbox = True
    assert app.get("/dev/outbox", follow_redirects=False).status_code == 303  # signed out: to sign-in
    sign_in(app, who)
    assert app.get("/dev/outbox").status_code == 403
    assert 'href="/dev/outbox"' not in app.get("/").text


def test_no_development_outbox_in_production(app, khana, engine, settings) -> None:  # type: ignore[no-untyped-def]
    sign_in(app, "admin@khana.test")
    settings.dev_outbox = True
    assert app.get("/dev/outbox").status_code == 200
    settings.env = "production"  # the running app's settings, as a production deployment has them
    assert app.get("/dev/outbox").status_code == 404
    assert 'href="/dev/outbox"' not in app.get("/").text
    settings.env, settings.dev_outbox = "test", None  # not development, not asked for: not there either
    assert app.get("/dev/outbox").status_code == 404
    with pytest.raises(ConfigError, match="SAMLENG_DEV_OUTBOX"):
        Settings(SAMLENG_ENV="production", SAMLENG_DEV_OUTBOX=True)
    assert Settings(SAMLENG_ENV="development").dev_outbox_on
    assert not Settings(SAMLENG_ENV="development", SAMLENG_DEV_OUTBOX=False).dev_outbox_on


def test_case_page_says_a_delivery_failed(app, khana, engine, settings) -> None:  # type: ignore[no-untyped-def]
    settings.dev_outbox, settings.smtp_url = False, ""  # no development outbox: email has nowhere to go
    sign_in(app, "handler@khana.test")
    before = app.get(f"/cases/{khana.id}").text
    assert "could not be delivered" not in before
    escalate(app, khana.id)
    Worker(engine, settings).run("deliver")
    dead = [r for r in outbox(engine, khana.id) if r.status == "dead"]
    assert dead and {r.kind for r in dead} >= {"email"}
    body = first_body(engine, khana.id)
    page = app.get(f"/cases/{khana.id}").text
    assert 'id="failed-deliveries"' in page and "A message about this case could not be delivered." in page
    assert f"email → {body.name_en}" in page and "SAMLENG_SMTP_URL is not set" in page
    assert 'class="error">not delivered</span>' in page  # and on the timeline
    assert 'href="/admin/dead-letters"' not in page.split('id="failed-deliveries"')[1].split("</section>")[0]
    sign_in(app, "supervisor@khana.test")
    page = app.get(f"/cases/{khana.id}").text
    assert 'href="/admin/dead-letters"' in page.split('id="failed-deliveries"')[1].split("</section>")[0]
    app.cookies.set("samleng-lang", "km")
    khmer = app.get(f"/cases/{khana.id}").text
    assert "សារមួយអំពីករណីនេះមិនអាចផ្ញើដល់បានទេ។" in khmer and body.name_km in khmer
