"""A fast lane past FastAPI's routing for the SMS webhook, and what it knowingly leaves out.

`FastLane` is a pure ASGI middleware: a request whose (method, path) is in its table goes
straight to that endpoint function, skipping route matching, dependency solving, the exception
middlewares and every middleware added inside it; every other request passes through untouched.
The routes stay registered, so OpenAPI documents them and a request that misses the lane (another
method) is answered by the same function. The table is declared once, in service/app.py
(`FAST_LANE`), and the lane is the app's outermost middleware.

What the lane skips is declared here, and `unaccounted(app)` names anything the app has that the
lane would skip without saying so (tests/sms/test_fast_lane.py fails on it):

- `REPRODUCED_HANDLERS`: the app's exception handlers the lane answers the same way itself —
  an HTTPException as {"detail"} with its status and headers, a DomainError through
  service.kit.problems.http_error, a sender that hung up mid-request as 400 (logged at info;
  nobody is there to read it), anything else as 503 (the sender retries; nothing about the
  request is logged but the exception's type and where it was raised).
- `SKIPPED_HANDLERS`: handlers the lane's endpoints cannot need (a lane endpoint takes the bare
  Request and reads its own input, so FastAPI never validates anything for it; no websockets).
  A handler for one DomainError subclass would answer differently from the lane, so it counts
  as unaccounted too: every handler must be listed by its exact class.
- `SKIPPED_MIDDLEWARE`: middlewares added inside the lane that its endpoints go without:
  `ContainErrors` (service/ops/unexpected.py), whose answer to an unexpected error the lane gives
  itself, with the same function.

See docs/writer-fast-path.md, "The webhook's fast lane".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi import HTTPException as FastAPIHTTPException
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from service.kit.errors import DomainError
from service.kit.problems import http_error
from service.ops.unexpected import ContainErrors, client_gone, log_unexpected, unavailable

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

REPRODUCED_HANDLERS: frozenset[type] = frozenset(
    {HTTPException, FastAPIHTTPException, DomainError, ClientDisconnect, Exception}
)
SKIPPED_HANDLERS: frozenset[type] = frozenset({RequestValidationError, WebSocketRequestValidationError})
SKIPPED_MIDDLEWARE: frozenset[type] = frozenset({ContainErrors})  # the lane answers as it does, itself


class FastLane:
    def __init__(self, app: Callable, routes: dict[tuple[str, str], Endpoint]) -> None:
        self.app = app
        self.routes = dict(routes)  # (method, path) -> async endpoint(request)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        endpoint = self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await endpoint(Request(scope, receive))
        except HTTPException as exc:
            response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        except DomainError as exc:  # what the app's DomainError handler answers
            http = http_error(exc)
            response = JSONResponse({"detail": http.detail}, status_code=http.status_code)
        except ClientDisconnect:  # what the app's ClientDisconnect handler answers
            response = client_gone()
        except Exception as exc:  # what the app's ContainErrors answers
            log_unexpected(exc)
            response = unavailable()
        await response(scope, receive, send)


def unaccounted(app: FastAPI) -> list[str]:
    """What the app has that a lane request would skip without the lane declaring it: middlewares
    added inside the lane, exception handlers it neither reproduces nor knowingly skips, and a
    second lane. Empty when the lane is the outermost middleware and every skip is declared."""
    classes: list[object] = [m.cls for m in app.user_middleware]
    if FastLane not in classes:
        return ["no FastLane middleware"]
    problems = [f"a second FastLane ({classes.count(FastLane)} in all)"] if classes.count(FastLane) > 1 else []
    inside = classes[classes.index(FastLane) + 1 :]  # user_middleware[0] is the outermost
    problems += [
        f"middleware {getattr(cls, '__name__', cls)} runs inside the lane"
        for cls in inside
        if cls is not FastLane and cls not in SKIPPED_MIDDLEWARE
    ]
    handled = REPRODUCED_HANDLERS | SKIPPED_HANDLERS
    for key in app.exception_handlers:
        if isinstance(key, int):
            problems.append(f"handler for status {key}")
        elif key not in handled:
            problems.append(f"exception handler for {key.__name__}")
    return problems
