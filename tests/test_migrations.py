"""Migrations: head matches the models, and down/up works on a scratch database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import bots.telegram.models  # noqa: F401  (the Telegram adapter's tables)
import service.models  # noqa: F401  (every table, for the foreign keys)
from service.migrate import alembic_config, upgrade
from service.queue.models import autogenerate_include_name


def test_head_matches_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": autogenerate_include_name})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_and_upgrade_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    url = f"sqlite:///{tmp_path / 'scratch.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert "inbound_message" in inspect(engine).get_table_names()
    engine.dispose()


def test_reporters_keep_the_language_of_their_latest_khmer_or_portuguese_report(database_url, engine) -> None:  # type: ignore[no-untyped-def]
    """0009 fills reporter.language from the latest report when that was Khmer or Portuguese."""
    from datetime import timedelta

    from alembic import command
    from sqlmodel import Session

    from service.kit.clock import now
    from service.reports.models import Reporter
    from service.reports.service import find_or_create_reporter, insert_report

    command.downgrade(alembic_config(database_url), "0008")
    stamp = now()
    with Session(engine) as s:
        ids = {}
        for name, languages, kept in [("km", ["en", "km"], None), ("pt", ["pt"], None), ("en", ["km", "en"], None),
                                      ("switched", ["km"], "en"), ("none", [], None)]:
            reporter, _ = find_or_create_reporter(s, channel="sms", address=f"+85510000{len(ids)}")
            reporter.language = kept
            s.add(reporter)
            for i, language in enumerate(languages):
                insert_report(s, channel="sms", reporter_id=reporter.id, narrative="x", language=language,
                              at=stamp + timedelta(minutes=i))
            ids[name] = reporter.id
        s.commit()
    upgrade(database_url)
    with Session(engine) as s:
        kept = {name: s.get(Reporter, rid).language for name, rid in ids.items()}  # type: ignore[union-attr]
    assert kept == {"km": "km", "pt": "pt", "en": None, "switched": "en", "none": None}
