"""Test databases: a migrated SQLite file and a migrated PostgreSQL database, per test session.

`backend` is parametrised over SAMLENG_TEST_BACKENDS (default: sqlite, plus postgresql
when SAMLENG_TEST_POSTGRES_URL is set), so every database test runs on both. The schema
comes from `alembic upgrade head`; tables are emptied between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

import bots.telegram.models  # noqa: F401  (the Telegram adapter's tables)
import service.models  # noqa: F401  (every table, for the foreign keys)
from service.config import Settings, get_settings
from service.db import build_engine, reset_engine
from service.migrate import upgrade

TEST_KEYS = {
    "SAMLENG_SECRET_KEY": "test-secret-key-0123456789abcdefghijklmnopqrstuv",
    "SAMLENG_PSEUDONYM_KEY": "test-pseudonym-key-0123456789abcdefghijklmnopqrs",
    "SAMLENG_VAULT_KEY": "test-vault-key-0123456789abcdefghijklmnopqrstuvw",
}
KEEP_TABLES = {"place", "alembic_version"}


def _backends() -> list[str]:
    configured = os.environ.get("SAMLENG_TEST_BACKENDS")
    if configured:
        return [b.strip() for b in configured.split(",") if b.strip()]
    return ["sqlite", "postgresql"] if os.environ.get("SAMLENG_TEST_POSTGRES_URL") else ["sqlite"]


@pytest.fixture(scope="session", params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for this test session, on one backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "samleng.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    admin_url = os.environ.get("SAMLENG_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip("SAMLENG_TEST_POSTGRES_URL not set")
    name = f"samleng_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for one test: the session's database, fixed test keys, a private spool."""
    monkeypatch.setenv("SAMLENG_ENV", "test")
    monkeypatch.setenv("SAMLENG_DATABASE_URL", database_url)
    monkeypatch.setenv("SAMLENG_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("SAMLENG_DB_BUSY_TIMEOUT", "0.5")
    monkeypatch.setenv("SAMLENG_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")  # the tests' webhook receivers
    for key, value in TEST_KEYS.items():
        monkeypatch.setenv(key, value)
    for key in ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_API_BASE", "SAMLENG_SMS_DRIVER", "SAMLENG_DEV_OUTBOX"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    reset_engine()
    yield get_settings()
    get_settings.cache_clear()
    reset_engine()


def configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Change settings inside a test (after the `settings` fixture)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    reset_engine()
    return get_settings()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = build_engine(settings)
    yield eng
    _empty(eng)
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


def _empty(engine: Engine) -> None:
    tables = [t for t in reversed(SQLModel.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def places(engine: Engine) -> None:
    """The repo's places data loaded (kept between tests: it does not change)."""
    from service.places.service import load_places

    with Session(engine) as s:
        load_places(s)
        s.commit()
