"""An organisation's time zone: the zone its handlers read times in and its cases' messages use.

The zone rules themselves (the reader's choice, else the organisation's, else the platform's) are in
`service.kit.zones`; this module looks the organisation up.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from service.kit import zones
from service.orgs.models import Organisation


class Reader(Protocol):
    """Who reads the times: a `User` row or the signed-in `Principal`."""

    @property
    def time_zone(self) -> str | None: ...

    @property
    def org_id(self) -> int | None: ...


def name_for_user(session: Session, user: Reader | None) -> str:
    """`zones.name_for` looking the user's organisation up (one primary-key get, cached by the session)."""
    org = None
    if user is not None and getattr(user, "time_zone", None) is None and getattr(user, "org_id", None):
        org = session.get(Organisation, user.org_id)
    return zones.name_for(user, org)


def org_zone(session: Session, org_id: int | None) -> str:
    """The zone of the organisation `org_id` (else the platform's): the zone a case's messages use."""
    org = session.get(Organisation, org_id) if org_id is not None else None
    return zones.name_for(None, org)
