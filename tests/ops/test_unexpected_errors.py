"""An unexpected error (a bug) is answered 503 and logged as one line with its type and where it
was raised: never its message, which can hold what a reporter wrote, a number or a token.

Found from outside: Starlette re-raises an error after the app's catch-all handler has answered,
and uvicorn then logged "Exception in ASGI application" with the whole traceback and message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.bots.sms.conftest import live_server_signed, phone  # noqa: F401  (fixtures)
from tests.support.twilio_fake import Phone

SECRET = "+85512555777 said the nurse at the health centre asked for 20000 riel"


class Everything(logging.Handler):
    """Every record, formatted with its traceback, from the root logger and from uvicorn's own
    loggers (which do not always propagate to the root)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.records: dict[int, logging.LogRecord] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.records[id(record)] = record

    @property
    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records.values())

    def errors(self) -> list[str]:
        return [r.getMessage() for r in self.records.values() if r.levelno >= logging.ERROR]


@pytest.fixture
def logs() -> Iterator[Everything]:
    handler = Everything()
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)


def assert_contained(logs: Everything, response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503 and response.json() == {"detail": "temporarily unavailable"}
    text = logs.text
    assert SECRET not in text and "85512555777" not in text and "nurse" not in text, text
    assert "Traceback" not in text, text
    lines = logs.errors()
    assert len(lines) == 1, lines
    assert lines[0].startswith("unhandled RuntimeError at tests/ops/test_unexpected_errors.py:"), lines


def test_a_bug_behind_a_routed_endpoint_is_a_503_without_its_message(live_server, monkeypatch, logs) -> None:  # type: ignore[no-untyped-def]
    from service.ops import routes

    def broken(_request):  # type: ignore[no-untyped-def]
        raise RuntimeError(SECRET)

    monkeypatch.setattr(routes, "metrics_allowed", broken)  # the live server runs in this process
    assert_contained(logs, live_server.client.get("/metrics"))
    assert live_server.client.get("/healthz").status_code == 200, "the server goes on"


def test_a_bug_in_the_sms_fast_lane_is_a_503_without_its_message(phone: Phone, monkeypatch, logs) -> None:  # type: ignore[no-untyped-def]
    from bots.sms import twilio_form

    def broken(_params):  # type: ignore[no-untyped-def]
        raise RuntimeError(SECRET)

    monkeypatch.setattr(twilio_form, "sender", broken)
    assert_contained(logs, phone.post(phone.params("hello")))
