"""A nearly full disk: a spool write that does not complete is never acknowledged.

`write_durably` is the file layer's edge: the OS may write fewer bytes than asked
(a short write) or refuse with ENOSPC. These tests make `os.write` do that for files
in the folder under test only, the way a full disk does.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from service.kit.files import write_durably
from service.worker import Worker
from service.reports.models import Report
from tests.support.outage import outage, outage_phone  # noqa: F401  (fixtures)
from tests.support.twilio_fake import Phone, new_sid, twiml_text


@contextmanager
def disk(monkeypatch: pytest.MonkeyPatch, folder: Path, *, chunk: int, free: int | None) -> Iterator[None]:
    """Files under `folder`: each os.write takes at most `chunk` bytes; after `free` bytes, ENOSPC."""
    real_write = os.write
    written = {"bytes": 0}
    folder = folder.resolve()

    def write(fd: int, data: bytes) -> int:  # type: ignore[override]
        try:
            target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return real_write(fd, data)
        if folder not in target.parents:
            return real_write(fd, data)
        room = len(data) if free is None else free - written["bytes"]
        if room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = real_write(fd, bytes(data[:min(chunk, room)]))
        written["bytes"] += n
        return n

    with monkeypatch.context() as m:
        m.setattr(os, "write", write)
        yield


def test_short_writes_are_continued_until_every_byte_is_written(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(10_000)
    with disk(monkeypatch, tmp_path, chunk=4096, free=None):
        path = write_durably(tmp_path, "whole.msg", data)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whole.msg"]


def test_a_full_disk_raises_and_leaves_no_file_behind(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with disk(monkeypatch, tmp_path, chunk=4096, free=4096):
        with pytest.raises(OSError) as raised:
            write_durably(tmp_path, "partial.msg", os.urandom(4300))
    assert raised.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == [], "neither the final nor the temporary file is left"


def test_a_failed_fsync_leaves_no_file_behind(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", fsync)
        with pytest.raises(OSError):
            write_durably(tmp_path, "unsynced.msg", b"x" * 100)
    assert list(tmp_path.iterdir()) == []


# -- the SMS webhook, database down and disk full ---------------------------------------------------
def stored(engine, sid: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return (s.exec(select(func.count()).select_from(InboundMessage).where(InboundMessage.external_id == sid)).one(),
                s.exec(select(func.count()).select_from(Report)).one())


def test_sms_not_acknowledged_when_the_spool_write_fails(outage, outage_phone: Phone, engine, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spool = Path(settings.spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    sid = new_sid()
    text = "The clinic turned me away without my medicine. " * 60  # ~3,000 characters
    params = outage_phone.params(text, sid=sid)
    with outage.down(), disk(monkeypatch, spool, chunk=4096, free=1024):
        response = outage_phone.post(params)
        assert response.status_code >= 500, "a message neither stored nor spooled must not be acknowledged"
        assert list(spool.iterdir()) == [], "no partial spool file and no temporary file"
    # Twilio tries again (its fallback URL, or the same one later): stored once, with its report.
    again = outage_phone.post(params)
    assert again.status_code == 200 and twiml_text(again)
    assert stored(engine, sid) == (1, 1)
    assert outage_phone.post(params).status_code == 200
    Worker(engine, settings).run("replay")
    assert stored(engine, sid) == (1, 1), "stored exactly once"


def test_sms_spooled_through_short_writes_is_acknowledged_and_replayed_whole(outage, outage_phone: Phone, engine, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spool = Path(settings.spool_dir)
    spool.mkdir(parents=True, exist_ok=True)
    sid = new_sid()
    params = outage_phone.params("The clinic turned me away without my medicine. " * 30, sid=sid)
    with outage.down(), disk(monkeypatch, spool, chunk=1000, free=None):
        response = outage_phone.post(params)
        assert response.status_code == 200 and "Received" in twiml_text(response)
    assert Worker(engine, settings).run("replay") == 1
    assert [p for p in spool.iterdir()] == [], "replayed, nothing moved aside as unreadable"
    assert stored(engine, sid) == (1, 1)
