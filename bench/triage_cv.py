"""Grouped cross-validation on the TRAIN split only (folds by hand-written core), for tuning
rules and model settings without ever looking at the held-out test split.

    .venv/bin/python bench/triage_cv.py [--folds 4] [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import f1_score  # noqa: E402

from service.reports.models import CATEGORIES  # noqa: E402
from service.triage import model as triage_model  # noqa: E402
from service.triage.service import classify_many  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--errors", action="store_true")
    parser.add_argument("--rule-weight", type=float, default=None)
    args = parser.parse_args()
    if args.rule_weight is not None:
        import service.triage.service as triage_service

        triage_service.RULE_WEIGHT = args.rule_weight
    rows = [json.loads(l) for l in triage_model.TRAIN_FILE.read_text(encoding="utf-8").splitlines() if l.strip()]
    fold_of = lambda r: zlib.crc32(r["id"].rsplit("-", 1)[0].encode()) % args.folds  # noqa: E731
    truth, pred, langs, urg_t, urg_p = [], [], [], [], []
    for k in range(args.folds):
        train = [triage_model.Example(r["text"], r["category"], r["urgency"], r["language"]) for r in rows if fold_of(r) != k]
        held = [r for r in rows if fold_of(r) == k]
        triage_model.set_model(triage_model.train(train))
        for r, res in zip(held, classify_many([r["text"] for r in held])):
            truth.append(r["category"]); pred.append(res.category); langs.append(r["language"])
            urg_t.append(r["urgency"] == "urgent"); urg_p.append(res.urgency == "urgent")
            if args.errors and (res.category != r["category"] or (r["urgency"] == "urgent") != (res.urgency == "urgent")):
                print(f"{r['language']:8} {r['category'][:8]}>{res.category[:8]} {r['urgency'][:3]}>{res.urgency[:3]} {r['text'][:110]}")
    for lang in ("en", "km", "km-Latn", "pt", None):
        idx = [i for i, l in enumerate(langs) if lang is None or l == lang]
        f1 = f1_score([truth[i] for i in idx], [pred[i] for i in idx], labels=list(CATEGORIES), average="macro")
        tp = sum(urg_t[i] and urg_p[i] for i in idx)
        print(f"{lang or 'all':8} macro-F1 {f1:.3f} urgent recall {tp / max(1, sum(urg_t[i] for i in idx)):.3f} "
              f"precision {tp / max(1, sum(urg_p[i] for i in idx)):.3f}")


if __name__ == "__main__":
    main()
