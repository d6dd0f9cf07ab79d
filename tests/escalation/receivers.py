"""The outside world of escalation, at the network edge: a body's webhook endpoint and a mail server.

The webhook receiver verifies every request with the reference Standard Webhooks library
and honours `webhook-id` (a repeat is acknowledged and not processed again), the way an
integrator is asked to. The SMTP server is a real aiosmtpd server on 127.0.0.1.
"""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from tests.support.server import free_port


class WebhookReceiver:
    def __init__(self, secret: str = "", *, delay: float = 0.0) -> None:
        self.secret = secret
        self.delay = delay
        self.lock = threading.Lock()
        self.raw: list[str] = []  # every request's webhook-id, repeats included
        self.processed: dict[str, dict] = {}  # first receipt of each id: the payload
        self.rejected = 0
        self.fail_next = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/samleng"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if fake.delay:
                    time.sleep(fake.delay)
                try:
                    payload = Webhook(fake.secret).verify(body, headers) if fake.secret else json.loads(body)
                except Exception:
                    with fake.lock:
                        fake.rejected += 1
                    self._reply(401)
                    return
                with fake.lock:
                    if fake.fail_next > 0:
                        fake.fail_next -= 1
                        self._reply(503)
                        return
                    msg_id = headers["webhook-id"]
                    fake.raw.append(msg_id)
                    fake.processed.setdefault(msg_id, payload)
                self._reply(204)

            def _reply(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Mailbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[email.message.EmailMessage] = []
        self.rcpts: list[list[str]] = []
        self.peers: list[object] = []  # the client end of the connection each message came over
        self.drop_at: int | None = None  # the DATA with this number (1-based) drops the connection unstored
        self.datas = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.datas += 1
            if self.drop_at is not None and self.datas == self.drop_at:
                server.transport.close()  # the server goes away mid-session: this message is not taken
                return "421 closing"
            self.peers.append(session.peer)
            self.messages.append(message)  # type: ignore[arg-type]
            self.rcpts.append(list(envelope.rcpt_tos))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = _Mailbox()
        self.controller: Controller | None = None
        self.start()

    def start(self) -> None:
        """Start (again, on the same port and mailbox)."""
        if self.controller is None:
            self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        with self.mailbox.lock:
            return list(self.mailbox.messages)

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
