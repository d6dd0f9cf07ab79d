"""What a channel adapter hands to the intake dialogue, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from service.kit.clock import now

if TYPE_CHECKING:
    from service.intake.reading import TextReading


@dataclass(frozen=True)
class InboundMessage:
    """One message from a reporter, already verified by its channel adapter.

    `address` is the raw sender address; the dialogue turns it into a pseudonym and,
    only with consent, seals it into the vault. It must never be logged or stored.
    """

    channel: str
    external_id: str
    address: str = field(repr=False)
    text: str = field(repr=False)
    received_at: datetime = field(default_factory=now)
    spooled: bool = False
    # Button channels: a place picked from the places table answers the place question exactly.
    place_id: int | None = None
    # Sent by a linked outreach worker for someone else: the report is marked assisted, no reporter.
    assisted: bool = False
    # The channel's guess at the sender's language (a Telegram client's language), used only
    # while the reporter has no kept language and the text itself does not say.
    language_hint: str | None = None
    # The text already read (service/intake/reading.py), by the webhook before the writer; read
    # again in the unit when absent or not of this text and hint.
    reading: TextReading | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:  # never print the address or the text
        return f"InboundMessage(channel={self.channel!r}, external_id={self.external_id!r})"


@dataclass(frozen=True)
class Option:
    answer: str  # what the reporter would type
    label: str  # translated label for buttons


@dataclass(frozen=True)
class Reply:
    text: str = field(repr=False)
    language: str = "en"
    kind: str = "report"  # what the inbound message did
    step: str | None = None  # the question now being asked, if any
    options: tuple[Option, ...] = ()
    duplicate: bool = False  # a redelivery: nothing changed, same answer
    report_id: int | None = None
    receipt_code: str | None = field(default=None, repr=False)  # shown form, on the reply that shows it
