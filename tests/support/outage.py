"""Take the database away from the app and give it back.

SQLite: another connection holds the write lock (BEGIN EXCLUSIVE), so every write
times out. PostgreSQL: the app talks to the server through a loopback TCP proxy
that can refuse and cut connections.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

from tests.support.database import configure
from tests.support.twilio_fake import AUTH_TOKEN, Phone


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            if self._listener is not None:
                try:  # wakes the thread blocked in accept(); close() alone does not on Linux
                    self._listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Outage:
    """`with outage.down(): ...` makes the app's database unavailable for the block."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.url = make_url(database_url)
        self.proxy: TcpProxy | None = None
        if self.url.get_backend_name() == "postgresql":
            self.proxy = TcpProxy(self.url.host or "127.0.0.1", self.url.port or 5432)
            self.proxy.up()

    @property
    def app_url(self) -> str:
        """The URL the app should use (through the proxy on PostgreSQL)."""
        if self.proxy is None:
            return self.database_url
        return self.url.set(host="127.0.0.1", port=self.proxy.port).render_as_string(hide_password=False)

    @contextmanager
    def down(self) -> Iterator[None]:
        if self.proxy is not None:
            self.proxy.down()
            try:
                yield
            finally:
                self.proxy.up()
            return
        holder = sqlite3.connect(self.url.database, isolation_level=None, check_same_thread=False)  # type: ignore[arg-type]
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.down()


@pytest.fixture
def outage(settings, database_url: str, monkeypatch, places):  # type: ignore[no-untyped-def]
    """The app's database behind a proxy that a test can cut (`outage.down()`), Twilio signatures on."""
    o = Outage(database_url)
    configure(monkeypatch, TWILIO_AUTH_TOKEN=AUTH_TOKEN)
    settings.twilio_auth_token = AUTH_TOKEN
    settings.database_url = o.app_url
    yield o
    o.close()


@pytest.fixture
def outage_phone(outage, request) -> Phone:  # type: ignore[no-untyped-def]
    """Someone texting the live server whose database is behind `outage`."""
    server = request.getfixturevalue("live_server")
    return Phone(client=server.client, base_url=server.base_url)
