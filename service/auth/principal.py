"""`Principal`: the signed-in caller, the same for a web session and an API bearer token.

Every dependency that signs a request in (service/auth/deps.py: WebUser, ApiUser) answers one,
and the services take one where they act for somebody (`user=` / `actor=`): who (`id`, `email`),
where (`org_id`: None for a platform administrator) and as what (`role`). It is read with the
session in one query (`auth.resolve_caller`) and holds no ORM object, so nothing a service does
to it is saved by accident: a page that changes the user's own row (password, time zone,
language) loads that row by `id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Principal:
    id: int
    email: str
    org_id: int | None
    role: str
    session_id: int | None = None
    touch_at: datetime | None = None  # set when the session's last_seen_at is due to be saved (`auth.touch`)
    time_zone: str | None = None  # the user's own zone, else their organisation's (None: the platform's)

    @classmethod
    def of(cls, user: Any, *, session_id: int | None = None) -> Principal:
        """The principal for a user row (sign-in, the command line, tests)."""
        return cls(
            id=user.id,
            email=user.email,
            org_id=user.org_id,
            role=user.role,
            session_id=session_id,
            time_zone=user.time_zone,
        )
