"""The Telegram adapter: python-telegram-bot v22 without an Updater, fed from the inbox.

`POST /webhooks/telegram` stores each update (encrypted) in `pending_update` and
answers 200; `TelegramBot` processes the stored rows: at start-up (so a crash right
after the 200 loses nothing), as the webhook hands them over, and on a periodic sweep
(retrying failures a few times). Updates of one person are processed in order, those
of different people side by side: in one process by a lock per person in memory; across
several `serve` processes on PostgreSQL by an advisory lock on the person's pseudonym
(`service.inbox.locks`), under which the holder handles every stored, unprocessed
update of that person in update order, whichever process stored it.

The handlers translate Telegram into the one intake dialogue (`service.intake`) and
render its `Reply` with inline keyboards. Telegram user and chat ids live only in
memory while an update is handled: the database sees the pseudonym
`HMAC(key, "telegram:" + user id)`, and the chat id only inside the vault, with consent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session, select
from telegram import CallbackQuery, Document, InlineKeyboardMarkup, Message, PhotoSize, Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

import service.models  # noqa: F401  (every table, for foreign keys in a bare `samleng serve`)
from bots.telegram import keyboards, texts
from bots.telegram import service as state
from service.agents.service import LinkCodeInvalid, agent_for, looks_like_link_code, redeem_link_code
from service.config import Settings
from service.evidence import service as evidence
from service.inbox import pending
from service.inbox.locks import PersonLocks
from service.inbox.writer import Writer
from service.intake import service as intake
from service.intake.language import from_tag
from service.intake.models import Conversation
from service.intake.schemas import InboundMessage, Reply
from service.kit.clock import as_utc, now
from service.kit.crypto import pseudonym
from service.kit.i18n import gettext
from service.kit.masking import clean_text
from service.kit.models import require_id
from service.ops import metrics
from service.places.models import Place
from service.places.service import nearest_place
from service.reports import service as reports
from service.reports.models import Report, Reporter

log = logging.getLogger(__name__)
CHANNEL = "telegram"
SWEEP_SECONDS = 30.0
ALLOWED_UPDATES = ("message", "callback_query")
# PTB would log whole updates (ids, text) on some errors: its own loggers stay silent;
# our error handler logs the update id and the exception type only.
_PTB_LOGGERS = (
    "telegram.ext",
    "telegram.ext.Application",
    "telegram.ext.ExtBot",
    "telegram.Bot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "telegram.ext.Updater",
)
PRIVATE = filters.ChatType.PRIVATE


def silence_library_logs() -> None:
    for name in _PTB_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def update_key(data: dict) -> str | None:
    """The idempotency key of an update we handle, or None for kinds we ignore.

    `update_id` plus the message date or callback id: Telegram may restart update ids at
    random after a week without updates, so the id alone could collide with an old one.
    """
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("update_id missing")
    message = data.get("message")
    if isinstance(message, dict):
        chat = message.get("chat")
        if not isinstance(chat, dict) or chat.get("type") != "private":
            return None  # groups and channels: the bot does not take reports there
        return f"{update_id}:{int(message.get('date') or 0)}"
    query = data.get("callback_query")
    if isinstance(query, dict):
        return f"{update_id}:{str(query.get('id') or '')[:40]}"
    return None


def sender_of(data: dict) -> int | None:
    """The Telegram user id of an update's sender (a message's or a button press's), if any."""
    for kind in ("message", "callback_query"):
        content = data.get(kind)
        if isinstance(content, dict) and isinstance(content.get("from"), dict):
            sender = content["from"].get("id")
            if isinstance(sender, int) and not isinstance(sender, bool):
                return sender
    return None


def person_of(data: dict) -> str | None:
    """The sender's pseudonym: the key of their stored updates' order and of their lock."""
    sender = sender_of(data)
    return pseudonym(CHANNEL, str(sender)) if sender is not None else None


def build_application(settings: Settings) -> Application:
    """A PTB Application with no Updater, talking to TELEGRAM_API_BASE (default api.telegram.org)."""
    if not settings.telegram_bot_token:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    base = (settings.telegram_api_base or "https://api.telegram.org").rstrip("/")
    silence_library_logs()
    return (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .updater(None)
        .build()
    )


@dataclass
class _Work:
    """One update being handled: what must be written when it is done (never the raw ids)."""

    key: str
    address: str  # the Telegram user id (private chat: also the chat id); memory only
    received_at: datetime
    message_ids: list[int] = field(default_factory=list)
    language_hint: str | None = None  # the Telegram client's language (km, en, pt), if one we speak
    failed: bool = False
    forget: bool = False  # the clean exit ran: remember nothing more
    # Replies: the n-th `say` of this update is reply n. A stored update handled again (the
    # server died half-way, or an earlier try failed) skips the replies already sent.
    replayed: bool = False
    replies: int = 0
    answered: dict[int, int] = field(default_factory=dict)  # reply number -> Telegram message id


_work: ContextVar[_Work] = ContextVar("telegram_work")


@dataclass
class _PersonLock:
    """One person's updates, one at a time in this process; `users`: the tasks holding or awaiting it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


# The language buttons send the shared dialogue's language keyword.
LANGUAGE_KEYWORDS = {"km": "KH", "en": "EN", "pt": "PT"}


@dataclass(frozen=True)
class _Peek:
    step: str | None
    language: str
    report_id: int | None


class TelegramBot:
    """Owns the PTB Application and the processing of stored updates for one web process."""

    def __init__(self, settings: Settings, writer: Writer) -> None:
        self.settings, self.writer = settings, writer
        self.application = build_application(settings)
        self._register(self.application)
        self._queue: asyncio.Queue[tuple[int, bytes | None]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, _PersonLock] = {}
        self.person_locks = PersonLocks(writer.engine)
        self._slots: asyncio.Semaphore | None = None
        self.ready = False
        self.processed = 0

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._slots = asyncio.Semaphore(self.settings.telegram_concurrency)
        self._task = asyncio.create_task(self._run(), name="telegram-processor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        # Still running after that: cancelled, so that nothing of this bot runs once stop returns
        # (its writer stops next). Their updates stay stored, not done: the next start handles them
        # again, and the replies they had already sent are remembered and not sent twice.
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self.ready:
            with contextlib.suppress(Exception):
                await self.application.shutdown()
            self.ready = False
        self.person_locks.close()

    def enqueue(self, row_id: int, payload: bytes) -> None:
        """Hand a freshly stored update to the processor (it is safe in the database already)."""
        if self._queue is not None and row_id not in self._inflight:
            self._inflight.add(row_id)
            self._queue.put_nowait((row_id, payload))

    async def _run(self) -> None:
        delay = 1.0
        while not self.ready:
            try:
                await self.application.initialize()  # getMe
                self.ready = True
            except Exception as exc:  # Bot API unreachable: updates wait safely in the inbox
                log.warning("telegram: cannot reach the Bot API yet (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
        assert self._queue is not None
        await self._sweep()
        while True:
            try:
                row_id, payload = await asyncio.wait_for(self._queue.get(), timeout=SWEEP_SECONDS)
            except asyncio.TimeoutError:
                await self._sweep()
                continue
            await self._dispatch(row_id, payload)

    async def _sweep(self) -> None:
        try:
            ids = await self.writer.run(lambda s: pending.pending_ids(s, channel=CHANNEL))
        except Exception as exc:
            log.warning("telegram: pending sweep failed: %s", type(exc).__name__)
            return
        for row_id in ids:
            if row_id not in self._inflight:
                self._inflight.add(row_id)
                await self._dispatch(row_id, None)

    async def _dispatch(self, row_id: int, payload: bytes | None) -> None:
        assert self._slots is not None
        replayed = payload is None  # from the store (start-up or sweep): perhaps handled before
        try:
            if payload is None:
                payload = await self.writer.run(lambda s: pending.load_payload(s, row_id))
            if payload is None:
                self._inflight.discard(row_id)
                return
            data = json.loads(payload)
            update = Update.de_json(data, self.application.bot)
            key = update_key(data) or str(data.get("update_id"))
        except Exception as exc:
            log.warning("telegram: stored update #%s unreadable: %s", row_id, type(exc).__name__)
            await self._finish(row_id, None, ok=True)
            return
        await self._slots.acquire()
        user = update.effective_user
        name = str(user.id) if user else ""
        lock = self._locks.setdefault(name, _PersonLock())
        lock.users += 1  # counted until its task ends: the lock stays while anyone waits on it
        task = asyncio.create_task(self._process(row_id, update, key, name, lock, replayed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(
        self, row_id: int, update: Update, key: str, name: str, lock: _PersonLock, replayed: bool = False
    ) -> None:
        assert self._slots is not None
        try:
            async with lock.lock:
                user = update.effective_user
                person = pseudonym(CHANNEL, str(user.id)) if user is not None else None
                async with self.person_locks.hold(person):
                    for due_id, due_update, due_key in await self._due(row_id, update, key, person):
                        # An update this process did not just receive was stored earlier and may
                        # have been half handled by a process that died: its replies are looked up.
                        await self._handle(due_id, due_update, due_key, replayed=replayed or due_id != row_id)
        except Exception as exc:
            log.warning("telegram update %s not finished: %s", update.update_id, type(exc).__name__)
        finally:
            self._slots.release()
            self._inflight.discard(row_id)
            # Dropped only when no other task of this person holds or awaits it. (Dropped when
            # merely unlocked, a waiter about to take it would hold a lock nobody else finds: the
            # person's next update would then run beside it, and re-send its replies.)
            lock.users -= 1
            if lock.users == 0 and self._locks.get(name) is lock:
                del self._locks[name]

    async def _due(self, row_id: int, update: Update, key: str, person: str | None) -> list[tuple[int, Update, str]]:
        """Under the person's lock: their unprocessed updates, oldest first, this one among them
        unless another process has handled it already (then it is skipped, never handled twice)."""

        def unit(session: Session) -> tuple[list[tuple[int, bytes]], bool]:
            due = pending.due_for_person(session, channel=CHANNEL, person=person) if person else []
            mine = any(due_id == row_id for due_id, _ in due) or pending.load_payload(session, row_id) is not None
            return due, mine

        due, mine = await self.writer.run(unit)
        out: list[tuple[int, Update, str]] = []
        for due_id, payload in due:
            if due_id == row_id:
                out.append((row_id, update, key))
                continue
            try:
                data = json.loads(payload)
                out.append(
                    (due_id, Update.de_json(data, self.application.bot), update_key(data) or str(data["update_id"]))
                )
            except Exception as exc:
                log.warning("telegram: stored update #%s unreadable: %s", due_id, type(exc).__name__)
                await self._finish(due_id, None, ok=True)
        if mine and all(due_id != row_id for due_id, _, _ in out):
            out.append((row_id, update, key))  # stored without a person (before they were recorded)
        return out

    async def _handle(self, row_id: int, update: Update, key: str, *, replayed: bool = False) -> None:
        """Handle one stored update and mark it done (or one failed attempt). `replayed`: perhaps
        handled before (start-up, sweep, another process's update): the replies already sent are
        read first and not sent again."""
        work: _Work | None = None
        user = update.effective_user
        if user is not None and not user.is_bot:
            message = update.effective_message
            stamp = message.date if message is not None and update.message is not None else now()
            work = _Work(
                key=key,
                address=str(user.id),
                received_at=as_utc(stamp),
                language_hint=from_tag(user.language_code),
                replayed=replayed,
            )
            if replayed:
                work.answered = await self.writer.run(lambda s: state.replies_sent(s, update_key=key))
            if update.message is not None:
                work.message_ids.append(update.message.message_id)
            token = _work.set(work)
            try:
                await self.application.process_update(update)
            finally:
                _work.reset(token)
        await self._finish(row_id, work, ok=work is None or not work.failed)

    async def _finish(self, row_id: int, work: _Work | None, *, ok: bool) -> None:
        def unit(session: Session) -> None:
            if work is not None and work.message_ids and not work.forget:
                state.remember_messages(
                    session, reporter_id=state.reporter_id_for(session, work.address), message_ids=work.message_ids
                )
            finished = pending.mark_processed(session, row_id, ok=ok)
            if finished and not ok:
                log.warning("telegram: stored update #%s given up after %d attempts", row_id, pending.MAX_ATTEMPTS)

        await self.writer.run(unit)
        self.processed += 1
        metrics.INBOUND.labels(CHANNEL, "processed" if ok else "retry").inc()

    # -- handlers ------------------------------------------------------------------------------
    def _register(self, app: Application) -> None:
        commands = {
            "start": self.on_start,
            "language": self.on_language,
            "report": self.on_report,
            "status": self.on_status,
            "delete": self.on_delete,
            "help": self.on_help,
            "cancel": self.on_cancel,
            "link": self.on_link,
        }
        for name, callback in commands.items():
            app.add_handler(CommandHandler(name, callback, filters=PRIVATE))
        app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, self.on_help))
        app.add_handler(MessageHandler(PRIVATE & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(PRIVATE & (filters.PHOTO | filters.Document.ALL), self.on_file))
        app.add_handler(MessageHandler(PRIVATE & filters.LOCATION, self.on_location))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(MessageHandler(PRIVATE, self.on_other))
        app.add_error_handler(self.on_error)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.warning("telegram update %s failed: %s", update_id, type(context.error).__name__)
        work = _work.get(None)
        if work is not None:
            # Worth another try later only when the Bot API could not be reached or the database
            # failed; a refusal (400: message gone, 403: bot blocked) would only fail again.
            error = context.error
            work.failed = not isinstance(error, (BadRequest, Forbidden)) and (
                isinstance(error, (NetworkError, OSError)) or type(error).__module__.startswith("sqlalchemy")
            )

    # -- helpers -------------------------------------------------------------------------------
    def _peek(self, session: Session, address: str, telegram_language: str | None) -> _Peek:
        """Where this person is in the dialogue, and their language (read only)."""
        reporter = session.exec(select(Reporter).where(Reporter.pseudonym == pseudonym(CHANNEL, address))).first()
        fallback = from_tag(telegram_language) or "en"
        if reporter is None:
            return _Peek(None, fallback, None)
        conversation = session.exec(select(Conversation).where(Conversation.reporter_id == reporter.id)).first()
        if conversation is not None and (conversation.expires_at is None or as_utc(conversation.expires_at) > now()):
            return _Peek(conversation.step, conversation.language, conversation.report_id)
        return _Peek(None, reporter.language or fallback, None)

    async def peek(self, update: Update) -> _Peek:
        work = _work.get()
        code = update.effective_user.language_code if update.effective_user else None
        return await self.writer.run(lambda s: self._peek(s, work.address, code))

    async def say(self, update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
        """Send one reply, unless this update's reply of the same number was sent before (the
        update is being handled again after a crash or a failed try): then None, nothing sent.
        Each reply is remembered (update key, number, message id) right after Telegram took it."""
        chat = update.effective_chat
        assert chat is not None
        work = _work.get()
        number = work.replies
        work.replies += 1
        if number in work.answered:
            if not work.forget:
                work.message_ids.append(work.answered[number])
            metrics.REPLIES_NOT_REPEATED.inc()
            log.info("telegram: reply %d to a re-handled update was sent before: not sent again", number)
            return None
        sent = await self.application.bot.send_message(chat.id, text, reply_markup=markup)
        await self.writer.run(
            lambda s: state.remember_reply(s, update_key=work.key, number=number, message_id=sent.message_id)
        )
        if not work.forget:
            work.message_ids.append(sent.message_id)
        return sent

    async def intake(self, text: str, *, place_id: int | None = None) -> Reply:
        """One message into the shared dialogue (idempotent on the update key)."""
        work = _work.get()
        message = InboundMessage(
            channel=CHANNEL,
            external_id=work.key,
            address=work.address,
            text=text,
            received_at=work.received_at,
            place_id=place_id,
            language_hint=work.language_hint,
        )

        def unit(session: Session) -> Reply:
            assisted = agent_for(session, pseudonym(CHANNEL, work.address)) is not None
            return intake.receive(session, replace(message, assisted=assisted), settings=self.settings)

        reply = await self.writer.run(unit)
        metrics.INBOUND.labels(CHANNEL, "duplicate" if reply.duplicate else reply.kind).inc()
        if reply.kind.startswith("report") and not reply.duplicate:
            metrics.REPORTS.labels(CHANNEL).inc()
        return reply

    async def render(self, update: Update, reply: Reply) -> None:
        if not reply.text:
            return  # opted out with STOP: stored, no answer
        markup = keyboards.for_reply(reply)
        if reply.step == "place":
            menu = await self.writer.run(lambda s: keyboards.place_menu(s, reply.language))
            markup = keyboards.for_reply(reply, menu)
        await self.say(update, reply.text, markup)
        if reply.receipt_code:
            work = _work.get()
            await self.writer.run(
                lambda s: state.offer_exit(
                    s,
                    reporter_id=state.reporter_id_for(s, work.address),
                    report_id=reply.report_id,
                    code=reply.receipt_code or "",
                )
            )
            await self.say(update, gettext(reply.language, texts.EXIT_OFFER), keyboards.exit_offer(reply.language))

    # -- commands --------------------------------------------------------------------------------
    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.args:
            code = looks_like_link_code(" ".join(context.args))
            if code is not None:
                await self._link(update, code)
                return
        peek = await self.peek(update)
        await self.say(update, gettext(peek.language, texts.GREETING), keyboards.language_menu())

    async def on_language(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        peek = await self.peek(update)
        await self.say(update, gettext(peek.language, texts.CHOOSE_LANGUAGE), keyboards.language_menu())

    async def on_report(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        work = _work.get()
        await self.writer.run(lambda s: intake.end_conversation(s, channel=CHANNEL, address=work.address))
        peek = await self.peek(update)
        await self.say(update, gettext(peek.language, texts.REPORT_PROMPT))

    async def on_status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.render(update, await self.intake(("STATUS " + " ".join(context.args or [])).strip()))

    async def on_delete(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.render(update, await self.intake(("DELETE " + " ".join(context.args or [])).strip()))

    async def on_help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        peek = await self.peek(update)
        await self.say(update, gettext(peek.language, texts.HELP))

    async def on_cancel(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        peek = await self.peek(update)
        work = _work.get()
        ended = await self.writer.run(lambda s: intake.end_conversation(s, channel=CHANNEL, address=work.address))
        await self.say(update, gettext(peek.language, texts.CANCELLED if ended else texts.NOTHING_TO_CANCEL))

    async def on_link(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        code = looks_like_link_code(" ".join(context.args or []))
        await self._link(update, code or "")

    async def _link(self, update: Update, code: str) -> None:
        work = _work.get()
        peek = await self.peek(update)
        try:
            await self.writer.run(lambda s: redeem_link_code(s, code=code, pseudonym=pseudonym(CHANNEL, work.address)))
        except LinkCodeInvalid:
            await self.say(update, gettext(peek.language, texts.LINK_INVALID))
            return
        log.info("telegram: outreach agent linked")
        await self.say(update, gettext(peek.language, texts.LINKED))

    # -- messages --------------------------------------------------------------------------------
    async def on_text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        text = clean_text(update.message.text or "")[: self.settings.max_body_chars]
        code = looks_like_link_code(text)
        if code is not None:
            await self._link(update, code)
            return
        await self.render(update, await self.intake(text))

    async def on_other(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        peek = await self.peek(update)
        await self.say(update, gettext(peek.language, texts.UNSUPPORTED))

    async def on_location(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None and message.location is not None
        work = _work.get()
        lat, lon = message.location.latitude, message.location.longitude
        # The coordinates leave the chat and this process: delete the message, keep only a place.
        with contextlib.suppress(TelegramError):
            await message.delete()
        if message.message_id in work.message_ids:
            work.message_ids.remove(message.message_id)
        peek = await self.peek(update)
        if peek.step != "place":
            await self.say(update, gettext(peek.language, texts.LOCATION_NOT_NOW))
            return

        def nearest(session: Session, lat: float = lat, lon: float = lon) -> tuple[int, str] | None:
            place = nearest_place(session, lat, lon)
            if place is None:
                return None
            return require_id(place), (place.name_km if peek.language == "km" else place.name_en)

        found = await self.writer.run(nearest)
        del lat, lon, nearest  # the coordinates go with the last reference (the function's defaults)
        if found is None:
            await self.say(update, gettext(peek.language, texts.LOCATION_NO_PLACE))
            return
        await self.say(update, gettext(peek.language, texts.LOCATION_USED, place=found[1]))
        await self.render(update, await self.intake("", place_id=found[0]))

    async def on_file(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None
        work = _work.get()
        peek = await self.peek(update)
        limit = self.settings.evidence_max_bytes
        item: PhotoSize | Document
        if message.photo:
            item = message.photo[-1]  # the largest size Telegram made
            declared = "image/jpeg"
        else:
            assert message.document is not None
            item, declared = message.document, (message.document.mime_type or "")
        if declared not in evidence.ACCEPTED_MIME:
            await self.say(update, gettext(peek.language, texts.EVIDENCE_TYPE))
            return
        if item.file_size and item.file_size > limit:
            await self.say(update, gettext(peek.language, texts.EVIDENCE_TOO_LARGE, limit=limit // 1_000_000))
            return
        caption = clean_text(message.caption or "")[: self.settings.max_body_chars]
        report_id = peek.report_id
        if report_id is None:
            report_id = await self.writer.run(
                lambda s: state.last_report_id(s, reporter_id=state.reporter_id_for(s, work.address))
            )
        reply: Reply | None = None
        if report_id is None:
            if not caption:
                await self.say(update, gettext(peek.language, texts.EVIDENCE_NO_REPORT))
                return
            reply = await self.intake(caption)  # the caption is the story: a new report
            report_id = reply.report_id
            caption = ""
            if report_id is None:  # the caption was a keyword (HELP, STATUS, STOP...): its answer, and the
                await self.render(update, reply)  # file is not kept (no report to keep it with)
                return
        file = await item.get_file()
        data = bytes(await file.download_as_bytearray())

        def store(session: Session, data: bytes = data) -> None:
            evidence.store_evidence(session, report_id=report_id, data=data, settings=self.settings)
            report = session.get(Report, report_id)
            if caption and report is not None and report.status != "withdrawn":
                reports.append_narrative(session, report, caption)

        try:
            await self.writer.run(store)
        except evidence.EvidenceRefused as refused:
            msgid = {"too_large": texts.EVIDENCE_TOO_LARGE, "type": texts.EVIDENCE_TYPE}.get(
                refused.reason, texts.EVIDENCE_UNREADABLE
            )
            await self.say(update, gettext(peek.language, msgid, limit=limit // 1_000_000))
        else:
            await self.say(update, gettext(peek.language, texts.EVIDENCE_SAVED))
        finally:
            del data, store  # the file's bytes go with the last reference (the function's default)
        if reply is not None:
            await self.render(update, reply)

    # -- buttons ---------------------------------------------------------------------------------
    async def on_callback(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        kind, _, rest = (query.data or "").partition(":")
        if kind == "l":
            await self._language(update, query, rest)
        elif kind == "x":
            await self._exit(update, query, rest)
        elif kind in ("a", "p", "c", "pc"):
            await self._answer(update, query, kind, rest)
        else:
            await query.answer()

    async def _language(self, update: Update, query: CallbackQuery, language: str) -> None:
        await query.answer()
        if language not in LANGUAGE_KEYWORDS:
            return
        reply = await self.intake(LANGUAGE_KEYWORDS[language])
        if reply.step is not None:
            await self.render(update, reply)
        else:
            await self.say(update, gettext(language, texts.GREETING))

    async def _answer(self, update: Update, query: CallbackQuery, kind: str, rest: str) -> None:
        peek = await self.peek(update)
        step = rest.partition(":")[0] if kind == "a" else "place"
        if peek.step is None or peek.step != step:
            await query.answer(gettext(peek.language, texts.ALREADY_ANSWERED))
            return
        await query.answer()
        question = query.message.text if query.message is not None and hasattr(query.message, "text") else ""
        if kind == "pc" or (kind == "p" and await self._has_children(int(rest or 0))):
            menu = await self.writer.run(
                lambda s: keyboards.place_menu(
                    s, peek.language, int(rest) if kind == "p" else None, countries=kind == "pc"
                )
            )
            await query.edit_message_text(question or "?", reply_markup=menu.markup)
            return
        if kind == "a":
            answer = rest.partition(":")[2]
            label: str | None = self._label(query, query.data or "") or answer
            place_id = None
        else:
            place_id = int(rest or 0)
            label = await self.writer.run(lambda s: self._place_name(s, place_id, peek.language))
            if label is None:
                return
            answer = ""
        if question:
            # The question keeps the chosen answer and loses its buttons.
            await query.edit_message_text(question + "\n\n" + gettext(peek.language, texts.CHOSEN, answer=label))
        await self.render(update, await self.intake(answer, place_id=place_id))

    async def _has_children(self, place_id: int) -> bool:
        return await self.writer.run(
            lambda s: s.exec(select(Place.id).where(Place.parent_id == place_id)).first() is not None
        )

    @staticmethod
    def _place_name(session: Session, place_id: int, language: str) -> str | None:
        place = session.get(Place, place_id)
        if place is None:
            return None
        return place.name_km if language == "km" and place.name_km else place.name_en

    @staticmethod
    def _label(query: CallbackQuery, data: str) -> str | None:
        message = query.message
        markup = getattr(message, "reply_markup", None)
        for row in getattr(markup, "inline_keyboard", ()) or ():
            for button in row:
                if button.callback_data == data:
                    return button.text
        return None

    async def _exit(self, update: Update, query: CallbackQuery, action: str) -> None:
        work = _work.get()
        peek = await self.peek(update)
        language = peek.language
        if action == "keep":
            await self.writer.run(lambda s: state.close_exit(s, reporter_id=state.reporter_id_for(s, work.address)))
            await query.answer()
            with contextlib.suppress(BadRequest):
                await query.edit_message_text(gettext(language, texts.EXIT_KEPT))
            return
        if action == "ask":
            code = await self.writer.run(
                lambda s: state.exit_code(s, reporter_id=state.reporter_id_for(s, work.address))
            )
            if code is None:
                await query.answer(gettext(language, texts.EXIT_EXPIRED))
                return
            await query.answer()
            await query.edit_message_text(
                gettext(language, texts.EXIT_REMINDER, code=code), reply_markup=keyboards.exit_confirm(language)
            )
            return
        if action != "go":
            await query.answer()
            return

        def take(session: Session) -> list[int]:
            reporter_id = state.reporter_id_for(session, work.address)
            state.close_exit(session, reporter_id=reporter_id)
            return state.take_messages(session, reporter_id=reporter_id)

        message_ids = await self.writer.run(take)
        if query.message is not None:
            message_ids = sorted({*message_ids, query.message.message_id})
        work.forget, work.message_ids = True, []
        await query.answer(gettext(language, texts.EXIT_DONE))
        chat = update.effective_chat
        assert chat is not None
        deleted = 0
        for message_id in message_ids:
            try:
                deleted += bool(await self.application.bot.delete_message(chat.id, message_id))
            except BadRequest:  # already gone, or older than 48 hours
                continue
        log.info("telegram: clean exit deleted %d of %d messages", deleted, len(message_ids))
