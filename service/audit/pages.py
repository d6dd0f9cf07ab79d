"""The audit log in the web app (/admin/audit): newest first, filterable by actor, action, case and
date; platform administrators see every entry and whether the hash chain is intact, an
organisation's administrator the entries of its own users.

Sign-in (service.auth) records to this log, so this package cannot import it: the wiring includes
`router` with the signed-in-user dependency (service/web/setup.py), and the page reads the user it
resolved from `request.state.user` (None when signed out).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from service.audit.models import AuditEvent
from service.audit.service import verify
from service.db import SessionDep
from service.kit.clock import as_utc
from service.kit.render import need_role, page, redirect
from service.orgs.models import User

router = APIRouter(include_in_schema=False)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep) -> Response:
    """The audit log, newest first, filterable by actor, action, case and date (platform admins see all;
    an organisation's admin sees the entries of its own users)."""
    user: Any = getattr(request.state, "user", None)
    if user is None:
        return redirect("/")
    need_role(user, ("admin",), "administrators only")
    qp = {k: v.replace("\x00", "") for k, v in request.query_params.items()}
    stmt = select(AuditEvent)
    if user.org_id is not None:
        emails = session.exec(select(User.email).where(User.org_id == user.org_id)).all()
        stmt = stmt.where(col(AuditEvent.actor).in_(emails))
    if qp.get("actor"):
        stmt = stmt.where(col(AuditEvent.actor) == qp["actor"].strip().lower())
    if qp.get("action"):
        stmt = stmt.where(col(AuditEvent.action) == qp["action"].strip())
    if qp.get("case", "").isdigit() and len(qp["case"]) <= 10:
        stmt = stmt.where(AuditEvent.object_type == "report", AuditEvent.object_id == qp["case"])
    for name, op in (("since", "ge"), ("until", "lt")):
        try:
            day = datetime.fromisoformat(qp[name]) if qp.get(name) else None
        except ValueError:
            day = None
        if day is not None:
            column = col(AuditEvent.at)
            stmt = stmt.where(column >= as_utc(day) if op == "ge" else column < as_utc(day) + timedelta(days=1))
    before = qp.get("before", "")
    if before.isdigit() and int(before) < 2**31:
        stmt = stmt.where(col(AuditEvent.id) < int(before))
    rows = list(session.exec(stmt.order_by(col(AuditEvent.id).desc()).limit(100)).all())
    intact, bad = verify(session) if user.org_id is None else (None, None)
    args = {k: v for k, v in qp.items() if k != "before" and v}
    return page(
        request,
        "audit.html",
        rows=rows,
        args=args,
        query=urlencode(args),
        intact=intact,
        bad=bad,
        next_before=rows[-1].id if len(rows) == 100 else None,
    )
