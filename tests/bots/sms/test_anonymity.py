"""The sender's number never reaches the database in clear, nor any log line; nor does their text."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from service.intake.models import ContactVault
from service.kit.crypto import unseal
from service.ops.logs import configure_logging
from service.worker import Worker
from tests.support.twilio_fake import Phone

NUMBER = "+85512345678"
# Every written form of the number: international with and without +, national with 0, bare.
FORMS = ["+85512345678", "85512345678", "012345678", "12345678", "012 345 678"]
STORY = "Nurse Sokha at the HC demanded 20000 riel before giving my ARV"


def database_text(engine: Engine) -> bytes:
    """Everything the database holds: its files on SQLite (with WAL), every row on PostgreSQL."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)  # type: ignore[arg-type]
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())
    chunks = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            chunks += [str(row[0]).encode() for row in conn.execute(text(f'SELECT t::text FROM "{table}" t'))]
    return b"\n".join(chunks)


def converse(phone: Phone, consent: str) -> None:
    phone.text(STORY)
    phone.text("3")
    phone.text("Chrey")
    phone.text(consent)
    phone.text("STATUS 0000-0000")
    phone.text("HELP")


def assert_absent(blob: bytes, what: str) -> None:
    for form in FORMS:
        assert form.encode() not in blob, f"{form!r} found in {what}"


def test_number_absent_everywhere_without_consent(phone: Phone, engine: Engine, caplog, capfd, settings) -> None:  # type: ignore[no-untyped-def]
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    phone.number = NUMBER
    converse(phone, consent="NO")
    Worker(engine, settings).run_once()
    assert_absent(database_text(engine), "the database")
    logs = caplog.text + "".join(capfd.readouterr())
    assert "inbound sms message" in logs, "the log capture must see the app's own lines"
    assert_absent(logs.encode(), "the logs")
    assert "Sokha" not in logs and "20000" not in logs, "message text must not be logged"
    with Session(engine) as s:
        assert s.exec(select(ContactVault)).first() is None


def test_with_consent_the_number_exists_only_encrypted(phone: Phone, engine: Engine, caplog, settings) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    phone.number = NUMBER
    converse(phone, consent="YES")
    assert_absent(database_text(engine), "the database")
    assert_absent(caplog.text.encode(), "the logs")
    with Session(engine) as s:
        entry = s.exec(select(ContactVault)).one()
        assert unseal(entry.address_sealed) == NUMBER


def test_location_fields_are_not_stored(phone: Phone, engine: Engine) -> None:
    params = phone.params("No PrEP today")
    params.update({"FromCity": "KAMPONGCHHNANGTOWN", "FromState": "KPCHSTATE", "FromZip": "12099"})
    assert phone.post(params).status_code == 200
    blob = database_text(engine)
    for value in ("KAMPONGCHHNANGTOWN", "KPCHSTATE", "12099"):
        assert value.encode() not in blob


def test_narrative_is_stored_masked_and_sealed(phone: Phone, engine: Engine) -> None:
    phone.text("Call me on 012 999 888 or write to dara@example.org, my ID is N12345678")
    blob = database_text(engine)
    for secret in (b"012 999 888", b"dara@example.org", b"N12345678"):
        assert secret not in blob
    assert b"[phone]" in blob and b"[email]" in blob and b"[id]" in blob
