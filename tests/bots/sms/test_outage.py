"""Database down: the message is spooled durably, acknowledged, and replayed exactly once."""

from __future__ import annotations

import shutil

from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from service.kit.crypto import unseal
from service.outbox.models import OutboundMessage
from service.inbox.spool import Spool
from service.worker import Worker
from service.reports.models import Report
from tests.support.outage import outage, outage_phone  # noqa: F401  (fixtures)
from tests.support.twilio_fake import Phone, new_sid, twiml_text


def counts(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return (s.exec(select(func.count()).select_from(Report)).one(),
                s.exec(select(func.count()).select_from(InboundMessage)).one())


def test_spooled_while_down_then_replayed_exactly_once(outage, outage_phone: Phone, engine, settings) -> None:  # type: ignore[no-untyped-def]
    Phone(client=outage_phone.client, base_url=outage_phone.base_url, number="+85570111222").text(
        "First report, from someone else, while all is well")
    assert counts(engine) == (1, 1)
    phone = outage_phone
    sid = new_sid()
    with outage.down():
        response = phone.post(phone.params("Second report while the database is down", sid=sid))
        assert response.status_code == 200
        assert "Received" in twiml_text(response)
        again = phone.post(phone.params("Second report while the database is down", sid=sid))
        assert again.status_code == 200, "a redelivery during the outage is kept too"
        assert phone.client.get("/readyz").status_code == 503
    assert phone.client.get("/readyz").status_code == 200
    assert counts(engine) == (1, 1), "nothing half-written"

    worker = Worker(engine, settings)
    pending = Spool(settings.spool_dir).pending()
    assert len(pending) == 2
    backup = pending[0].with_name("backup.copy")
    shutil.copy(pending[0], backup)
    worker.run_once()
    assert counts(engine) == (2, 2), "replayed into the database exactly once"
    assert Spool(settings.spool_dir).pending() == []

    # A crash after commit but before the file was deleted: the replay is harmless.
    shutil.copy(backup, pending[0])
    backup.unlink()
    worker.run_once()
    assert counts(engine) == (2, 2)

    with Session(engine) as s:
        outbound = s.exec(select(OutboundMessage).where(OutboundMessage.kind == "message")).all()
        assert len(outbound) == 1, "the dialogue's real answer goes out once"
        assert outbound[0].status == "sent" and outbound[0].to_sealed is None
        assert "What is it about" in unseal(outbound[0].body_sealed)  # type: ignore[arg-type]
        replayed = s.exec(select(InboundMessage).where(InboundMessage.external_id == sid)).one()
        assert replayed.spooled is True
    # And the conversation carries on normally over the webhook.
    assert "Where" in phone.text("1")


def test_a_replay_while_the_database_is_down_keeps_every_file_for_later(outage, outage_phone: Phone, settings) -> None:  # type: ignore[no-untyped-def]
    from service.db import build_engine

    phone = outage_phone
    app_engine = build_engine(settings)  # the app's own way to the database, through the outage
    try:
        with outage.down():
            for text in ("First report while the database is down", "Second report while it is down"):
                assert phone.post(phone.params(text)).status_code == 200
            worker = Worker(app_engine, settings)
            assert worker.run("replay") == 0
            assert len(Spool(settings.spool_dir).pending()) == 2, "a database outage is not the files' fault"
            assert Spool(settings.spool_dir).set_aside() == []
        worker = Worker(app_engine, settings)
        assert worker.run("replay") == 2
        assert Spool(settings.spool_dir).pending() == [] and Spool(settings.spool_dir).set_aside() == []
    finally:
        app_engine.dispose()
