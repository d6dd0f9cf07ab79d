"""Link outreach workers to the bot with a one-time code; find whether a sender is a linked agent.

The web app (service/agents/pages.py) calls `link_code_for` and shows the code (or the bot's deep link)
once. The worker sends it to the bot; `redeem_link_code` records their pseudonym as an
agent of the organisation. Their reports are marked `assisted` and carry no reporter,
so nothing ties a report to the person it was made for, nor the agent's reports to
each other as if one person had sent them.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlmodel import Session, select

from service.agents.models import AgentLinkCode, OutreachAgent
from service.audit.service import record
from service.auth.principal import Principal
from service.config import get_settings
from service.kit.clock import as_utc, now
from service.kit.crypto import keyed_hash
from service.kit.errors import DomainError, InvalidInput, NotFound
from service.kit.receipts import ALPHABET
from service.orgs.models import SUPERVISING

PREFIX = "LINK"
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SHAPE = re.compile(r"^\s*/?(?:link\s+)?(LINK[\s\-_]*(?:[0-9A-Za-z][\s\-_]*){12})\s*$", re.IGNORECASE)


class LinkCodeInvalid(DomainError):
    """Unknown, used or expired link code."""


class NotPermitted(DomainError):
    """The user's role does not allow this."""

    http_status = 403


def _canonical(code: str) -> str | None:
    body = re.sub(r"[\s\-_]", "", code.upper())
    if not body.startswith(PREFIX):
        return None
    body = body[len(PREFIX) :].translate(_READ_AS)
    return body if len(body) == 12 and all(ch in ALPHABET for ch in body) else None


def looks_like_link_code(text: str) -> str | None:
    """The canonical code when a whole message is a link code (`LINK-XXXX-XXXX-XXXX`), else None."""
    match = _SHAPE.match(text)
    return _canonical(match.group(1)) if match else None


def create_agent_link_code(session: Session, *, org_id: int, user_id: int) -> str:
    """A fresh one-time code (shown once, stored hashed) that links an outreach worker to `org_id`."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(12))
    session.add(
        AgentLinkCode(
            code_hash=keyed_hash("agent-link", body),
            org_id=org_id,
            created_by_user_id=user_id,
            expires_at=now() + timedelta(hours=get_settings().agent_link_hours),
        )
    )
    session.flush()
    return f"{PREFIX}-{body[:4]}-{body[4:8]}-{body[8:]}"


def link_code_for(session: Session, *, user: Principal) -> str:
    """A one-time code linking an outreach worker's Telegram to the user's organisation (a supervisor
    or administrator of one). The code itself is never written to the audit log."""
    if user.role not in SUPERVISING:
        raise NotPermitted("supervisors and administrators only")
    if user.org_id is None:
        raise InvalidInput("link codes belong to an organisation; sign in as its supervisor or administrator")
    code = create_agent_link_code(session, org_id=user.org_id, user_id=user.id)
    record(session, actor=user.email, action="agent.link_code", object_type="org", object_id=user.org_id)
    return code


def redeem_link_code(session: Session, *, code: str, pseudonym: str) -> OutreachAgent:
    """Use a link code once: the sender (by pseudonym) becomes an agent of the code's organisation."""
    body = code.strip().upper()
    canonical = _canonical(body) or (body if len(body) == 12 and all(ch in ALPHABET for ch in body) else None)
    if canonical is None:
        raise LinkCodeInvalid("not a link code")
    row = session.exec(
        select(AgentLinkCode).where(AgentLinkCode.code_hash == keyed_hash("agent-link", canonical))
    ).first()
    if row is None or row.used_at is not None or as_utc(row.expires_at) <= now():
        raise LinkCodeInvalid("unknown, used or expired link code")
    row.used_at = now()
    session.add(row)
    agent = session.exec(select(OutreachAgent).where(OutreachAgent.pseudonym == pseudonym)).first()
    if agent is None:
        agent = OutreachAgent(pseudonym=pseudonym, org_id=row.org_id, linked_by_user_id=row.created_by_user_id)
    else:
        agent.org_id, agent.linked_by_user_id, agent.revoked_at = row.org_id, row.created_by_user_id, None
        agent.linked_at = now()
    session.add(agent)
    session.flush()
    return agent


def agent_for(session: Session, pseudonym: str) -> OutreachAgent | None:
    """The active agent record for a pseudonym, if any."""
    agent = session.exec(select(OutreachAgent).where(OutreachAgent.pseudonym == pseudonym)).first()
    return agent if agent is not None and agent.revoked_at is None else None


def revoke_agent(session: Session, agent_id: int) -> None:
    agent = session.get(OutreachAgent, agent_id)
    if agent is None:
        raise NotFound("no such agent")
    agent.revoked_at = now()
    session.add(agent)
