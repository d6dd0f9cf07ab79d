"""Twilio at the network edge: signed webhook requests, and a local fake of Twilio's REST API."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
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
    """Stands in for api.twilio.com: records what the real `twilio` client sends, keeps the
    messages it created, and answers the Messages list (`GET …/Messages.json`, filtered by
    `To`/`From`, newest first, paged by `PageSize`/`Page` with `next_page_uri`) as Twilio does.

    `on_create(form)`, when set, runs after a message is stored and before it is answered: a
    test can kill the sender there (Twilio has the message; the sender never hears of it)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.fail_next = 0
        self.fail_status = 500
        self.refuse_to: set[str] = set()  # numbers whose every new message is refused (a 400, code 21610)
        self.created: list[dict[str, str]] = []  # messages it really created (answered 201)
        self.messages: list[dict] = []  # the Message resources it holds, oldest first
        self.on_create: Callable[[dict[str, str]], None] | None = None
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
                if form.get("To") in fake.refuse_to:  # Twilio's answer for a number that cannot receive SMS
                    self._reply(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                      "status": 400})
                    return
                if fake.fail_next > 0:
                    fake.fail_next -= 1
                    self._reply(fake.fail_status, {"code": 20500, "message": "fake failure", "status": fake.fail_status})
                    return
                sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
                if sid == "Messages":
                    sid = "SM" + uuid.uuid4().hex
                    resource = fake._resource(sid, form)
                    with fake.lock:
                        fake.created.append(form)
                        fake.messages.append(resource)
                    if fake.on_create is not None:
                        fake.on_create(form)
                    self._reply(201, resource)
                    return
                with fake.lock:  # an update (redaction): the stored body changes
                    resource = next((m for m in fake.messages if m["sid"] == sid), None)
                    if resource is not None and "Body" in form:
                        resource["body"] = form["Body"]
                self._reply(200 if resource else 201, resource or {
                    "sid": sid, "status": "queued", "body": form.get("Body", ""),
                    "account_sid": ACCOUNT_SID, "to": form.get("To"), "from": form.get("From")})

            def do_GET(self) -> None:  # noqa: N802
                path, _, query = self.path.partition("?")
                params = dict(parse_qsl(query, keep_blank_values=True))
                if fake.hanging.is_set():
                    while fake.hanging.is_set():
                        fake.hanging.wait(0.1)
                    return
                fake.requests.append(("GET", path, params))
                if not path.endswith("/Messages.json"):
                    self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                with fake.lock:
                    found = [m for m in reversed(fake.messages)
                             if params.get("To", m["to"]) == m["to"] and params.get("From", m["from"]) == m["from"]]
                size = min(int(params.get("PageSize") or 50), 1000)
                page = int(params.get("Page") or 0)
                chunk = found[page * size:(page + 1) * size]
                def uri(n: int) -> str:
                    return path + "?" + urlencode({**{k: v for k, v in params.items() if k not in ("Page", "PageToken")},
                                                   "PageSize": size, "Page": n, "PageToken": f"PA{n}"})
                more = (page + 1) * size < len(found)
                self._reply(200, {"messages": chunk, "first_page_uri": uri(0), "uri": uri(page), "page": page,
                                  "page_size": size, "start": page * size, "end": page * size + len(chunk),
                                  "previous_page_uri": uri(page - 1) if page else None,
                                  "next_page_uri": uri(page + 1) if more else None})

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller died waiting (a test killed it there)

        return Handler

    @staticmethod
    def _resource(sid: str, form: dict[str, str]) -> dict:
        return {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued", "direction": "outbound-api",
                "body": form.get("Body", ""), "to": form.get("To"), "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"), "num_segments": "1",
                "date_created": formatdate(usegmt=True).replace("GMT", "+0000"), "date_sent": None,
                "date_updated": formatdate(usegmt=True).replace("GMT", "+0000"), "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"}

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
