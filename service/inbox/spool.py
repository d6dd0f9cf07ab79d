"""A durable local journal for messages the database could not take.

Each spooled message is one file, encrypted with the vault key, written to a
temporary name, fsynced, renamed into place and the directory fsynced, so that a
message acknowledged to the sender survives a crash or power cut. The worker
replays the files into the database and deletes each one only after its commit;
the inbox's unique (channel, external id) makes a replay after a crash harmless.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from service.intake.schemas import InboundMessage
from service.kit.crypto import seal, unseal
from service.kit.files import write_durably

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def append(self, message: InboundMessage) -> Path:
        """Write one message durably; returns its file."""
        record = {
            "channel": message.channel, "external_id": message.external_id, "address": message.address,
            "text": message.text, "received_at": message.received_at.isoformat(),
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
    def read(path: Path) -> InboundMessage:
        record = json.loads(unseal(path.read_bytes()))
        return InboundMessage(
            channel=record["channel"], external_id=record["external_id"], address=record["address"],
            text=record["text"], received_at=datetime.fromisoformat(record["received_at"]), spooled=True,
        )

    def replay(self, handle: Callable[[InboundMessage], None]) -> tuple[int, int]:
        """Feed each spooled message to `handle` (which must commit); delete it after. Returns (done, failed)."""
        done = failed = 0
        for path in self.pending():
            try:
                message = self.read(path)
            except (ValueError, KeyError, json.JSONDecodeError):
                log.error("spool file %s cannot be read; moved aside", path.name)
                path.rename(path.with_suffix(".bad"))
                failed += 1
                continue
            try:
                handle(message)
            except Exception as exc:  # database still down: keep the file, try later
                log.warning("spool replay stopped: %s", type(exc).__name__)
                failed += 1
                break
            path.unlink()
            done += 1
        return done, failed
