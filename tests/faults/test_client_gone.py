"""A sender that hangs up halfway through its request (a phone network drops, Telegram gives up, a
client closes the connection): nothing is stored, nothing is logged as an error, and the server
goes on answering. Telegram and Twilio send again what they did not see answered.

Found from outside: a client library closed a connection under a request whose body was still on
its way, and the webhook logged "Exception in ASGI application" with a traceback.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import PendingUpdate
from service.reports.models import Report
from tests.bots.sms.conftest import live_server_signed, phone  # noqa: F401  (fixtures)
from tests.bots.telegram.conftest import bot_api, telegram_server  # noqa: F401  (fixtures)
from tests.support.telegram_fake import SECRET, TelegramUser
from tests.support.twilio_fake import SMS_PATH, Phone, sign


def hang_up_halfway(base_url: str, path: str, headers: dict[str, str], body: bytes) -> None:
    """Send the headers and half the body over a raw socket, then close it."""
    url = urlsplit(base_url)
    head = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[: len(body) // 2])
        time.sleep(0.2)  # the endpoint is waiting for the rest of the body


def wait_for_the_hang_up(caplog: pytest.LogCaptureFixture) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any("disconnect" in r.getMessage().lower() or r.levelno >= logging.ERROR for r in caplog.records):
            return
        time.sleep(0.05)
    raise AssertionError("the server never noticed the sender hung up")


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_telegram_update_cut_off_halfway_is_not_an_error(telegram_server, bot_api, engine, caplog) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    caplog.set_level(logging.INFO)
    person = TelegramUser(client=telegram_server.client, api=bot_api, user_id=7_300_000_001)
    update = person.message_update(text="the nurse shouted at me")
    body = json.dumps(update).encode()
    hang_up_halfway(telegram_server.base_url, "/webhooks/telegram", {
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}, body)
    wait_for_the_hang_up(caplog)
    assert errors(caplog) == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(PendingUpdate)).one() == 0, "half an update is not stored"
    # The server goes on answering, and Telegram's second copy is stored.
    assert person.post(update).status_code == 200
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(PendingUpdate)).one() == 1


def test_an_sms_cut_off_halfway_is_not_an_error(phone: Phone, engine, caplog) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    caplog.set_level(logging.INFO)
    params = phone.params("the clinic asked me for money")
    hang_up_halfway(phone.base_url, SMS_PATH, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(phone.base_url + SMS_PATH, params)}, urlencode(params).encode())
    wait_for_the_hang_up(caplog)
    assert errors(caplog) == []
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == 0, "half a message is not a report"
    assert phone.post(params).status_code == 200  # Twilio's retry is taken, once
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == 1
