"""Sliding-window rate limits stored in the database, so every process sees the same counts.

Shared by intake (failed lookups per sender), sign-in (failures per address) and the worker's purge."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Field, Session, SQLModel, col, delete, select

from service.kit.clock import now
from service.kit.crypto import rate_key
from service.kit.models import created_at_field


class RateEvent(SQLModel, table=True):
    """One counted attempt in a rate-limit bucket (bucket names are keyed hashes)."""

    __tablename__ = "rate_event"
    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=48, index=True)
    at: datetime = created_at_field()


def count(session: Session, bucket: str, window: timedelta) -> int:
    key = rate_key(bucket)
    return int(session.exec(select(func.count()).where(RateEvent.bucket == key, RateEvent.at >= now() - window)).one())


def hit(session: Session, bucket: str) -> None:
    session.add(RateEvent(bucket=rate_key(bucket)))


def purge(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    result = session.exec(delete(RateEvent).where(col(RateEvent.at) < now() - older_than))
    return int(result.rowcount or 0)
