"""Rebuild service/triage/data/embeddings.npz: the sentence embeddings of every repo text.

    OMP_NUM_THREADS=2 .venv/bin/python tools/triage_embeddings.py

Training re-uses these rows instead of embedding ~1,500 texts again (about a minute of CPU),
so a fresh install, CI and `samleng triage train` stay fast. The file records which embedder
made it; with another embedder, or for a text not in it, training simply embeds the text.
The engine is deterministic, so running this again on the same data gives the same rows.
Run it after changing train.jsonl or a file in data/voices/ (a test says when it is stale).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.triage import model as triage_model  # noqa: E402

if __name__ == "__main__":
    started = time.perf_counter()
    n = triage_model.write_embeddings()
    print(f"{n} texts embedded into {triage_model.EMBEDDINGS_FILE} in {time.perf_counter() - started:.0f}s")
