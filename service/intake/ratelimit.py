"""Sliding-window rate limits stored in the database, so every process sees the same counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from service.intake.models import RateEvent
from service.kit.clock import now
from service.kit.crypto import rate_key


def count(session: Session, bucket: str, window: timedelta) -> int:
    key = rate_key(bucket)
    return int(session.exec(select(func.count()).where(RateEvent.bucket == key, RateEvent.at >= now() - window)).one())


def hit(session: Session, bucket: str) -> None:
    session.add(RateEvent(bucket=rate_key(bucket)))


def purge(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    result = session.exec(delete(RateEvent).where(col(RateEvent.at) < now() - older_than))  # type: ignore[call-overload]
    return int(result.rowcount or 0)
