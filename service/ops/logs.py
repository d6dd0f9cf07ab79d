"""Logging set-up. Log lines carry ids and types, never addresses or message text."""

from __future__ import annotations

import logging
import sys

# Libraries that can see content are held at WARNING whatever the app's level: SQL echo would print
# bound parameters (masked narratives, sealed blobs); Pillow logs EXIF tags (a camera owner's name or
# number) at DEBUG before evidence is stripped; upload parsers and HTTP clients log bodies and URLs.
_QUIET = (
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "httpx",
    "httpcore",
    "twilio.http_client",
    "telegram",
    "hpack",
    "PIL",
    "multipart",
    "python_multipart",
    "urllib3",
    "asyncio",
    "aiosmtplib",
    "mail.log",
    "fontTools",
    "weasyprint",
    "openpyxl",
    "pypdf",
)


def configure_logging(level: str = "INFO") -> None:
    """Root handler to stderr; libraries that would echo payloads are held at WARNING."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    quiet_libraries()


def quiet_libraries() -> None:
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
