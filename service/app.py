"""The FastAPI application: webhooks, ops endpoints (API and UI come in their packages)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

import bots.telegram.models  # noqa: F401  (the Telegram adapter's tables)
import service.models  # noqa: F401  (every table: the app sees the whole model whatever it imports)
from bots.sms.routes import SMS_PATH, inbound_sms
from bots.sms.routes import router as sms_router
from bots.telegram.bot import TelegramBot
from bots.telegram.routes import router as telegram_router
from service.analytics.routes import router as analytics_router  # /public, /open311
from service.casefile.routes import router as casefile_router
from service.config import Settings, get_settings
from service.db import build_engine
from service.escalation.routes import router as escalation_router
from service.inbox.spool import Spool
from service.inbox.writer import Writer
from service.kit.errors import DomainError
from service.kit.problems import http_error
from service.ops.fastlane import Endpoint, FastLane
from service.ops.logs import quiet_libraries
from service.ops.runtime import tune_gc
from service.ops.unexpected import ContainErrors, client_gone
from service.ops.routes import router as ops_router
from service.routing.pages import router as rules_router
from service.triage import service as triage
from service.web.setup import install_review

log = logging.getLogger(__name__)

# The one table of endpoints that skip routing, dependency solving and the exception middlewares
# (docs/writer-fast-path.md): the SMS webhook, the busiest write, answered in about a millisecond.
FAST_LANE: dict[tuple[str, str], Endpoint] = {("POST", SMS_PATH): inbound_sms}


def create_app(settings: Settings | None = None, *, gc_tuning: bool = False) -> FastAPI:
    """Build the app; the writer thread and engine live as long as the app runs. `gc_tuning`: freeze
    what is loaded and raise the collector's threshold at start (`samleng serve` only: it changes the
    whole process, so an app a test or a script builds leaves the collector alone)."""
    settings = settings or get_settings()
    quiet_libraries()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Triage rules, model and sentence embeddings load in the background: the web
        # process triages only the rare message it must (a sender over the hourly limit),
        # and that one waits for the load; start-up does not (docs/benchmarks.md). The model
        # is the worker's cached one: the web process never trains it (docs/triage.md).
        app.state.triage_warm = triage.warm_in_background(train=False)
        if gc_tuning:
            tune_gc()
        app.state.writer.start()
        if app.state.telegram is not None:  # Telegram bot: process stored updates
            await app.state.telegram.start()
        try:
            yield
        finally:
            if app.state.telegram is not None:
                await app.state.telegram.stop()
            app.state.writer.stop()
            app.state.engine.dispose()

    app = FastAPI(
        title="Samleng", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )  # /api/docs: our own copy of Swagger UI (service/web/setup.py)
    app.state.settings = settings
    app.state.engine = build_engine(settings)
    lanes = settings.writer_lanes or (1 if app.state.engine.dialect.name == "sqlite" else 4)
    app.state.writer = Writer(app.state.engine, lanes=lanes)
    app.state.spool = Spool(settings.spool_dir)
    # Telegram bot: only when a token is configured.
    app.state.telegram = None
    if settings.telegram_bot_token:
        app.state.telegram = TelegramBot(settings, app.state.writer)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the fields, never echo the values (they may hold a number or a story).
        fields = [".".join(str(p) for p in err.get("loc", ())) for err in exc.errors()]
        return JSONResponse({"detail": "invalid input", "fields": fields}, status_code=422)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_request: Request, _exc: ClientDisconnect) -> Response:
        return client_gone()

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        http = http_error(exc)  # one mapping for the whole app (service/kit/problems.py)
        return JSONResponse({"detail": http.detail}, status_code=http.status_code)

    app.include_router(ops_router)
    app.include_router(sms_router)
    # escalation: bodies' response pages and API
    app.include_router(escalation_router)
    app.include_router(telegram_router)
    # Review queue: web app at /, JSON API at /api/v1, sign-in.
    install_review(app)
    # Routing rules, edited by platform administrators.
    app.include_router(rules_router)
    app.include_router(analytics_router)  # analytics
    app.include_router(casefile_router)  # the printable case file for a referral
    # Unexpected errors: 503 and one line with no message (service/ops/unexpected.py). Inside the
    # lane, which answers its own the same way.
    app.add_middleware(ContainErrors)
    # The fast lane, added last so it is the outermost middleware: its table is FAST_LANE, what it
    # skips is declared in service/ops/fastlane.py (tests/sms/test_fast_lane.py checks both).
    app.add_middleware(FastLane, routes=FAST_LANE)
    return app
