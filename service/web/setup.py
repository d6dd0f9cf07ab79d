"""Wire the review queue (web app, JSON API, sign-in) and the domains' own pages into the FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from service.agents.pages import router as agents_pages
from service.audit.pages import router as audit_pages
from service.auth.deps import web_user
from service.auth.pages import router as auth_pages
from service.auth.routes import router as auth_router
from service.kit.render import CSP
from service.outbox.pages import router as outbox_pages
from service.queue.routes import router as cases_router
from service.supervision.api import router as supervision_api
from service.supervision.dossier_api import router as dossier_api
from service.supervision.dossier_pages import router as dossier_pages
from service.supervision.routes import router as supervision_router
from service.web.dossier_escalation import pages as dossier_escalation_pages
from service.web.dossier_escalation import router as dossier_escalation
from service.web.retaliation import pages as retaliation_pages
from service.web.retaliation import router as retaliation_api
from service.web.routes import router as web_router

STATIC = Path(__file__).parent / "static"
# Swagger UI from /static (vendored, static/VENDORED.txt): works offline, no script from another host,
# started by static/swagger-init.js so the page keeps the strict Content-Security-Policy.
API_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Samleng API</title>
<link rel="stylesheet" href="/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>
"""


def install_review(app: FastAPI) -> None:
    """Routers and static files of the review queue."""
    app.include_router(auth_router)
    app.include_router(cases_router)
    app.include_router(supervision_api)
    app.include_router(dossier_api)
    app.include_router(dossier_escalation)
    app.include_router(retaliation_api)
    app.include_router(web_router)
    app.include_router(retaliation_pages)
    app.include_router(auth_pages)
    # The audit package sits below auth (sign-in writes to its log): its page gets the signed-in
    # user from this dependency (request.state.user) instead of importing it.
    app.include_router(audit_pages, dependencies=[Depends(web_user)])
    app.include_router(outbox_pages)
    app.include_router(agents_pages)
    app.include_router(supervision_router)
    app.include_router(dossier_pages)
    app.include_router(dossier_escalation_pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(
            API_DOCS,
            headers={
                "Content-Security-Policy": CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )
