"""Twilio at the network edge: signed webhook requests, and a local fake of Twilio's REST API."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

AUTH_TOKEN = "test-twilio-auth-token-5f2a9c"
ACCOUNT_SID = "AC" + "0" * 32
SMS_PATH = "/webhooks/twilio/sms"
_sid_counter = itertools.count(1)


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def twiml_text(response: httpx.Response) -> str:
    """The text of the <Message> in a TwiML answer ('' when there is none)."""
    root = ET.fromstring(response.text)
    message = root.find("Message")
    return "" if message is None else (message.text or "")


@dataclass
class Phone:
    """A person texting the platform through (a stand-in for) Twilio."""

    client: httpx.Client
    base_url: str
    number: str = "+85512345678"
    token: str | None = AUTH_TOKEN
    channel_prefix: str = ""
    sent: list[str] = field(default_factory=list)

    def params(self, text: str, sid: str | None = None) -> dict[str, str]:
        return {
            "MessageSid": sid or new_sid(), "AccountSid": ACCOUNT_SID, "From": self.channel_prefix + self.number,
            "To": "+85523000000", "Body": text, "NumMedia": "0", "FromCity": "PHNOM PENH", "FromCountry": "KH",
            "FromState": "", "FromZip": "", "ToCountry": "KH",
        }

    def post(self, params: dict[str, str], *, signature: str | None = None, url: str | None = None) -> httpx.Response:
        target = url or self.base_url + SMS_PATH
        headers = {}
        if self.token is not None:
            headers["X-Twilio-Signature"] = signature if signature is not None else sign(target, params, self.token)
        return self.client.post(SMS_PATH, content=urlencode(params),
                                 headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})

    def text(self, body: str, sid: str | None = None) -> str:
        response = self.post(self.params(body, sid))
        assert response.status_code == 200, response.text
        self.sent.append(body)
        return twiml_text(response)


class FakeTwilioApi:
    """Stands in for api.twilio.com: records what the real `twilio` client sends."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.fail_next = 0
        self.fail_status = 500
        self.created: list[dict[str, str]] = []  # messages it really created (answered 201)
        self.hanging = threading.Event()  # while set: read each request, then never answer it
        self.held = 0  # requests it left unanswered
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                if fake.hanging.is_set():
                    with fake.lock:
                        fake.held += 1
                    while fake.hanging.is_set():  # hold the connection, answer nothing
                        fake.hanging.wait(0.1)
                    return  # the caller gave up long ago; this request created nothing
                fake.requests.append(("POST", self.path, form))
                if fake.fail_next > 0:
                    fake.fail_next -= 1
                    self._reply(fake.fail_status, {"code": 20500, "message": "fake failure", "status": fake.fail_status})
                    return
                sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
                if sid == "Messages":
                    sid = "SM" + uuid.uuid4().hex
                    with fake.lock:
                        fake.created.append(form)
                self._reply(201, {"sid": sid, "status": "queued", "body": form.get("Body", ""),
                                  "account_sid": ACCOUNT_SID, "to": form.get("To"), "from": form.get("From")})

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.hanging.clear()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioApi]:
    fake = FakeTwilioApi()
    fake.start()
    yield fake
    fake.stop()
