"""Liveness, readiness and metrics over real HTTP."""

from __future__ import annotations

from tests.support.outage import Outage
from tests.support.twilio_fake import Phone


def test_healthz_and_readyz(live_server) -> None:  # type: ignore[no-untyped-def]
    assert live_server.client.get("/healthz").json() == {"status": "ok"}
    assert live_server.client.get("/readyz").status_code == 200


def test_readyz_is_503_while_the_database_is_down(settings, database_url, engine, request) -> None:  # type: ignore[no-untyped-def]
    outage = Outage(database_url)
    settings.database_url = outage.app_url
    server = request.getfixturevalue("live_server")
    try:
        with outage.down():
            assert server.client.get("/readyz").status_code == 503
            assert server.client.get("/healthz").status_code == 200, "the process still runs"
        assert server.client.get("/readyz").status_code == 200
    finally:
        outage.close()


def test_metrics_count_messages_without_identifiers(live_server, places) -> None:  # type: ignore[no-untyped-def]
    phone = Phone(client=live_server.client, base_url=live_server.base_url, token=None, number="+85577665544")
    phone.text("No methadone at the clinic")
    body = live_server.client.get("/metrics").text
    assert "samleng_inbound_messages_total" in body
    assert 'samleng_reports_created_total{channel="sms"}' in body
    assert "samleng_spool_depth 0.0" in body
    assert "77665544" not in body and "methadone" not in body


def test_unknown_path_is_404_json(live_server) -> None:  # type: ignore[no-untyped-def]
    response = live_server.client.get("/no/such/page")
    assert response.status_code == 404


def test_metrics_show_how_many_units_each_writer_commit_carried(live_server, places) -> None:  # type: ignore[no-untyped-def]
    def gauge(body: str, name: str) -> float:
        return next(float(line.split()[1]) for line in body.splitlines() if line.startswith(name + " "))

    before = live_server.client.get("/metrics").text
    phone = Phone(client=live_server.client, base_url=live_server.base_url, token=None, number="+85577665545")
    for text in ("No methadone at the clinic", "They asked me to pay", "The nurse shouted"):
        phone.text(text)
    after = live_server.client.get("/metrics").text
    units = gauge(after, "samleng_writer_units_committed") - gauge(before, "samleng_writer_units_committed")
    commits = gauge(after, "samleng_writer_commits") - gauge(before, "samleng_writer_commits")
    assert units >= 3, "each message is at least one unit"
    assert 1 <= commits <= units
