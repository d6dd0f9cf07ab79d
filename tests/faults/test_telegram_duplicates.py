"""Telegram sends an update again when it is not answered in time, and may send it while the
first copy is still being stored. Many copies of many updates at once, on PostgreSQL's
several writer lanes in one process and across two `serve` processes: every update is
stored exactly once and none is refused with 503.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import PendingUpdate
from tests.support.processes import procs, spawn_serve, wait_until_serving  # noqa: F401  (fixtures)
from tests.support.server import free_port
from tests.support.telegram_fake import BOT_TOKEN, SECRET, TelegramUser
from tests.bots.telegram.conftest import bot_api, telegram_server  # noqa: F401  (fixtures)

THREADS = 32


@pytest.mark.slow
def test_concurrent_copies_of_updates_are_stored_once_without_refusals(telegram_server, bot_api, engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    if engine.dialect.name != "postgresql":
        pytest.skip("several writer lanes (and so lock order between them) are PostgreSQL's")
    storm([telegram_server.base_url], bot_api, engine, users=80, copies=4)


def storm(base_urls: list[str], bot_api, engine, *, users: int, copies: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    people = [TelegramUser(client=None, api=bot_api, user_id=7_200_000_000 + i) for i in range(users)]  # type: ignore[arg-type]
    updates = [p.message_update(text=f"hello {n}") for p in people for n in range(3)]
    # The copies of each update arrive together; the updates themselves in a shuffled order.
    random.Random(14).shuffle(updates)
    posts = [(u, base_urls[i % len(base_urls)]) for u in updates for i in range(copies)]
    # As many pooled connections as threads. With httpx's default (20 kept alive) and more threads
    # than that, httpcore 1.0.9's pool closes a connection it has just handed to a waiting thread
    # (it counts every connection as idle; encode/httpcore#1110): that request dies with EBADF.
    limits = httpx.Limits(max_connections=THREADS, max_keepalive_connections=THREADS)
    clients = {url: httpx.Client(base_url=url, timeout=60, limits=limits) for url in base_urls}
    sender = people[0]

    def post(item: tuple[dict, str]) -> int:
        update, url = item
        return clients[url].post("/webhooks/telegram", json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            statuses = list(pool.map(post, posts))
    finally:
        for client in clients.values():
            client.close()
    del sender
    assert statuses.count(503) == 0, f"{statuses.count(503)} of {len(statuses)} copies refused"
    assert set(statuses) == {200}
    with Session(engine) as s:
        per_key = s.exec(select(PendingUpdate.external_id, func.count()).group_by(PendingUpdate.external_id)).all()
    assert len(per_key) == len(updates), "every update stored"
    assert all(n == 1 for _, n in per_key), "each update stored once"


@pytest.mark.slow
def test_copies_across_two_serve_processes_are_stored_once_without_refusals(settings, engine, bot_api, places, tmp_path, procs) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    if engine.dialect.name != "postgresql":
        pytest.skip("several serve processes share one database only on PostgreSQL")
    ports = [free_port(), free_port()]
    env = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE": bot_api.base_url,
           "SAMLENG_EVIDENCE_DIR": str(tmp_path / "evidence")}
    procs.extend(spawn_serve(settings.database_url, tmp_path, port, **env) for port in ports)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    for proc, port, url in zip(procs, ports, urls):
        wait_until_serving(proc, url, tmp_path / f"serve-{port}.log")
    storm(urls, bot_api, engine, users=60, copies=4)


def test_a_deadlock_between_two_lanes_is_retried_not_taken_for_an_outage(engine) -> None:
    """Two lanes' batches store the same two updates in opposite order: PostgreSQL aborts one
    transaction with a deadlock (40P01). Its units run again; nobody is told "unavailable"."""
    import threading
    from concurrent.futures import wait

    from service.inbox import pending
    from service.inbox.writer import Writer

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no deadlock between lanes")
    writer = Writer(engine, lanes=2)
    writer.start()
    try:
        gate, started, crossed = threading.Event(), threading.Barrier(3, timeout=10), threading.Barrier(2, timeout=10)
        first_time = {"A1": True, "B1": True}

        def blocker(_session: Session) -> None:
            started.wait()
            gate.wait(10)

        def store(key: str, name: str | None = None):  # type: ignore[no-untyped-def]
            def unit(session: Session) -> tuple[int, bool]:
                result = pending.store_pending(session, channel="telegram", external_id=key, payload=b"{}")
                if name is not None and first_time[name]:  # both lanes hold their first row
                    first_time[name] = False
                    crossed.wait()
                return result
            return unit

        blockers = [writer.submit(blocker), writer.submit(blocker)]  # round robin: lanes 0 and 1
        started.wait()
        a1, b1 = writer.submit(store("900:1", "A1")), writer.submit(store("901:1", "B1"))
        a2, b2 = writer.submit(store("901:1")), writer.submit(store("900:1"))
        gate.set()
        wait([*blockers, a1, b1, a2, b2], timeout=60)
        results = [f.result(timeout=0) for f in (a1, b1, a2, b2)]
        assert sorted(new for _, new in results) == [False, False, True, True]
    finally:
        writer.stop()
    with Session(engine) as s:
        per_key = s.exec(select(PendingUpdate.external_id, func.count()).group_by(PendingUpdate.external_id)).all()
    assert sorted(per_key) == [("900:1", 1), ("901:1", 1)]
