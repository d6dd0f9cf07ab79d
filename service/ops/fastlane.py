"""A fast lane past FastAPI's routing for the few hottest endpoints.

`FastLane` is a pure ASGI middleware: a request whose (method, path) is in its table goes
straight to that endpoint function, skipping route matching (~100 routes), dependency solving
and the exception middlewares; every other request passes through untouched. The routes stay
registered, so OpenAPI documents them and a request that misses the lane (another method)
is answered by the same function. Errors are answered as the app's own handlers answer them:
an HTTPException as {"detail"} with its status and headers, anything else as 503 (the sender
retries; nothing about the request is logged but the exception's type).

Used by the SMS webhook (issue 2, service/app.py) and by the case list and web queue (issue 5,
service/web/setup.py); see docs/writer-fast-path.md and docs/review-queue.md, "Speed".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


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
        except Exception as exc:  # what the app's catch-all handler answers
            log.error("unhandled %s", type(exc).__name__)
            response = JSONResponse({"detail": "temporarily unavailable"}, status_code=503)
        await response(scope, receive, send)
