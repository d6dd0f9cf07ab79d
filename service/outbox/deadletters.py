"""The dead letters a supervisor sees and retries (the web app's /admin/dead-letters): messages the
outbox gave up on, never their address or text. A platform administrator sees every one; an
organisation's supervisor or administrator those about its own cases."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.audit.service import record
from service.auth.principal import Principal
from service.kit.errors import DomainError, NotFound
from service.kit.masking import mask
from service.orgs.models import SUPERVISING
from service.outbox import service as outbox
from service.outbox.models import OutboundMessage
from service.reports.models import Report


class NotPermitted(DomainError):
    """The user's role does not allow this."""

    http_status = 403


def require_supervisor(user: Principal) -> None:
    if user.role not in SUPERVISING:
        raise NotPermitted("supervisors and administrators only")


def dead_letters(session: Session, *, user: Principal, limit: int = 100) -> list[OutboundMessage]:
    """Dead messages the user may see: everything for a platform admin, else those of the org's cases."""
    require_supervisor(user)
    if user.org_id is None:
        return outbox.dead_letters(session, limit=limit)
    return list(
        session.exec(
            select(OutboundMessage)
            .join(Report, col(Report.id) == col(OutboundMessage.report_id))
            .where(OutboundMessage.status == "dead", Report.org_id == user.org_id)
            .order_by(col(OutboundMessage.id).desc())
            .limit(limit)
        ).all()
    )


def safe_error(row: OutboundMessage) -> str:
    """The last error, masked (a provider's error can quote an address) and short."""
    return mask_error(row.last_error)


def mask_error(last_error: str | None) -> str:
    """A message's last error as `safe_error` shows it (for a caller that read only that column)."""
    return mask(last_error or "")[:200]


def retry_dead_letter(session: Session, *, user: Principal, outbound_id: int) -> OutboundMessage:
    """Send a dead message again now (audited); NotFound for one about another organisation's case."""
    require_supervisor(user)
    row = session.get(OutboundMessage, outbound_id)
    if row is None:
        raise NotFound("no such message")
    if user.org_id is not None:
        report = session.get(Report, row.report_id) if row.report_id else None
        if report is None or report.org_id != user.org_id:
            raise NotFound("no such message")
    status = row.status
    row = outbox.retry_now(session, outbound_id)
    record(
        session,
        actor=user.email,
        action="outbox.retry",
        object_type="outbound",
        object_id=row.id,
        detail={"before": {"status": status}, "after": {"status": row.status}},
    )
    return row
