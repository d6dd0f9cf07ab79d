"""A dossier sent to a body: its suppressed contents, computed by the analytics in the body's language, go
with the single case's escalation machinery (deadline, signed link, reminder, answer). docs/escalation.md,
"Collective escalation: the dossier".

The contents are computed here, above both packages, and kept on the escalation as sent: the email, the
webhook and the response page show that snapshot, which later figures do not change.
"""

from __future__ import annotations

from sqlmodel import Session

from service.analytics import dossier as published
from service.bodies.service import get_body
from service.escalation import service as esc
from service.escalation.models import Dossier, Escalation


def escalate(
    session: Session, dossier: Dossier, *, body_slug: str, actor: str, idempotency_key: str | None = None
) -> Escalation:
    """Send the dossier to a national or regional body (NotFound: no such body; InvalidInput: not one a
    dossier goes to, or already waiting for it)."""
    body = get_body(session, body_slug)
    contents = published.contents(session, dossier, language=body.language).as_dict()
    return esc.escalate_dossier(
        session, dossier, body=body, actor=actor, contents=contents, idempotency_key=idempotency_key
    )
