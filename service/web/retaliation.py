"""Send an undelivered retaliation check-in again: the case page's button and its JSON API equivalent
(docs/retaliation.md, "A check-in that does not arrive"). Wired here, above the domains, because it
joins the review queue's case scope and pages with the retaliation watch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from service.auth.deps import ApiUser, SessionDep, WebUser
from service.auth.principal import Principal
from service.config import get_settings
from service.kit.errors import DomainError
from service.kit.problems import http_error
from service.kit.render import Csrf
from service.outbox.models import OutboundMessage
from service.queue.deps import CaseInScope
from service.queue.routes import ERRORS
from service.queue.schemas import Strict
from service.reports.models import Report
from service.retaliation import service as watch
from service.web.routes import CaseId, _act

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
pages = APIRouter(include_in_schema=False)
CheckinId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class SendAgainIn(Strict):
    after: int = Field(
        ge=0,
        le=1000,
        description="how many times you saw the check-in sent again already (0: never); the same request "
        "twice sends one message",
    )


class SendAgainOut(BaseModel):
    checkin: int
    outbound_id: int
    created: bool  # false: this request was already answered (nothing new was sent)


def _send(session: Session, user: Principal, report: Report, checkin_id: int, after: int) -> OutboundMessage:
    message, _created = watch.send_again(
        session,
        user=user,
        report=report,
        checkin_id=checkin_id,
        after=after,
        answer_days=get_settings().retaliation_answer_days,
    )
    return message


@router.post("/{case_id}/retaliation/{checkin_id}/send-again", response_model=SendAgainOut, responses=ERRORS)
def send_again(
    report: CaseInScope, checkin_id: CheckinId, body: SendAgainIn, session: SessionDep, user: ApiUser
) -> SendAgainOut:
    """Send an undelivered retaliation check-in again (the case's handler, supervisors, administrators):
    through the outbox, by the same channel and in the same language; audited. 409 with the reason when
    the reporter may not be asked again or the check-in is not undelivered."""
    try:
        message, created = watch.send_again(
            session,
            user=user,
            report=report,
            checkin_id=checkin_id,
            after=body.after,
            answer_days=get_settings().retaliation_answer_days,
        )
    except DomainError as exc:
        session.rollback()
        raise http_error(exc) from None
    out = SendAgainOut(checkin=checkin_id, outbound_id=message.id or 0, created=created)
    session.commit()
    return out


@pages.post("/cases/{case_id}/retaliation/{checkin_id}/send-again")
def send_again_from_page(
    case_id: CaseId,
    checkin_id: CheckinId,
    request: Request,
    session: SessionDep,
    user: WebUser,
    after: Annotated[int, Form(ge=0, le=1000)] = 0,
    csrf_token: Csrf = "",
) -> Response:
    """The case page's "Send the check-in again" button: the same as the API; back to the case page, or the
    case page again with the reason it was refused."""
    return _act(request, session, user, case_id, csrf_token, lambda u, r: _send(session, u, r, checkin_id, after))
