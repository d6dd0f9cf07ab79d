"""The last word on an unexpected error (a bug): 503 to the caller, and one log line that says
what and where, never the error's message.

An exception's message can hold what a reporter wrote, a phone number or a token (a parser
quoting its input, a driver quoting a value). Starlette's catch-all handler answers and then
re-raises, so that the server logs the traceback with the message: `ContainErrors` takes the
error first and keeps it. The SMS fast lane answers its own errors with the same `log_unexpected`
(service/ops/fastlane.py).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from fastapi.responses import JSONResponse, Response

log = logging.getLogger("service.app")

_ROOTS = ("/service/", "/bots/", "/tests/", "/site-packages/")


def where(exc: BaseException) -> str:
    """`path:line in function` of the frame that raised, the path cut to the project or the
    library (no home directories, no message)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    path = last.filename.replace("\\", "/")
    for root in _ROOTS:
        cut = path.rfind(root)
        if cut != -1:
            path = path[cut + 1 :].removeprefix("site-packages/")
            break
    else:
        path = path.rsplit("/", 1)[-1]
    return f"{path}:{last.lineno} in {last.name}"


def log_unexpected(exc: BaseException) -> None:
    log.error("unhandled %s at %s", type(exc).__name__, where(exc))


def client_gone() -> Response:
    """The sender hung up before its request was read whole: nothing was stored and nobody is there
    to answer. Not an error: Twilio and Telegram send again what went unanswered."""
    log.info("client disconnected before its request was read")
    return Response(status_code=400)


def unavailable() -> JSONResponse:
    return JSONResponse({"detail": "temporarily unavailable"}, status_code=503)


class ContainErrors:
    """Pure ASGI middleware: an exception that nothing inside handled is logged by
    `log_unexpected` and answered 503 (when no answer has started), and goes no further."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            log_unexpected(exc)
            if not started:
                await unavailable()(scope, receive, send)
