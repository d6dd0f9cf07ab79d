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
from service.worker import Worker
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


class Resolver:
    """DNS at the edge: answers for one name from a script (the last answer repeats), other names as usual."""

    def __init__(self, monkeypatch, name: str, *answers: str) -> None:  # type: ignore[no-untyped-def]
        import socket

        self.name, self.answers, self.asked = name, list(answers), 0
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
            if host != self.name:
                return real(host, port, *args, **kwargs)
            ip = self.answers[min(self.asked, len(self.answers) - 1)]
            self.asked += 1
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, int(port or 0)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _webhook_to(engine, receiver, url: str) -> None:  # type: ignore[no-untyped-def]
    from service.bodies.service import webhook_secret
    from service.outbox.service import enqueue_to_body

    with Session(engine) as s:
        body = upsert_body(s, slug="rebinding-body", name_en="Body", level="national", webhook_url=receiver.url)
        receiver.secret = webhook_secret(body) or ""
        body.webhook_url = url  # loaded while its address was allowed
        s.add(body)
        enqueue_to_body(s, body_id=body.id, kind="webhook", dedupe_key="rebinding-1",  # type: ignore[arg-type]
                        payload={"type": "case.escalated", "data": {"n": 1}})
        s.commit()


def test_a_name_that_changes_its_answer_after_the_check_reaches_nothing(settings, engine, seeded, receiver,  # type: ignore[no-untyped-def]
                                                                       monkeypatch) -> None:
    """DNS rebinding: the name first answers an allowed address, then the loopback address the
    receiver listens on. The connection goes to the address that was checked, never to a later answer."""
    port = receiver.server.server_address[1]
    _webhook_to(engine, receiver, f"http://rebind.example:{port}/hooks/samleng")
    settings.webhook_allow_networks = "127.0.0.2/32"  # allowed; nothing listens there
    dns = Resolver(monkeypatch, "rebind.example", "127.0.0.2", "127.0.0.1")
    Worker(engine, settings).run_once()
    assert dns.asked >= 1
    assert receiver.raw == [], "the request reached an address that was never checked"
    with Session(engine) as s:
        hooks = s.exec(select(OutboundMessage).where(OutboundMessage.kind == "webhook")).all()
        assert hooks and all(h.status == "dead" and "refused" in (h.last_error or "") for h in hooks)


def test_a_name_is_resolved_once_and_its_checked_address_used(settings, engine, seeded, receiver,  # type: ignore[no-untyped-def]
                                                               monkeypatch) -> None:
    port = receiver.server.server_address[1]
    _webhook_to(engine, receiver, f"http://hooks.example:{port}/hooks/samleng")
    settings.webhook_allow_networks = "127.0.0.1/32"
    Resolver(monkeypatch, "hooks.example", "127.0.0.1")
    Worker(engine, settings).run_once()
    assert receiver.raw, "a stable allowed name is delivered to"
    with Session(engine) as s:
        hooks = s.exec(select(OutboundMessage).where(OutboundMessage.kind == "webhook")).all()
        assert hooks and all(h.status == "sent" for h in hooks), [(h.status, h.last_error) for h in hooks]
