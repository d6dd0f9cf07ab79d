"""Domain errors: services raise these, never HTTPException; the edges translate them."""


class DomainError(Exception):
    """Base class for expected, user-explainable failures."""


class NotFound(DomainError):
    pass


class InvalidInput(DomainError):
    pass
