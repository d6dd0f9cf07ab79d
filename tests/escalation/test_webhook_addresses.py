"""Grievance-body webhooks only reach public addresses: loopback, private and link-local URLs are
refused when a body is loaded and again at delivery (after DNS resolution), unless allowed."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from service.bodies.service import upsert_body
from service.escalation import service as esc
from service.kit.errors import InvalidInput
from service.kit.netguard import AddressRefused, check_url
from service.outbox.models import OutboundMessage
from service.outbox.worker import Worker
from tests.escalation.factories import make_case

REFUSED = ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8000/x", "http://10.0.0.5/hook",
           "https://192.168.1.20/hook", "http://[::1]/hook", "http://[fe80::1]/hook", "http://0.0.0.0/",
           "http://localhost/hook", "http://[::ffff:127.0.0.1]/hook"]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(AddressRefused):
        check_url(url, allow="")
    check_url("http://8.8.8.8/hook", allow="")
    check_url("http://10.0.0.5/hook", allow="10.0.0.0/8")


def test_loading_a_body_with_a_metadata_url_is_refused(settings, session: Session, places) -> None:  # type: ignore[no-untyped-def]
    settings.webhook_allow_networks = ""
    with pytest.raises(InvalidInput):
        upsert_body(session, slug="metadata-body", name_en="Body", level="facility",
                    webhook_url="http://169.254.169.254/latest/meta-data/")


def test_delivery_checks_the_address_again(settings, engine, seeded, receiver) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        report = make_case(s)
        escalation = esc.escalate(s, report, actor="handler")
        from service.bodies.models import GrievanceBody

        body = s.get(GrievanceBody, escalation.body_id)
        body.webhook_url = receiver.url  # type: ignore[union-attr]  # loaded while loopback was allowed
        s.add(body)
        esc.notify_body(s, escalation, report=report, body=body, purpose="reminder")  # type: ignore[arg-type]
        s.commit()
    settings.webhook_allow_networks = ""  # the deployment does not allow loopback
    Worker(engine, settings).run_once()
    assert receiver.raw == []
    with Session(engine) as s:
        hooks = s.exec(select(OutboundMessage).where(OutboundMessage.kind == "webhook")).all()
        assert hooks and all(h.status == "dead" and "refused" in (h.last_error or "") for h in hooks)
