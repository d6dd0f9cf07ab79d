"""The bot's own state: message ids for the clean exit, and the pending exit offer.

Keyed by reporter (pseudonym row), never by Telegram user or chat id. Callers commit.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, delete, select

from bots.telegram.models import TelegramChat, TelegramReply, TelegramTrace
from service.kit.clock import now
from service.kit.crypto import seal, unseal
from service.kit.models import require_id
from service.reports.service import find_or_create_reporter

CHANNEL = "telegram"
# Telegram lets a bot delete messages in a private chat for 48 hours.
DELETE_WINDOW = timedelta(hours=48)


def reporter_id_for(session: Session, address: str) -> int:
    reporter, _new = find_or_create_reporter(session, channel=CHANNEL, address=address)
    return require_id(reporter)


def remember_messages(session: Session, *, reporter_id: int, message_ids: list[int]) -> None:
    for message_id in message_ids:
        session.add(TelegramTrace(reporter_id=reporter_id, message_id=message_id))


def offer_exit(session: Session, *, reporter_id: int, report_id: int | None, code: str) -> None:
    chat = session.exec(select(TelegramChat).where(TelegramChat.reporter_id == reporter_id)).first()
    chat = chat or TelegramChat(reporter_id=reporter_id)
    chat.exit_report_id, chat.exit_code_sealed, chat.updated_at = report_id, seal(code), now()
    session.add(chat)


def exit_code(session: Session, *, reporter_id: int) -> str | None:
    """The receipt code of a still-open exit offer (for the reminder), or None."""
    chat = session.exec(select(TelegramChat).where(TelegramChat.reporter_id == reporter_id)).first()
    if chat is None or chat.exit_code_sealed is None or chat.updated_at < now() - DELETE_WINDOW:
        return None
    return unseal(chat.exit_code_sealed)


def last_report_id(session: Session, *, reporter_id: int) -> int | None:
    """The report that just finished, while its exit offer is open (evidence may still be added)."""
    chat = session.exec(select(TelegramChat).where(TelegramChat.reporter_id == reporter_id)).first()
    if chat is None or chat.updated_at < now() - DELETE_WINDOW:
        return None
    return chat.exit_report_id


def close_exit(session: Session, *, reporter_id: int) -> None:
    session.exec(delete(TelegramChat).where(col(TelegramChat.reporter_id) == reporter_id))


def take_messages(session: Session, *, reporter_id: int) -> list[int]:
    """Every remembered message id still deletable, removed from the table."""
    rows = session.exec(
        select(TelegramTrace)
        .where(
            TelegramTrace.reporter_id == reporter_id,
            col(TelegramTrace.created_at) > now() - DELETE_WINDOW,
        )
        .order_by(col(TelegramTrace.message_id))
    ).all()
    ids = sorted({row.message_id for row in rows})
    session.exec(delete(TelegramTrace).where(col(TelegramTrace.reporter_id) == reporter_id))
    return ids


def remember_reply(session: Session, *, update_key: str, number: int, message_id: int) -> None:
    """Reply `number` to the update `update_key` went out as `message_id` (committed by the caller)."""
    known = session.exec(
        select(TelegramReply).where(TelegramReply.update_key == update_key, TelegramReply.seq == number)
    ).first()
    if known is None:
        session.add(TelegramReply(update_key=update_key, seq=number, message_id=message_id))


def replies_sent(session: Session, *, update_key: str) -> dict[int, int]:
    """The replies already sent to one update: reply number -> Telegram message id."""
    rows = session.exec(select(TelegramReply).where(TelegramReply.update_key == update_key)).all()
    return {row.seq: row.message_id for row in rows}


def purge(session: Session) -> int:
    """Forget message ids past the deletion window and stale exit offers (the worker calls this)."""
    cutoff = now() - DELETE_WINDOW
    n = session.exec(delete(TelegramTrace).where(col(TelegramTrace.created_at) < cutoff)).rowcount
    session.exec(delete(TelegramChat).where(col(TelegramChat.updated_at) < cutoff))
    session.exec(delete(TelegramReply).where(col(TelegramReply.created_at) < cutoff))
    return int(n or 0)
