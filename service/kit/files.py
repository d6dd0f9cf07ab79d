"""Files that must survive a power cut once written (spool messages, evidence)."""

from __future__ import annotations

import os
from pathlib import Path


def write_durably(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` to `directory/name` all or nothing: a private temp file, fsync, rename, fsync the folder."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = directory / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    final = directory / name
    os.rename(tmp, final)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final
