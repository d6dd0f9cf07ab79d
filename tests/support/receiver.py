"""Someone else's HTTP endpoint, at the network edge: records every request, answers from a script.

`Receiver` listens on 127.0.0.1 on a free port, in a thread. Each request is read whole,
recorded (method, path, lower-cased headers, body), then answered:

1. by the next scripted `Reply` queued with `receiver.then(...)`, if any is left;
2. else by `respond(request)`, when the receiver was given one and it returns a `Reply`;
3. else with the default `Reply` (status 200, no body, unless told otherwise).

`delay` makes a slow endpoint: it waits that long after reading each request, before
recording and answering it. A `Reply` can add its own delay.

Built on it here: `WebhookReceiver`, a body's webhook endpoint that verifies every request
with the reference Standard Webhooks library and honours `webhook-id` (a repeat is
acknowledged and not processed again), the way an integrator is asked to. The Twilio and
Telegram fakes (twilio_fake.py, telegram_fake.py) speak those APIs and stay separate.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | dict | list | None = None  # a dict or list is sent as JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    def __init__(self, *, default: Reply = Reply(), delay: float = 0.0,
                 respond: Callable[[Request], Reply | None] | None = None) -> None:
        self.default = default
        self.delay = delay
        self.respond = respond
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.script: deque[Reply] = deque()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url_for(self, path: str = "/") -> str:
        return self.base_url + path

    def then(self, *replies: Reply) -> Receiver:
        """Answer the next requests with these replies, in order (then as before)."""
        with self.lock:
            self.script.extend(replies)
        return self

    def received(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """The requests so far, oldest first; only those with this method and path start, when given."""
        with self.lock:
            return [r for r in self.requests if (method is None or r.method == method)
                    and (path is None or r.path.startswith(path))]

    def _answer(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            if self.script:
                return self.script.popleft()
        if self.respond is not None:
            reply = self.respond(request)
            if reply is not None:
                return reply
        return self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                if fake.delay:
                    time.sleep(fake.delay)
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                reply = fake._answer(request)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                headers = dict(reply.headers)
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload).encode()
                    headers.setdefault("Content-Type", "application/json")
                payload = payload or b""
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class WebhookReceiver(Receiver):
    """A grievance body's webhook endpoint (`url`), verifying signatures when it has a secret.

    `raw` is every accepted request's webhook-id, repeats included; `processed` the payload of
    the first receipt of each id; `rejected` counts requests that failed verification (401);
    `fail_next` answers that many verified requests 503 without taking them.
    """

    def __init__(self, secret: str = "", *, delay: float = 0.0) -> None:
        self.secret = secret
        self.raw: list[str] = []
        self.processed: dict[str, dict] = {}
        self.rejected = 0
        self.fail_next = 0
        super().__init__(delay=delay, respond=self._take)

    @property
    def url(self) -> str:
        return self.url_for("/hooks/samleng")

    def _take(self, request: Request) -> Reply:
        try:
            payload = Webhook(self.secret).verify(request.body, request.headers) if self.secret else request.json()
        except Exception:
            with self.lock:
                self.rejected += 1
            return Reply(401)
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return Reply(503)
            msg_id = request.headers["webhook-id"]
            self.raw.append(msg_id)
            self.processed.setdefault(msg_id, payload)
        return Reply(204)
