"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from service.ops import metrics

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _database_answers(request: Request) -> None:
    engine = request.app.state.engine
    # On SQLite the engine begins with BEGIN IMMEDIATE, so this also proves a write could go in.
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        conn.rollback()


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    try:
        await asyncio.wait_for(asyncio.to_thread(_database_answers, request), timeout=3.0)
    except Exception:
        return Response('{"status":"unavailable"}', status_code=503, media_type="application/json")
    return Response('{"status":"ready"}', media_type="application/json")


@router.get("/metrics")
async def prometheus(request: Request) -> Response:
    metrics.SPOOL_DEPTH.set(request.app.state.spool.depth())
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
