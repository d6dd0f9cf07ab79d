"""The FastAPI application: webhooks, ops endpoints (API and UI come in their packages)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bots.sms.routes import router as sms_router
from service.config import Settings, get_settings
from service.db import build_engine
from service.inbox.spool import Spool
from service.inbox.writer import Writer
from service.ops.logs import quiet_libraries
from service.ops.routes import router as ops_router
from service.analytics.routes import router as analytics_router  # analytics (issue 7): /public, /open311

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the writer thread and engine live as long as the app runs."""
    settings = settings or get_settings()
    quiet_libraries()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.writer.start()
        try:
            yield
        finally:
            app.state.writer.stop()
            app.state.engine.dispose()

    app = FastAPI(title="Samleng", version="0.1.0", lifespan=lifespan,
                  docs_url="/api/docs", redoc_url=None)
    app.state.settings = settings
    app.state.engine = build_engine(settings)
    app.state.writer = Writer(app.state.engine)
    app.state.spool = Spool(settings.spool_dir)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the fields, never echo the values (they may hold a number or a story).
        fields = [".".join(str(p) for p in err.get("loc", ())) for err in exc.errors()]
        return JSONResponse({"detail": "invalid input", "fields": fields}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s", type(exc).__name__)
        return JSONResponse({"detail": "temporarily unavailable"}, status_code=503)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app.include_router(ops_router)
    app.include_router(sms_router)
    app.include_router(analytics_router)  # analytics (issue 7)
    return app
