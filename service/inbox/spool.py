"""A durable local journal for messages the database could not take.

Each spooled message is one file, encrypted with the vault key, written to a
temporary name, fsynced, renamed into place and the directory fsynced, so that a
message acknowledged to the sender survives a crash or power cut. The worker
replays the files into the database and deletes each one only after its commit;
the inbox's unique (channel, external id) makes a replay after a crash harmless.

The spool keeps the fields of a channel's message (intake's `InboundMessage`) and hands them
back as a dict: what to do with them is the replaying flow's business (service/flows/arrival.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from service.kit.clock import now
from service.kit.crypto import seal, unseal
from service.kit.files import write_durably

log = logging.getLogger(__name__)


class Spoolable(Protocol):
    """What the spool keeps of a message (intake's InboundMessage has these)."""

    channel: str
    external_id: str
    address: str
    text: str
    received_at: datetime


class Spool:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def append(self, message: Spoolable) -> Path:
        """Write one message durably; returns its file."""
        record = {
            "channel": message.channel,
            "external_id": message.external_id,
            "address": message.address,
            "text": message.text,
            "received_at": message.received_at.isoformat(),
        }
        data = seal(json.dumps(record))
        name = f"{message.received_at.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex}.msg"
        return write_durably(self.directory, name, data)

    def pending(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(p for p in self.directory.iterdir() if p.suffix == ".msg")

    def depth(self) -> int:
        return len(self.pending())

    @staticmethod
    def read(path: Path) -> dict[str, Any]:
        """One spooled message's fields (marked `spooled`)."""
        record = json.loads(unseal(path.read_bytes()))
        return {
            "channel": record["channel"],
            "external_id": record["external_id"],
            "address": record["address"],
            "text": record["text"],
            "received_at": datetime.fromisoformat(record["received_at"]),
            "spooled": True,
        }

    def replay(
        self, handle: Callable[[dict[str, Any]], None], *, database_up: Callable[[], bool] | None = None
    ) -> tuple[int, int]:
        """Feed each spooled message to `handle` (which must commit); delete it after. Returns (done, failed).

        When `handle` fails and the database is down (a connection error, or `database_up()`
        says so) the replay stops and the file waits for the next pass. Otherwise the file
        itself is at fault: it is set aside (`.bad`, with a `.reason` file naming the error
        type, never the content) and the files behind it are still replayed.
        """
        done = failed = 0
        for path in self.pending():
            try:
                message = self.read(path)
            except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
                self._set_aside(path, f"cannot be read: {type(exc).__name__}")
                failed += 1
                continue
            try:
                handle(message)
            except Exception as exc:
                if _database_down(exc) or (database_up is not None and not database_up()):
                    log.warning("spool replay stopped: %s", type(exc).__name__)  # try again next pass
                    failed += 1
                    break
                self._set_aside(path, f"replay failed: {type(exc).__name__}")
                failed += 1
                continue
            path.unlink()
            done += 1
        return done, failed

    def set_aside(self) -> list[Path]:
        """Files moved aside by a replay (each with a `.reason` file beside it)."""
        if not self.directory.exists():
            return []
        return sorted(p for p in self.directory.iterdir() if p.suffix == ".bad")

    @staticmethod
    def _set_aside(path: Path, reason: str) -> None:
        aside = path.with_suffix(".bad")
        path.rename(aside)
        aside.with_suffix(".reason").write_text(f"{now().isoformat()} {reason}\n")
        log.error("spool file %s set aside (%s)", aside.name, reason)


def _database_down(exc: BaseException) -> bool:
    """A connection-level error: the database, not the file, is the problem."""
    return isinstance(exc, (OperationalError, InterfaceError, DisconnectionError, ConnectionError, TimeoutError))
