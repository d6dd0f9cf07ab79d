"""The system as a deployer runs it: `samleng migrate`, `serve` and `worker` as separate OS processes.

A `Deployment` is one fresh, migrated database (SQLite file or a new PostgreSQL database),
its own spool, var and evidence folders, and the outside world faked at the network edge
only: Twilio's REST API (`TWILIO_API_BASE`), the Telegram Bot API (`TELEGRAM_API_BASE`), an
SMTP server (aiosmtpd) and a webhook receiver. Every process runs this checkout's code:
`[sys.executable, "-m", "service.cli", ...]` with cwd and PYTHONPATH at the repository root.

Process output goes to files (never a pipe that could fill up); `logs()` reads them, and
every failed wait attaches them to its assertion message.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.support.database import TEST_KEYS
from tests.support.receiver import WebhookReceiver
from tests.support.processes import stop
from tests.support.server import free_port
from tests.support.smtp import SmtpServer
from tests.support.telegram_fake import BOT_TOKEN, SECRET, FakeBotApi, TelegramUser
from tests.support.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi, Phone

DEMO_PASSWORD = "samleng-demo-password"  # service/demo.py: public, refused in production
ROOT = Path(__file__).resolve().parents[2]
TWILIO_FROM = "+85523000000"
# Generous: two cores shared by many test processes; a wait ends as soon as its condition holds.
WAIT = 90.0
START = 120.0
_OWN_PREFIXES = ("SAMLENG_", "TWILIO_", "TELEGRAM_")


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "service.cli", *args]


def wait_until(predicate: Callable[[], Any], *, timeout: float = WAIT, interval: float = 0.1,
               what: str = "condition", logs: Callable[[], str] | None = None) -> Any:
    """Poll until `predicate()` is truthy; returns its value. On timeout: AssertionError with the logs."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}"
                                 + (f"\n{logs()}" if logs else ""))
        time.sleep(interval)


class Proc:
    """One OS process with its output in a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then SIGKILL if it has not gone after `timeout` seconds; returns the exit code."""
        stop(self.popen, timeout=timeout)
        self._log.close()
        return self.popen.returncode


class Deployment:
    """One deployed Samleng on loopback: a database, serve, worker and the fakes at the edge."""

    def __init__(self, backend: str, database_url: str, workdir: Path) -> None:
        self.backend = backend
        self.database_url = database_url
        self.workdir = workdir
        self.log_dir = workdir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.spool_dir = workdir / "spool"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.twilio = FakeTwilioApi()
        self.twilio.start()
        self.telegram = FakeBotApi()
        self.telegram.start()
        self.smtp = SmtpServer()
        self.webhooks = WebhookReceiver()
        self.serve: Proc | None = None
        self.worker: Proc | None = None
        self.finished: list[Proc] = []  # stopped processes, kept for their logs
        self.client = httpx.Client(base_url=self.base_url, timeout=60)
        self._engine: Engine | None = None
        self.env = self._base_env()

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
        env.update(TEST_KEYS)
        env.update({
            "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
            "SAMLENG_ENV": "test", "SAMLENG_DATABASE_URL": self.database_url,
            "SAMLENG_PUBLIC_URL": self.base_url, "SAMLENG_VAR_DIR": str(self.workdir / "var"),
            "SAMLENG_SPOOL_DIR": str(self.spool_dir), "SAMLENG_EVIDENCE_DIR": str(self.workdir / "evidence"),
            "SAMLENG_SMS_DRIVER": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": TWILIO_FROM, "TWILIO_API_BASE": self.twilio.base_url,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE": self.telegram.base_url, "TELEGRAM_BOT_USERNAME": "samleng_test_bot",
            "SAMLENG_SMTP_URL": self.smtp.url, "SAMLENG_MAIL_FROM": "samleng@samleng.test",
            "SAMLENG_LOG_LEVEL": "INFO", "SAMLENG_OUTBOX_TIMEOUT": "10",
        })
        return env

    # -- processes ----------------------------------------------------------------------------------
    def cli(self, *args: str, env: dict[str, str] | None = None, input: str | None = None,  # noqa: A002
            timeout: float = START, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one `samleng` command to completion (as its own process)."""
        done = subprocess.run(cli_command(*args), cwd=ROOT, env={**self.env, **(env or {})}, input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"samleng {' '.join(args)} exited {done.returncode}\n"
                                 f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
        return done

    def migrate(self) -> None:
        self.cli("migrate")

    def start_serve(self, **env: str) -> Proc:
        assert self.serve is None or not self.serve.alive, "serve is already running"
        proc = Proc("serve", cli_command("serve", "--host", "127.0.0.1", "--port", str(self.port)),
                    {**self.env, **env}, self.log_dir)
        self.serve = proc

        def up() -> bool:
            if not proc.alive:
                raise AssertionError(f"serve exited {proc.popen.returncode}\n{self.logs()}")
            try:
                return self.client.get("/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        wait_until(up, timeout=START, interval=0.2, what="serve to answer /healthz", logs=self.logs)
        return proc

    def start_worker(self, *, interval: float = 0.2, **env: str) -> Proc:
        assert self.worker is None or not self.worker.alive, "the worker is already running"
        self.worker = Proc("worker", cli_command("worker", "--interval", str(interval)), {**self.env, **env},
                           self.log_dir)
        return self.worker

    def stop_worker(self) -> int:
        assert self.worker is not None
        code = self.worker.stop()
        self.finished.append(self.worker)
        self.worker = None
        return code

    def stop_serve(self) -> int:
        assert self.serve is not None
        code = self.serve.stop()
        self.finished.append(self.serve)
        self.serve = None
        return code

    def worker_once(self, *, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        """`samleng worker --once` as its own process."""
        return self.cli("worker", "--once", env=env, check=check)

    def logs(self) -> str:
        parts = []
        for proc in [*self.finished, self.serve, self.worker]:
            if proc is not None:
                out = proc.output()
                parts.append(f"--- {proc.name} ({'running' if proc.alive else f'exit {proc.popen.returncode}'}) "
                             f"---\n{out[-6000:]}")
        return "\n".join(parts)

    def wait(self, predicate: Callable[[], Any], what: str, *, timeout: float = WAIT) -> Any:
        """Poll `predicate` while checking that serve and worker are still alive."""
        def check() -> Any:
            for proc in (self.serve, self.worker):
                if proc is not None and not proc.alive:
                    raise AssertionError(f"{proc.name} exited {proc.popen.returncode} while waiting for "
                                         f"{what}\n{self.logs()}")
            return predicate()
        return wait_until(check, timeout=timeout, what=what, logs=self.logs)

    # -- the outside world ---------------------------------------------------------------------------
    def phone(self, number: str = "+85512345678") -> Phone:
        """Someone texting the platform; requests are signed with the real twilio RequestValidator."""
        return Phone(client=self.client, base_url=self.base_url, number=number)

    def telegram_user(self, **kw: Any) -> TelegramUser:
        return TelegramUser(client=self.client, api=self.telegram, **kw)

    def sms_to(self, number: str) -> list[str]:
        """Bodies of the SMS the platform sent to `number` through Twilio's REST API."""
        return [form.get("Body", "") for method, path, form in list(self.twilio.requests)
                if path.endswith("/Messages.json") and form.get("To") == number]

    def telegram_to(self, chat_id: int) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.telegram.of("sendMessage")
                if int(c.params.get("chat_id", 0)) == chat_id]

    def load_demo(self) -> None:
        """`samleng demo`: places, the demo organisations and users, bodies, routing rules, demo cases."""
        self.cli("demo", "--history", "0")  # the scenarios follow the ten live cases, not the history

    def handler(self, email: str = "handler@khana.demo", password: str = DEMO_PASSWORD) -> "ApiUser":
        """A case handler signed in to /api/v1 with a real password login (OAuth2 password flow)."""
        response = self.client.post("/api/v1/auth/token", data={"username": email, "password": password,
                                                                 "grant_type": "password"})
        assert response.status_code == 200, response.text
        return ApiUser(self, email, response.json()["access_token"])

    def mail_to(self, address: str) -> list[Any]:
        """Emails the SMTP server received for `address`."""
        return [m for m, rcpts in zip(self.smtp.messages, list(self.smtp.mailbox.rcpts), strict=False)
                if address in rcpts or m["To"] == address]

    def respond_link(self, address: str, index: int = -1) -> str:
        """The signed response link in the email sent to `address` (the last one by default)."""
        mails = self.mail_to(address)
        assert mails, f"no email to {address}"
        links = RESPOND_LINK.findall(mail_text(mails[index]))
        assert links, mail_text(mails[index])
        return links[0]

    def answer_as_body(self, link: str, *, action: str, text: str = "") -> httpx.Response:
        """Follow a body's signed link over HTTP and submit the page's own form, as a browser would."""
        page = self.client.get(link)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        lang = re.search(r'name="lang" value="([^"]*)"', page.text)
        assert csrf, page.text
        actions = re.findall(r'name="action" value="([^"]+)"', page.text)
        assert action in actions, actions
        return self.client.post(link, data={"csrf": csrf.group(1), "lang": lang.group(1) if lang else "",
                                            "action": action, "text": text},
                                headers={"Origin": self.base_url})

    def status_page(self, code: str) -> str:
        """The public /status page's answer for a receipt code, through its own form."""
        form = self.client.get("/status")
        assert form.status_code == 200, form.text
        csrf = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
        assert csrf, form.text
        # Its cookies are Secure (__Host-): a browser sends them to http://127.0.0.1, httpx does not.
        cookie = "; ".join(f"{name}={value}" for name, value in form.cookies.items())
        answer = self.client.post("/status", data={"code": code, "csrf_token": csrf.group(1)},
                                  headers={"Origin": self.base_url, "Cookie": cookie})
        assert answer.status_code == 200, answer.text
        found = re.search(r'role="status">([^<]+)<', answer.text)
        assert found, answer.text
        return html.unescape(found.group(1))

    def restart_worker(self, **env: str) -> Proc:
        """Stop the worker and start it again (e.g. with SAMLENG_CLOCK_OFFSET); waits for its first pass."""
        self.stop_worker()
        proc = self.start_worker(**env)
        if "SAMLENG_CLOCK_OFFSET" in env:
            self.wait(lambda: "clock offset" in proc.output(), "the worker's clock offset in its log")
        return proc

    # -- the spool: what `serve` writes when the database cannot take a message -----------------
    def spool(self, *, channel: str, external_id: str, address: str, text: str) -> Path:
        """Write one message to the spool with the app's own code (service.inbox.spool), as the
        SMS webhook does when the database is unavailable. Returns the file."""
        code = ("import json, sys; from service.inbox.spool import Spool; "
                "from service.intake.schemas import InboundMessage; from service.kit.clock import now; "
                "r = json.load(sys.stdin); "
                "print(Spool(r.pop('dir')).append(InboundMessage(received_at=now(), **r)))")
        record = {"dir": str(self.spool_dir), "channel": channel, "external_id": external_id,
                  "address": address, "text": text}
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=self.env, input=json.dumps(record),
                              capture_output=True, text=True, timeout=START)
        assert done.returncode == 0, done.stderr
        return Path(done.stdout.strip())

    def spool_raw(self, name: str, record: dict[str, Any]) -> Path:
        """A spool file with exactly this (sealed) content, e.g. one the replay cannot process."""
        code = ("import json, sys; from pathlib import Path; from service.kit.crypto import seal; "
                "from service.kit.files import write_durably; r = json.load(sys.stdin); "
                "print(write_durably(Path(r['dir']), r['name'], seal(json.dumps(r['record']))))")
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              input=json.dumps({"dir": str(self.spool_dir), "name": name, "record": record}),
                              timeout=START)
        assert done.returncode == 0, done.stderr
        return Path(done.stdout.strip())

    # -- reading the database (assertions only) -------------------------------------------------
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.database_url)
        return self._engine

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def close(self) -> None:
        for proc in (self.worker, self.serve):
            if proc is not None:
                proc.stop()
        self.client.close()
        if self._engine is not None:
            self._engine.dispose()
        self.twilio.stop()
        self.telegram.stop()
        self.smtp.stop()
        self.webhooks.stop()


class ApiUser:
    """A signed-in user of /api/v1 (bearer token from POST /api/v1/auth/token)."""

    def __init__(self, deployment: Deployment, email: str, token: str) -> None:
        self.deployment, self.email = deployment, email
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        response = self.deployment.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def post(self, path: str, json_body: dict[str, Any] | None = None, *, expect: int = 200) -> Any:
        response = self.deployment.client.post(path, json=json_body or {}, headers=self.headers)
        assert response.status_code == expect, f"POST {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def cases(self, **params: Any) -> list[dict[str, Any]]:
        return self.get("/api/v1/cases", limit=100, **params)["items"]

    def find_case(self, marker: str) -> dict[str, Any] | None:
        """The case in this user's queue whose (masked) narrative contains `marker`."""
        return next((c for c in self.cases() if marker in c["narrative_masked"]), None)


RESPOND_LINK = re.compile(r"https?://[^\s\"'<>]+/respond/[A-Za-z0-9._~%-]+")
KHMER = re.compile("[\u1780-\u17ff]")


def mail_text(message: Any) -> str:
    """The readable text of an email (plain part preferred)."""
    body = message.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else str(message.get_payload())


def is_khmer(text: str) -> bool:
    return bool(KHMER.search(text))


@contextmanager
def fresh_database(backend: str, workdir: Path) -> Iterator[str]:
    """An empty database (not yet migrated) on `backend`; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'samleng.db'}"
        return
    admin_url = os.environ.get("SAMLENG_TEST_POSTGRES_URL")
    if not admin_url:
        import pytest

        pytest.skip("SAMLENG_TEST_POSTGRES_URL not set")
    name = f"samleng_e2e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
