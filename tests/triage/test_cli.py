"""`samleng triage` keeps the contract: JSON Lines in, one JSON line out, clear errors, no crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

KEYS = ["id", "category", "urgency", "confidence", "language"]


def run(stdin: bytes, model: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SAMLENG_TRIAGE_MODEL": str(model), "SAMLENG_VAR_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "service.cli", "triage"], input=stdin, capture_output=True,
                          env=env, timeout=120)


def lines(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode("utf-8").splitlines()]


def test_contract_output(trained_model_file: Path, tmp_path: Path) -> None:
    stdin = "\n".join(json.dumps(row, ensure_ascii=False) for row in [
        {"id": "a1", "text": "police arrested my friend now, pls help"},
        {"id": 2, "text": "អស់ថ្នាំ ARV នៅមណ្ឌលសុខភាព"},
        {"id": "c", "text": "ot mean thnam arv 2 atit", "extra": "ignored"},
        {"id": None, "text": "cobraram 500 meticais pelo teste"},
    ]).encode() + b"\n"
    done = run(stdin, trained_model_file, tmp_path)
    assert done.returncode == 0 and done.stderr == b""
    rows = lines(done.stdout)
    assert [r["id"] for r in rows] == ["a1", 2, "c", None]
    for row in rows:
        assert list(row) == KEYS
        assert row["urgency"] in ("urgent", "high", "normal")
        assert row["category"] in ("service_quality", "stigma_discrimination", "financial_hardship",
                                   "human_rights_violation", "other")
        assert isinstance(row["confidence"], float) and 0 <= row["confidence"] <= 1
    assert rows[0]["urgency"] == "urgent"
    assert [r["language"] for r in rows] == ["en", "km", "km-Latn", "pt"]


def test_no_input_is_an_error(trained_model_file: Path, tmp_path: Path) -> None:
    for stdin in (b"", b"\n\n  \n"):
        done = run(stdin, trained_model_file, tmp_path)
        assert done.returncode == 2 and done.stdout == b""
        assert len(done.stderr.decode().strip().splitlines()) == 1 and b"no input" in done.stderr


BAD_LINES = [
    (b'{"id": 1, "text": ""}', '"text" is empty'),
    (b'{"id": 1, "text": "   "}', '"text" is empty'),
    (b'{"id": 1, "text": 12345}', "not a string"),
    (b'{"id": 1, "text": null}', "not a string"),
    (b'{"id": 1}', "not a string"),
    (b'{"text": "no id"}', 'no "id"'),
    (b'["id", "text"]', "not a JSON object"),
    (b"this is not json", "not valid JSON"),
    (b"\xff\xfe\x00\x01binary\x80", "not UTF-8"),
    (b'{"id": 1, "text": "a\\u0000b"}', "NUL"),
    (json.dumps({"id": 1, "text": "x" * 20_001}).encode(), "longer than 20000"),
]


@pytest.mark.parametrize("bad,why", BAD_LINES[:2])
def test_a_bad_line_is_reported_and_the_rest_triaged(trained_model_file: Path, tmp_path: Path, bad: bytes,
                                                     why: str) -> None:
    stdin = b'{"id": "before", "text": "no ARV"}\n' + bad + b'\n{"id": "after", "text": "thank you"}\n'
    done = run(stdin, trained_model_file, tmp_path)
    assert done.returncode == 1
    assert [r["id"] for r in lines(done.stdout)] == ["before", "after"]
    err = done.stderr.decode()
    assert len(err.strip().splitlines()) == 1 and "1 of 3 lines" in err and why in err
    assert "line 2" in err and "Traceback" not in err


def test_every_kind_of_bad_line_is_named(trained_model_file: Path, tmp_path: Path) -> None:
    stdin = b"".join(bad + b"\n" for bad, _ in BAD_LINES) + b'{"id": "last", "text": "he beat me now"}\n'
    done = run(stdin, trained_model_file, tmp_path)
    assert done.returncode == 1
    assert [r["id"] for r in lines(done.stdout)] == ["last"]
    err = done.stderr.decode()
    assert len(err.strip().splitlines()) == 1 and f"{len(BAD_LINES)} of {len(BAD_LINES) + 1} lines" in err
    for _, why in BAD_LINES:
        assert why in err


def test_enormous_line_does_not_crash(trained_model_file: Path, tmp_path: Path) -> None:
    huge = b'{"id": "big", "text": "' + b"a" * 3_000_000 + b'"}'
    stdin = huge + b'\n{"id": "ok", "text": "he beat me now"}\n'
    done = run(stdin, trained_model_file, tmp_path)
    assert done.returncode == 1
    assert [r["id"] for r in lines(done.stdout)] == ["ok"]
    assert b"longer than 1000000 bytes" in done.stderr


def test_many_lines_keep_their_order(trained_model_file: Path, tmp_path: Path) -> None:
    rows = [{"id": i, "text": f"waited {i} hours at the clinic"} for i in range(600)]
    stdin = "".join(json.dumps(r) + "\n" for r in rows).encode()
    done = run(stdin, trained_model_file, tmp_path)
    assert done.returncode == 0
    assert [r["id"] for r in lines(done.stdout)] == list(range(600))


def test_messages_are_never_echoed_to_stderr(trained_model_file: Path, tmp_path: Path) -> None:
    done = run(b'{"id": 1, "text": 5}\n{"id": 2, "text": "secret 012345678"}\n', trained_model_file, tmp_path)
    assert b"012345678" not in done.stderr


def test_fresh_install_trains_once_then_uses_the_cache(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SAMLENG_TRIAGE_MODEL"}
    env["SAMLENG_VAR_DIR"] = str(tmp_path / "var")
    stdin = b'{"id": "x", "text": "ot mean thnam arv 3 atit hz"}\n'
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "service.cli", "triage"], input=stdin, capture_output=True,
                              env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert lines(done.stdout)[0]["language"] == "km-Latn"
    assert (tmp_path / "var" / "triage" / "model.joblib").is_file()
