"""Evaluate triage on the held-out test split, per language, and measure its speed.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python bench/triage_eval.py [--test FILE] [--model-from-repo]

Prints, per language and overall: per-class precision/recall/F1 for the category,
macro-F1, urgent recall and precision, the confusion matrix, then messages/s on one core
(one message at a time, as a webhook would call classify, and in batches of 256 as the
CLI does). The model is trained from the repo's train split in this run (not from a
cached file), so the figures do not depend on the machine's var dir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support  # noqa: E402

from service.reports.models import CATEGORIES  # noqa: E402
from service.triage import model as triage_model  # noqa: E402
from service.triage.service import classify, classify_many  # noqa: E402

SHORT = {"service_quality": "serv", "stigma_discrimination": "stig", "financial_hardship": "fin",
         "human_rights_violation": "hrv", "other": "other"}


def report(name: str, rows: list[dict], results: list) -> float:
    truth = [r["category"] for r in rows]
    pred = [res.category for res in results]
    p, r, f, n = precision_recall_fscore_support(truth, pred, labels=list(CATEGORIES), zero_division=0)
    macro = sum(f) / len(f)
    urgent_true = [r["urgency"] == "urgent" for r in rows]
    urgent_pred = [res.urgency == "urgent" for res in results]
    tp = sum(t and p_ for t, p_ in zip(urgent_true, urgent_pred))
    recall = tp / max(1, sum(urgent_true))
    precision = tp / max(1, sum(urgent_pred))
    lang_ok = sum(res.language == r.get("language") for r, res in zip(rows, results)) / len(rows)
    print(f"\n== {name}: {len(rows)} messages ==")
    print(f"{'class':<24}{'prec':>6}{'rec':>6}{'f1':>6}{'n':>5}")
    for i, cat in enumerate(CATEGORIES):
        print(f"{cat:<24}{p[i]:6.2f}{r[i]:6.2f}{f[i]:6.2f}{n[i]:5d}")
    print(f"macro-F1 {macro:.3f} | urgent recall {recall:.3f} ({tp}/{sum(urgent_true)}) "
          f"precision {precision:.3f} ({tp}/{sum(urgent_pred)}) | language detected right {lang_ok:.3f}")
    matrix = confusion_matrix(truth, pred, labels=list(CATEGORIES))
    print("confusion (rows truth, columns predicted): " + " ".join(f"{SHORT[c]:>6}" for c in CATEGORIES))
    for cat, line in zip(CATEGORIES, matrix):
        print(f"  {SHORT[cat]:<8}" + "".join(f"{v:7d}" for v in line))
    return macro


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--test", default=str(ROOT / "bench" / "data" / "triage_test.jsonl"))
    parser.add_argument("--repeat", type=int, default=5, help="passes over the test set for the speed figure")
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.test).read_text(encoding="utf-8").splitlines() if line.strip()]

    started = time.perf_counter()
    model = triage_model.train(triage_model.repo_examples())
    triage_model.set_model(model)
    print(f"model trained from the repo in {time.perf_counter() - started:.2f}s "
          f"({model.meta['examples']} examples, scikit-learn {model.meta['sklearn']})")

    results = [classify(r["text"]) for r in rows]
    macros = {}
    for lang in ("en", "km", "km-Latn", "pt"):
        subset = [(r, res) for r, res in zip(rows, results) if r.get("language") == lang]
        if subset:
            macros[lang] = report(lang, [s[0] for s in subset], [s[1] for s in subset])
    overall = report("all languages", rows, results)
    spread = max(macros.values()) - min(macros.values())
    print(f"\nmacro-F1 overall {overall:.3f}; per language "
          + ", ".join(f"{k} {v:.3f}" for k, v in macros.items()) + f"; spread {spread:.3f}")

    texts = [r["text"] for r in rows] * args.repeat
    start = time.process_time()
    for text in texts:
        classify(text)
    single = len(texts) / (time.process_time() - start)
    latencies, cpu = [], []
    for text in texts:  # wall clock: on a shared machine other processes show up here
        t0, c0 = time.perf_counter(), time.thread_time()
        classify(text)
        latencies.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    latencies.sort()
    cpu.sort()
    start = time.process_time()
    for i in range(0, len(texts), 256):
        classify_many(texts[i:i + 256])
    batched = len(texts) / (time.process_time() - start)
    p50, p99 = latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000
    cpu99 = cpu[int(len(cpu) * 0.99)] * 1000
    print(f"speed on one core (CPU time): {single:,.0f} messages/s one at a time "
          f"(per call: p50 {p50:.2f} ms, p99 {p99:.2f} ms wall clock, p99 {cpu99:.2f} ms CPU); "
          f"{batched:,.0f} messages/s in batches of 256")


if __name__ == "__main__":
    main()
