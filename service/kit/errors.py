"""Domain errors: services raise these, never HTTPException; the edges translate them
(service/kit/problems.py). A subclass sets `http_status` when it is not invalid input (422)."""


class DomainError(Exception):
    """Base class for expected, user-explainable failures."""

    http_status: int = 422


class NotFound(DomainError):
    http_status = 404


class InvalidInput(DomainError):
    pass
