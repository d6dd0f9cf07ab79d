"""Files that must survive a power cut once written (spool messages, evidence)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_durably(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` to `directory/name` all or nothing; raise OSError if it could not be.

    A private temporary file gets every byte (the OS may take fewer than asked per call:
    a short write, e.g. on a nearly full disk, is continued until all are written or it
    fails with ENOSPC), is fsynced, renamed into place, and the folder is fsynced so the
    rename survives a power cut. On any failure the temporary file is removed and the
    error raised: the caller must not acknowledge what was not written.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = directory / f".{name}.tmp"
    final = directory / name
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    renamed = False
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:  # never for a regular file, but never loop forever either
                    raise OSError("write made no progress")
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, final)
        renamed = True
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            (final if renamed else tmp).unlink()
        raise
    return final
