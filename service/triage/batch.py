"""`samleng triage`: JSON Lines in, one JSON line out per message (see docs/triage.md).

Input, one object a line: {"id": ..., "text": "..."}. Output, one line per accepted input,
in input order: {"id", "category", "urgency", "confidence", "language"}.

A line that cannot be triaged (not UTF-8, not JSON, not an object, no "id", "text" not a
string, empty text, longer than MAX_TEXT_CHARS or MAX_LINE_BYTES) gets no output line and
is counted; blank lines are skipped. The batch carries on, and at the end one line on
stderr says how many lines failed, and why, and the exit status is 1. No input at all is an
error too (status 2). Messages are never echoed to stderr.
"""

from __future__ import annotations

import json
from typing import BinaryIO, TextIO

from service.triage.service import classify_many

MAX_TEXT_CHARS = 20_000  # a Telegram message is at most 4,096; an SMS thread far less
MAX_LINE_BYTES = 1_000_000
BATCH = 256
EXIT_OK, EXIT_SOME_FAILED, EXIT_NO_INPUT = 0, 1, 2


class LineError(ValueError):
    pass


def _lines(stream: BinaryIO):
    """(line number, bytes or LineError) for each line, without reading a huge line whole."""
    number = 0
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # skip the rest of this line
                chunk = stream.readline(MAX_LINE_BYTES)
            yield number, LineError(f"line longer than {MAX_LINE_BYTES} bytes")
            continue
        yield number, chunk


def _parse(raw: bytes) -> tuple[object, str]:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LineError("not UTF-8 text") from None
    try:
        row = json.loads(line)
    except ValueError:
        raise LineError("not valid JSON") from None
    if not isinstance(row, dict):
        raise LineError("not a JSON object")
    if "id" not in row:
        raise LineError('no "id"')
    text = row.get("text")
    if not isinstance(text, str):
        raise LineError('"text" missing or not a string')
    if not text.strip():
        raise LineError('"text" is empty')
    if len(text) > MAX_TEXT_CHARS:
        raise LineError(f'"text" longer than {MAX_TEXT_CHARS} characters')
    if "\x00" in text:
        raise LineError('"text" is not text (contains NUL)')
    return row["id"], text


def run(stdin: BinaryIO, stdout: TextIO, stderr: TextIO) -> int:
    """Triage every line of stdin; returns the exit status."""
    seen = failed = 0
    reasons: dict[str, list[int]] = {}
    pending: list[tuple[object, str]] = []

    def flush() -> None:
        results = classify_many([text for _, text in pending])
        for (ident, _), result in zip(pending, results):
            stdout.write(
                json.dumps(
                    {
                        "id": ident,
                        "category": result.category,
                        "urgency": result.urgency,
                        "confidence": result.confidence,
                        "language": result.language,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        stdout.flush()
        pending.clear()

    for number, raw in _lines(stdin):
        if not isinstance(raw, LineError) and not raw.strip():
            continue
        seen += 1
        try:
            if isinstance(raw, LineError):
                raise raw
            pending.append(_parse(raw))
        except LineError as exc:
            failed += 1
            reasons.setdefault(str(exc), []).append(number)
            continue
        if len(pending) >= BATCH:
            flush()
    if pending:
        flush()
    if seen == 0:
        stderr.write('samleng: triage: no input (expected JSON Lines {"id", "text"} on stdin)\n')
        return EXIT_NO_INPUT
    if failed:
        detail = "; ".join(
            f"{why} (line {', '.join(map(str, lines[:5]))}{', ...' if len(lines) > 5 else ''})"
            for why, lines in reasons.items()
        )
        stderr.write(f"samleng: triage: {failed} of {seen} lines not triaged: {detail}\n")
        return EXIT_SOME_FAILED
    return EXIT_OK
