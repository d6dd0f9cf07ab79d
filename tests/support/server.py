"""A real uvicorn server on 127.0.0.1 running the app, and an HTTP client for it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from service.app import create_app
from service.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    app: FastAPI
    base_url: str
    client: httpx.Client

    def url(self, path: str) -> str:
        return self.base_url + path


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


def start_server(app: FastAPI, port: int) -> tuple[_Server, threading.Thread]:
    # As `samleng serve` by default: no proxy, so X-Forwarded-For is not believed.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            proxy_headers=False, timeout_graceful_shutdown=10)
    server = _Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # start-up (catalogues, triage model) on a loaded 2-core machine
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    return server, thread


@pytest.fixture
def live_server(settings: Settings, engine) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The whole app behind real HTTP on a free loopback port (SAMLENG_PUBLIC_URL points at it)."""
    port = free_port()
    settings.public_url = f"http://127.0.0.1:{port}"
    app = create_app(settings)
    server, thread = start_server(app, port)
    # Generous: on a loaded 2-core machine a page can take tens of seconds (no test asserts speed).
    with httpx.Client(base_url=settings.public_url, timeout=180) as client:
        yield LiveServer(app=app, base_url=settings.public_url, client=client)
    stop_server(server, thread)


def stop_server(server: _Server, thread: threading.Thread) -> None:
    """Stop the app and wait until it has: an app left running would go on handling the stored
    work of the next tests in the same database (a sweep of their Telegram updates, say)."""
    server.should_exit = True
    thread.join(120)
    if thread.is_alive():
        raise RuntimeError("the test server did not stop within 120 s; its app would run into the next tests")
