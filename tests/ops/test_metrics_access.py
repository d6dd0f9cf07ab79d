"""/metrics is served only to an allowed network or with the metrics token, and its per-event series
are coarse: no series tells a STATUS or DELETE apart from any other message."""

from __future__ import annotations

import re

from tests.support.twilio_fake import Phone

TOKEN = "m3tr1cs-" + "Qx7v" * 8


def test_metrics_refused_outside_the_allowed_network_without_the_token(settings, request) -> None:  # type: ignore[no-untyped-def]
    settings.metrics_allow, settings.metrics_token = "10.0.0.0/8", TOKEN  # the test client is 127.0.0.1
    server = request.getfixturevalue("live_server")
    assert server.client.get("/metrics").status_code == 403
    assert server.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert server.client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 403
    ok = server.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and "samleng_spool_depth" in ok.text


def test_metrics_series_are_coarse(live_server, places) -> None:  # type: ignore[no-untyped-def]
    phone = Phone(client=live_server.client, base_url=live_server.base_url, token=None, number="+85577665500")
    phone.text("No methadone at the clinic")
    phone.text("STATUS AAAA-BBBB")
    phone.text("DELETE AAAA-BBBB")
    body = live_server.client.get("/metrics").text  # from 127.0.0.1: allowed by default
    outcomes = set(re.findall(r'samleng_inbound_messages_total\{channel="[^"]+",outcome="([^"]+)"\}', body))
    assert outcomes and outcomes <= {"handled", "duplicate", "ignored", "spooled", "retry"}, outcomes


def test_forwarded_headers_are_believed_only_from_configured_proxies(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.cli import proxy_trust

    monkeypatch.delenv("SAMLENG_FORWARDED_ALLOW_IPS", raising=False)
    assert proxy_trust(None) == (False, None)
    monkeypatch.setenv("SAMLENG_FORWARDED_ALLOW_IPS", "10.0.0.5")
    assert proxy_trust(None) == (True, "10.0.0.5")
    assert proxy_trust("192.168.1.1") == (True, "192.168.1.1")
