"""The audit log: append-only, each entry's hash chained to the previous entry's."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import insert, text
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.kit.clock import now
from service.kit.fastsql import FastQuery, FastStatement
from service.kit.models import table_of


def _digest(
    prev_hash: str, actor: str, action: str, object_type: str | None, object_id: str | None, detail: dict, at: datetime
) -> str:
    payload = json.dumps(
        [prev_hash, actor, action, object_type, object_id, detail, at.isoformat()],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


# Appended with every audited action (every case view): compiled once, run on the cursor.
_AUDIT = table_of(AuditEvent)
_LAST_HASH = FastQuery(select(_AUDIT.c.hash).order_by(_AUDIT.c.id.desc()).limit(1))
_INSERT = FastStatement(insert(_AUDIT))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str | None = None,
    object_id: str | int | None = None,
    detail: dict | None = None,
) -> None:
    """Append one entry. Detail must never carry contact details or narrative text."""
    session.flush()  # what the session changed first, as before the entry (its id comes after theirs)
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Serialise appends so two writers cannot chain to the same previous entry.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('samleng_audit_chain'))"))
    last = _LAST_HASH.all(conn, {})
    prev_hash = last[0][0] if last else ""
    at = now()
    oid = None if object_id is None else str(object_id)
    body = detail or {}
    _INSERT.execute(
        conn,
        {
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": oid,
            "detail": body,
            "prev_hash": prev_hash,
            "at": at,
            "hash": _digest(prev_hash, actor, action, object_type, oid, body, at),
        },
    )


def verify(session: Session) -> tuple[bool, int | None]:
    """Walk the chain; returns (intact, id of the first bad entry or None)."""
    prev_hash = ""
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all():
        expected = _digest(
            prev_hash, event.actor, event.action, event.object_type, event.object_id, event.detail, event.at
        )
        if event.prev_hash != prev_hash or event.hash != expected:
            return False, event.id
        prev_hash = event.hash
    return True, None
