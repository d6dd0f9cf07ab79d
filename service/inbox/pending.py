"""Updates stored before they are acknowledged, then processed from the database.

A channel that can redeliver (Telegram) stores the raw update here, encrypted, and
answers 200 only after the commit; a processor works through the rows without
`processed_at` and then wipes the payload. The unique (channel, external id) makes
a redelivery a no-op. See `bots/telegram/bot.py`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from service.inbox.models import PendingUpdate
from service.kit.clock import now
from service.kit.crypto import seal_bytes, unseal_bytes
from service.kit.models import require_id, stored_ids

MAX_ATTEMPTS = 5


def store_pending(
    session: Session, *, channel: str, external_id: str, payload: bytes, person: str | None = None
) -> tuple[int, bool]:
    """Store an update once. Returns (row id, True) when new, (row id, False) for a redelivery.

    `person` is the sender's pseudonym: `due_for_person` finds their unprocessed updates by it."""
    existing = session.exec(
        select(PendingUpdate.id).where(PendingUpdate.channel == channel, PendingUpdate.external_id == external_id)
    ).first()
    if existing is not None:
        return existing, False
    row = PendingUpdate(channel=channel, external_id=external_id, person=person, payload_sealed=seal_bytes(payload))
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # stored by another process meanwhile
        existing = session.exec(
            select(PendingUpdate.id).where(PendingUpdate.channel == channel, PendingUpdate.external_id == external_id)
        ).one()
        return stored_ids([existing])[0], False
    return require_id(row), True


def pending_ids(session: Session, *, channel: str, limit: int = 500) -> list[int]:
    """Rows still to be processed, oldest first."""
    return stored_ids(
        session.exec(
            select(PendingUpdate.id)
            .where(
                PendingUpdate.channel == channel,
                col(PendingUpdate.processed_at).is_(None),
            )
            .order_by(col(PendingUpdate.id))
            .limit(limit)
        ).all()
    )


def _update_order(external_id: str, row_id: int) -> tuple[int, int]:
    head = external_id.split(":", 1)[0]
    return (int(head) if head.lstrip("-").isdigit() else 0, row_id)


def due_for_person(session: Session, *, channel: str, person: str, limit: int = 50) -> list[tuple[int, bytes]]:
    """The person's unprocessed updates, decrypted, in update order (the platform's update id, which
    leads the external id, then the order they were stored in). Whichever process holds the
    person's lock handles them all, oldest first, so their order does not depend on which process
    a webhook request reached."""
    rows = session.exec(
        select(PendingUpdate.id, PendingUpdate.external_id, PendingUpdate.payload_sealed)
        .where(
            PendingUpdate.channel == channel,
            PendingUpdate.person == person,
            col(PendingUpdate.processed_at).is_(None),
        )
        .order_by(col(PendingUpdate.id))
        .limit(limit)
    ).all()
    ordered = sorted(rows, key=lambda r: _update_order(r[1], r[0]))
    out: list[tuple[int, bytes]] = []
    for row_id, _, sealed in ordered:
        assert row_id is not None, "a primary key"
        if sealed is not None:
            out.append((row_id, unseal_bytes(sealed)))
    return out


def load_payload(session: Session, row_id: int) -> bytes | None:
    """The decrypted payload of an unprocessed row, or None when it is done or gone."""
    row = session.get(PendingUpdate, row_id)
    if row is None or row.processed_at is not None or row.payload_sealed is None:
        return None
    return unseal_bytes(row.payload_sealed)


def mark_processed(session: Session, row_id: int, *, ok: bool = True) -> bool:
    """Done (payload wiped), or one failed attempt; gives up after MAX_ATTEMPTS. True when finished."""
    row = session.get(PendingUpdate, row_id)
    if row is None:
        return True
    row.attempts += 1
    if ok or row.attempts >= MAX_ATTEMPTS:
        row.processed_at = now()
        row.payload_sealed = None
    session.add(row)
    return row.processed_at is not None


def purge_processed(session: Session, *, older_than: timedelta = timedelta(days=7)) -> int:
    """Drop finished rows once the platform can no longer redeliver them (Telegram: 24 hours)."""
    result = session.exec(
        delete(PendingUpdate).where(
            col(PendingUpdate.processed_at).is_not(None),
            col(PendingUpdate.received_at) < now() - older_than,
        )
    )
    return int(result.rowcount or 0)
