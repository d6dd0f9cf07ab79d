"""A mail server at the network edge: a real aiosmtpd server on 127.0.0.1 keeping what it is sent."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading

from aiosmtpd.controller import Controller

from tests.support.server import free_port


class _Mailbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[email.message.EmailMessage] = []
        self.rcpts: list[list[str]] = []
        self.peers: list[object] = []  # the client end of the connection each message came over
        self.drop_at: int | None = None  # the DATA with this number (1-based) drops the connection unstored
        self.datas = 0
        self.delay = 0.0  # seconds each DATA takes to answer (a slow mail relay)
        self.in_data = 0  # messages being answered right now
        self.peak = 0  # the most messages answered at once (several senders side by side)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.delay:
            with self.lock:
                self.in_data += 1
                self.peak = max(self.peak, self.in_data)
            await asyncio.sleep(self.delay)
            with self.lock:
                self.in_data -= 1
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
