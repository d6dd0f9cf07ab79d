"""Domain errors at the HTTP edge, and the shape of every error answer.

Services raise `DomainError`s (service/kit/errors.py), never HTTPException. A domain class says
which status it is answered with (`http_status`, 422 unless it says otherwise); `http_error` turns
one into the HTTPException the app answers with. The app's exception handler, the fast lane
(service/ops/fastlane.py) and the routes that answer a domain error themselves all use it, so one
error is answered the same way wherever it is raised.
"""

from __future__ import annotations

from fastapi import HTTPException
from pydantic import BaseModel

from service.kit.errors import DomainError, NotFound


class Problem(BaseModel):
    """Every error answer: a message safe to show, and for invalid input the names of the fields."""

    detail: str
    fields: list[str] | None = None


def http_error(exc: DomainError) -> HTTPException:
    """The answer to a domain error (the message is safe to show; it never holds case text).
    Anything not found, or out of the caller's scope, is the same 404."""
    if isinstance(exc, NotFound):
        return HTTPException(404, "no such case")
    return HTTPException(exc.http_status, str(exc))
