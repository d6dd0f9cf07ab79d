"""Questions the platform asked a reporter outside the intake dialogue (e.g. "was it resolved?").

The dialogue checks for one before treating a message as a new report: if the
reporter has an open question and the message answers it, the question's handler
answers instead. Handlers are named by kind (module:function) so intake imports
nothing from the packages that ask.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, col, select

from service.kit.clock import now
from service.kit.models import created_at_field, ts_field

# kind → "module:function"; the function takes (session, question, text, language) and
# returns a Reply, or None when the text is not an answer (then the message is a new report).
HANDLERS: dict[str, str] = {
    "satisfaction": "service.escalation.reporter_updates:answer_satisfaction",
    # a handler's question; any text answers it and the body's paused deadline runs again
    "case_question": "service.escalation.clocks:answer_case_question",
    "retaliation": "service.retaliation.service:answer_checkin",
    "fee_confirm": "service.intake.fee_question:answer_fee_confirm",
    "fee_amount": "service.intake.fee_question:answer_fee_amount",
}


class PendingQuestion(SQLModel, table=True):
    __tablename__ = "pending_question"
    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporter.id", index=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    kind: str = Field(max_length=24)
    language: str = Field(default="en", max_length=8)
    asked_at: datetime = created_at_field()
    expires_at: datetime | None = ts_field(index=True)
    answered_at: datetime | None = ts_field()


def ask(
    session: Session, *, reporter_id: int, report_id: int, kind: str, language: str, ttl: timedelta = timedelta(days=14)
) -> PendingQuestion:
    """Record that a question is waiting for this reporter's answer."""
    question = PendingQuestion(
        reporter_id=reporter_id, report_id=report_id, kind=kind, language=language, expires_at=now() + ttl
    )
    session.add(question)
    return question


def open_question(session: Session, reporter_id: int) -> PendingQuestion | None:
    """The reporter's most recent unanswered, unexpired question."""
    return session.exec(
        select(PendingQuestion)
        .where(
            PendingQuestion.reporter_id == reporter_id,
            col(PendingQuestion.answered_at).is_(None),
            col(PendingQuestion.expires_at) > now(),
        )
        .order_by(col(PendingQuestion.id).desc())
    ).first()


def handler(kind: str) -> Callable | None:
    target = HANDLERS.get(kind)
    if target is None:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def try_answer(session: Session, *, reporter_id: int, text: str, language: str):
    """The hook the dialogue calls: a Reply if `text` answers an open question, else None."""
    question = open_question(session, reporter_id)
    if question is None:
        return None
    fn = handler(question.kind)
    return fn(session, question, text, language) if fn else None
