"""The contact vault: consented contact addresses, encrypted, apart from reports."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, select

from service.intake.models import ContactVault
from service.kit.clock import now
from service.kit.crypto import seal, unseal
from service.kit.fastsql import FastQuery, session_connection


def store_contact(session: Session, *, reporter_id: int, report_id: int, channel: str, address: str) -> ContactVault:
    """Keep a consented address, encrypted with the vault key."""
    entry = ContactVault(reporter_id=reporter_id, report_id=report_id, channel=channel, address_sealed=seal(address))
    session.add(entry)
    return entry


def contact_for_report(session: Session, report_id: int) -> tuple[str, str] | None:
    """(channel, address) for a report whose reporter consented, else None."""
    entry = session.exec(select(ContactVault).where(ContactVault.report_id == report_id)).first()
    return (entry.channel, unseal(entry.address_sealed)) if entry else None


_HAS_CONTACT = FastQuery(select(ContactVault.id).where(ContactVault.report_id == bindparam("report_id")).limit(1))


def has_contact(session: Session, report_id: int) -> bool:
    """Whether the vault holds an address for the report (nothing is unsealed)."""
    return bool(_HAS_CONTACT.all(session_connection(session), {"report_id": report_id}))


def erase_for_reporter(session: Session, reporter_id: int) -> int:
    """Erase every contact address of a reporter (STOP). Returns how many were erased."""
    result = session.exec(delete(ContactVault).where(col(ContactVault.reporter_id) == reporter_id))
    return int(result.rowcount or 0)


def erase_for_report(session: Session, report_id: int) -> None:
    session.exec(delete(ContactVault).where(col(ContactVault.report_id) == report_id))


def schedule_erasure(session: Session, report_id: int, *, grace: timedelta = timedelta(days=14)) -> None:
    """On closure: erase the address after a short grace period (the worker does it)."""
    for entry in session.exec(select(ContactVault).where(ContactVault.report_id == report_id)).all():
        entry.erase_after = now() + grace
        session.add(entry)


def erase_due(session: Session) -> int:
    result = session.exec(delete(ContactVault).where(col(ContactVault.erase_after) <= now()))
    return int(result.rowcount or 0)
