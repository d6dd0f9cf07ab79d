"""Would an urgent-or-not classifier on the sentence embedding alone, beside the full triage, catch
the emergencies the triage misses? An experiment, not shipped (docs/triage.md, "Tried and not kept").

    OMP_NUM_THREADS=1 .venv/bin/python bench/urgent_meaning_eval.py                 # voices, ≈15 min
    OMP_NUM_THREADS=1 .venv/bin/python bench/urgent_meaning_eval.py \\
        --heldout bench/data/heldout/eleventh/poipet.jsonl ... [--rules DIR]        # new writers, ≈1 min

Default, leave one voice out as bench/triage_eval.py: for each voice file, the full triage and the
embedding classifier (logistic regression, classes balanced, several C) are trained on train.jsonl
and the other voices and read the held-out one. `--heldout`: both trained on every repo example and
read the given files. `--rules DIR` reads the word lists from DIR instead (e.g. the lists as they
were before a held-out read, to see what the classifier would have added on that read). Printed:
urgent recall and precision of the triage alone, then of "triage urgent, or the classifier at
threshold t unless the word lists found the urgent words negated or past" (the veto the model obeys).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from service.triage import model as triage_model  # noqa: E402
from service.triage import rules  # noqa: E402
from service.triage.quick import vetoed  # noqa: E402

CS = (0.3, 1.0, 3.0, 10.0)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def _classifiers(rows: list[triage_model.Example]) -> dict:
    from sklearn.linear_model import LogisticRegression

    _, x = triage_model.embed_for_training([r.text for r in rows])
    y = [r.urgency == "urgent" for r in rows]
    w = [triage_model.INHOUSE_WEIGHT if r.voice == "inhouse" else 1.0 for r in rows]
    return {c: LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x, y, sample_weight=w) for c in CS}


def _read(train: list[triage_model.Example], test: list[triage_model.Example]) -> list[tuple]:
    """(truth urgent, triage urgent, vetoed, {C: probability}) for each test message."""
    import triage_eval

    triage_model.set_model(triage_model.train(train))
    decided = triage_eval._decide_at([e.text for e in test], (0.2,))[0.2]
    _, x = triage_model.embed_for_training([e.text for e in test])
    probs = {c: clf.predict_proba(x)[:, list(clf.classes_).index(True)] for c, clf in _classifiers(train).items()}
    triage_model.set_model(None)
    return [
        (
            e.urgency == "urgent",
            d.urgency == "urgent",
            vetoed(d),
            {c: float(p[i]) for c, p in probs.items()},
        )
        for i, (e, d) in enumerate(zip(test, decided, strict=True))
    ]


def _figure(rows: list[tuple], predicted: list[bool]) -> str:
    n_true, n_pred = sum(r[0] for r in rows), sum(predicted)
    tp = sum(1 for r, p in zip(rows, predicted, strict=True) if p and r[0])
    return f"recall {tp / max(n_true, 1):.3f} ({tp}/{n_true}) precision {tp / max(n_pred, 1):.3f} ({tp}/{n_pred})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heldout", action="append", default=[], metavar="FILE")
    parser.add_argument("--rules", metavar="DIR", help="read the word lists from DIR (en.yaml, km.yaml, ...)")
    args = parser.parse_args()
    if args.rules:
        rules.RULES_DIR = Path(args.rules)
    base = triage_model.read_examples(triage_model.TRAIN_FILE)
    voices = {p.stem: triage_model.read_examples(p) for p in triage_model.voice_files()}
    rows: list[tuple] = []
    if args.heldout:
        test = [e for name in args.heldout for e in triage_model.read_examples(Path(name))]
        rows = _read(triage_model.repo_examples(), test)
    else:
        for voice, held in voices.items():
            rows += _read(base + [e for v, r in voices.items() if v != voice for e in r], held)
            print(f"  {voice} done", file=sys.stderr, flush=True)
    print("triage alone:                 ", _figure(rows, [r[1] for r in rows]))
    for c in CS:
        for t in THRESHOLDS:
            union = [r[1] or (not r[2] and r[3][c] >= t) for r in rows]
            alone = [r[3][c] >= t for r in rows]
            print(
                f"C={c:<4} t={t:.1f}  triage or classifier {_figure(rows, union)} | classifier alone {_figure(rows, alone)}"
            )


if __name__ == "__main__":
    main()
