"""The audit chain detects any change to a past entry."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from service.audit.service import record, verify


def test_chain_verifies_and_detects_tampering(session: Session) -> None:
    for i in range(5):
        record(session, actor="admin@x.org", action="case.view", object_type="report", object_id=i, detail={"n": i})
    session.commit()
    assert verify(session) == (True, None)
    session.execute(text("UPDATE audit_event SET actor = 'someone-else' WHERE id = 3"))
    session.commit()
    session.expire_all()
    intact, bad = verify(session)
    assert not intact and bad == 3


def test_deleting_an_entry_breaks_the_chain(session: Session) -> None:
    for i in range(3):
        record(session, actor="cli", action="org.create", object_id=i)
    session.commit()
    session.execute(text("DELETE FROM audit_event WHERE id = (SELECT MIN(id) FROM audit_event) + 1"))
    session.commit()
    session.expire_all()
    assert verify(session)[0] is False
