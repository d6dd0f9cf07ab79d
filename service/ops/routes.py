"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress

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


def metrics_allowed(request: Request) -> bool:
    """The direct peer is in SAMLENG_METRICS_ALLOW, or the request carries the metrics token."""
    settings = request.app.state.settings
    token = settings.metrics_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    try:
        peer = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    for net in (n.strip() for n in settings.metrics_allow.split(",")):
        try:
            if net and peer in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


@router.get("/metrics")
async def prometheus(request: Request) -> Response:
    if not metrics_allowed(request):
        return Response(
            '{"detail":"metrics are not served to this client"}', status_code=403, media_type="application/json"
        )
    metrics.SPOOL_DEPTH.set(request.app.state.spool.depth())
    metrics.WRITER_UNITS.set(request.app.state.writer.units)
    metrics.WRITER_COMMITS.set(request.app.state.writer.batches)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
