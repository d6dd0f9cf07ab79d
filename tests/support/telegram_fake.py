"""Telegram at the network edge: a local fake Bot API server, and a person who writes to the bot.

The real python-telegram-bot talks to `FakeBotApi` over plain HTTP on 127.0.0.1
(TELEGRAM_API_BASE); every call is recorded. `TelegramUser` posts real Update JSON to
the app's webhook over real HTTP, as Telegram would.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx

BOT_TOKEN = "123456:TEST-fake-token-for-the-local-bot-api"
BOT_ID = 123456
WEBHOOK_PATH = "/webhooks/telegram"
SECRET = "test-webhook-secret-7f3a9c2e41"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeBotApi:
    """Answers getMe, sendMessage, editMessageText, answerCallbackQuery, deleteMessage, getFile
    (and file download), setWebhook, deleteWebhook, getUpdates; records every call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.updates: list[dict] = []  # served by getUpdates (poll mode)
        self.message_ids = itertools.count(1000)
        self.hold_get_me = False  # when True, getMe never answers (a Bot API that hangs)
        self.fail_methods: set[str] = set()
        # Runs before each call is answered; when it returns True the call is dropped unanswered
        # and unrecorded (a test kills the caller there: Telegram never took that call).
        self.before_answer: Callable[[Call], bool] | None = None
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.hold_get_me = False
        self.server.shutdown()
        self.server.server_close()

    # -- inspection ----------------------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent_texts(self) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.of("sendMessage")]

    def last_sent(self) -> Call:
        return self.of("sendMessage")[-1]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for the bot")
            time.sleep(0.02)

    # -- the server --------------------------------------------------------------------------------
    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict]:
        now = int(time.time())
        if method in self.fail_methods:
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error: fake"}
        if method == "getMe":
            while self.hold_get_me:
                time.sleep(0.05)
            return 200, {"ok": True, "result": {"id": BOT_ID, "is_bot": True, "first_name": "Samleng",
                                                 "username": "samleng_test_bot", "can_join_groups": False,
                                                 "can_read_all_group_messages": False,
                                                 "supports_inline_queries": False}}
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            message_id = int(params["message_id"]) if method == "editMessageText" else next(self.message_ids)
            message: dict[str, Any] = {
                "message_id": message_id, "date": now, "text": params.get("text", ""),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Samleng"},
            }
            if isinstance(params.get("reply_markup"), dict):
                message["reply_markup"] = params["reply_markup"]
            return 200, {"ok": True, "result": message}
        if method in ("answerCallbackQuery", "deleteMessage", "setWebhook", "deleteWebhook", "setMyCommands"):
            return 200, {"ok": True, "result": True}
        if method == "getFile":
            file_id = str(params["file_id"])
            data = self.files.get(file_id)
            if data is None:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return 200, {"ok": True, "result": {"file_id": file_id, "file_unique_id": file_id[::-1],
                                                 "file_size": len(data), "file_path": f"documents/{file_id}"}}
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self._lock:
                ready = [u for u in self.updates if u["update_id"] >= offset]
            if not ready:
                time.sleep(min(float(params.get("timeout") or 0), 0.2))
            return 200, {"ok": True, "result": ready}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _params(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type", "")
                if not raw:
                    return {}
                if ctype.startswith("application/json"):
                    return json.loads(raw)
                if ctype.startswith("multipart/form-data"):
                    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
                    out: dict[str, Any] = {}
                    for part in msg.iter_parts():
                        name = part.get_param("name", header="content-disposition")
                        out[name] = _decode(part.get_content() if part.get_content_type().startswith("text")
                                            else part.get_payload(decode=True).decode())
                    return out
                return {k: _decode(v) for k, v in parse_qsl(raw.decode(), keep_blank_values=True)}

            def _route(self) -> None:
                parts = unquote(self.path.split("?")[0]).strip("/").split("/")
                if len(parts) >= 3 and parts[0] == "file" and parts[1] == f"bot{BOT_TOKEN}":
                    file_id = parts[-1]
                    with fake._lock:
                        fake.calls.append(Call("downloadFile", {"file_id": file_id}))
                    data = fake.files.get(file_id)
                    self._send(200 if data is not None else 404, data or b"", "application/octet-stream")
                    return
                if len(parts) != 2 or parts[0] != f"bot{BOT_TOKEN}":
                    self._send(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
                    return
                method = parts[1]
                params = self._params()
                call = Call(method, params)
                if fake.before_answer is not None and fake.before_answer(call):
                    self.close_connection = True
                    return
                with fake._lock:
                    fake.calls.append(call)
                status, payload = fake._answer(method, params)
                call.result = payload.get("result")
                self._send(status, json.dumps(payload).encode())

            def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = _route  # noqa: N815
            do_GET = _route  # noqa: N815

        return Handler


_update_ids = itertools.count(500_000)


@dataclass
class TelegramUser:
    """A person in a private chat with the bot, posting real Update JSON to the webhook."""

    client: httpx.Client
    api: FakeBotApi
    user_id: int = 7_345_612_987
    first_name: str = "Chanthou"
    username: str = "chanthou_pp"
    language_code: str = "en"
    secret: str | None = SECRET
    posted: list[dict] = field(default_factory=list)

    @property
    def user(self) -> dict:
        return {"id": self.user_id, "is_bot": False, "first_name": self.first_name,
                "username": self.username, "language_code": self.language_code}

    @property
    def chat(self) -> dict:
        return {"id": self.user_id, "type": "private", "first_name": self.first_name, "username": self.username}

    def post(self, update: dict, *, secret: str | None | bool = True) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        token = self.secret if secret is True else secret
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        self.posted.append(update)
        return self.client.post(WEBHOOK_PATH, content=json.dumps(update), headers=headers)

    def message_update(self, **content: Any) -> dict:
        message = {"message_id": next(self.api.message_ids), "from": self.user, "chat": self.chat,
                   "date": int(time.time()), **content}
        return {"update_id": next(_update_ids), "message": message}

    def send(self, text: str, **extra: Any) -> httpx.Response:
        content: dict[str, Any] = {"text": text, **extra}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        response = self.post(self.message_update(**content))
        assert response.status_code == 200, response.text
        return response

    def press(self, label: str, *, message: Call | None = None) -> httpx.Response:
        """Press the inline button labelled `label` on the bot's last message that has it."""
        candidates = [message] if message else [
            c for c in reversed(self.api.of("sendMessage") + self.api.of("editMessageText"))
            if isinstance(c.params.get("reply_markup"), dict)]
        for call in candidates:
            for row in call.params["reply_markup"].get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return self.press_data(button["callback_data"], call)
        raise AssertionError(f"no button {label!r}")

    def press_data(self, data: str, call: Call) -> httpx.Response:
        message_id = int(call.params.get("message_id") or call.result["message_id"])
        message = {"message_id": message_id, "date": int(time.time()), "chat": self.chat,
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "Samleng"},
                   "text": call.params.get("text", ""), "reply_markup": call.params.get("reply_markup")}
        update = {"update_id": next(_update_ids), "callback_query": {
            "id": str(next(_update_ids) * 7), "from": self.user, "message": message,
            "chat_instance": "-4242", "data": data}}
        response = self.post(update)
        assert response.status_code == 200, response.text
        return response

    def buttons(self, call: Call | None = None) -> list[str]:
        call = call or self.api.last_sent()
        markup = call.params.get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
