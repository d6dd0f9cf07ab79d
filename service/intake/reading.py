"""What a message's text alone says, read once.

Masking the text, finding a keyword and seeing which language it shows are pure functions of the
text and the channel's language hint: no database, no clock, no settings. The dialogue needs
each at most once per message. The SMS webhook reads them before it hands the message to the
writer (service/inbox/writer.py), whose one thread per lane is the intake's bottleneck; on the
event loop they cost the same CPU but no longer hold up the other messages waiting for that
thread. A message that arrives without a reading (Telegram, the spool) is read in the unit.
"""

from __future__ import annotations

from functools import cached_property

from service.intake import keywords
from service.intake import language as languages
from service.kit.masking import mask


class TextReading:
    """One message text's readings, each computed on first use (a returning reporter's kept
    language makes the language reading unnecessary) or all at once by `complete()`."""

    def __init__(self, text: str, hint: str | None = None) -> None:
        self.text = text  # the stripped text
        self.hint = hint  # the channel's guess at the sender's language

    def __repr__(self) -> str:  # never the text
        return f"TextReading(hint={self.hint!r})"

    def matches(self, text: str, hint: str | None) -> bool:
        return self.text == text and self.hint == hint

    @cached_property
    def masked(self) -> str:
        """Numbers, emails and ids masked."""
        return mask(self.text)

    @cached_property
    def command(self) -> keywords.Command | None:
        """A whole-message keyword (HELP, STOP, STATUS <code>, PT, ...), or None."""
        return keywords.parse_command(self.text)

    @cached_property
    def evident_language(self) -> str | None:
        """The language the text shows (script or words), else the hint, else None."""
        return languages.evident(self.text, self.hint)

    def complete(self) -> TextReading:
        """Every reading now (before the writer), so that none is left for the unit."""
        _ = self.masked, self.command, self.evident_language
        return self


def read(text: str, hint: str | None = None) -> TextReading:
    """A (stripped) message text to be read."""
    return TextReading(text, hint)
