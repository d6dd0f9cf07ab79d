"""The urgency screen on held-out voices: what the worker's quick step alerts on before the full triage.

    OMP_NUM_THREADS=1 .venv/bin/python bench/screen_eval.py [--errors]   # ≈30 s
    OMP_NUM_THREADS=1 .venv/bin/python bench/screen_eval.py --full       # also the full triage per fold, ≈9 min
    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python bench/screen_eval.py --speed

Leave-one-voice-out, as bench/triage_eval.py: for each file in service/triage/data/voices/, the
screen (service/triage/model.py `fit_screen`: character n-grams and rule findings, no sentence
embedding) is trained on train.jsonl plus the OTHER voices and run on the held-out one. Printed,
pooled over the held-out voices: urgent recall and precision of the word lists alone (the quick
step before the screen), then of the word lists OR the screen at several thresholds (the quick
step with the screen), and how many of the urgent messages the word lists miss the screen catches.
The full triage's own held-out figures: bench/triage_eval.py.
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

from service.triage import model as triage_model  # noqa: E402
from service.triage import reading, rules  # noqa: E402
from service.triage.quick import SCREEN_URGENT, classify_quick, vetoed  # noqa: E402

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def fit(rows: list[triage_model.Example]) -> tuple:
    """The vectorizer and the screen trained on these rows, weighted as train() weighs them."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    analysed = [reading.analyse(r.text) for r in rows]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=1,
                                 max_features=120_000, lowercase=False, dtype=triage_model._float32())
    x = triage_model._with_features(vectorizer.fit_transform([a[0] for a in analysed]),
                                    [rules.features(a[2]) for a in analysed])
    weights = [triage_model.INHOUSE_WEIGHT if r.voice == "inhouse" else 1.0 for r in rows]
    return vectorizer, triage_model.fit_screen(x, rows, weights)


def speed() -> None:
    import time

    from service.triage.quick import classify_screened

    triage_model.get_model()
    texts = [e.text for p in triage_model.voice_files() for e in triage_model.read_examples(p)]
    for _ in range(2):  # the second round is the figure (the first warms caches)
        for read in (classify_quick, classify_screened):
            started = time.process_time()
            for text in texts:
                read(text)
            took = (time.process_time() - started) / len(texts) * 1000
            print(f"{read.__name__:<18} {took:.3f} ms CPU per message ({len(texts)} voice messages)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true",
                        help="also train the full model per fold (slow): how often the full triage confirms "
                        "a screen alert")
    parser.add_argument("--speed", action="store_true",
                        help="only time the quick step with and without the screen (CPU per message, the cached "
                        "model of the var dir or SAMLENG_TRIAGE_MODEL)")
    parser.add_argument("--errors", action="store_true", help="print the urgent messages missed at the chosen threshold")
    args = parser.parse_args()
    if args.speed:
        speed()
        return
    base = triage_model.read_examples(triage_model.TRAIN_FILE)
    voices = {p.stem: triage_model.read_examples(p) for p in triage_model.voice_files()}
    truth: list[bool] = []
    by_rules: list[bool] = []
    scores: list[float] = []
    veto: list[bool] = []
    texts: list[str] = []
    full: list[bool] = []
    for voice, held in voices.items():
        rows = base + [e for v, ex in voices.items() if v != voice for e in ex]
        if args.full:
            from service.triage.service import classify_many

            model = triage_model.train(rows)
            triage_model.set_model(model)
            vectorizer, screen = model.vectorizer, model.screen
            full += [r.urgency == "urgent" for r in classify_many([e.text for e in held])]
        else:
            vectorizer, screen = fit(rows)
        analysed = [reading.analyse(e.text) for e in held]
        x = triage_model._with_features(vectorizer.transform([a[0] for a in analysed]),
                                        [rules.features(a[2]) for a in analysed])
        positive = [str(c) for c in screen.classes_].index("True")
        scores += [float(p[positive]) for p in screen.predict_proba(x)]
        for example in held:
            quick = classify_quick(example.text)
            truth.append(example.urgency == "urgent")
            by_rules.append(quick.urgency == "urgent")
            veto.append(vetoed(quick))
            texts.append(example.text)
        print(f"  {voice}: {len(held)} held out", flush=True)

    def line(name: str, alert: list[bool]) -> None:
        tp = sum(a and t for a, t in zip(alert, truth))
        print(f"{name:<34} urgent recall {tp / max(1, sum(truth)):.3f} ({tp}/{sum(truth)})  "
              f"precision {tp / max(1, sum(alert)):.3f} ({tp}/{sum(alert)})")

    n = len(truth)
    print(f"\nleave-one-voice-out over {len(voices)} voices, {n} held-out messages, pooled")
    line("word lists alone (quick step)", by_rules)
    missed = [i for i in range(n) if truth[i] and not by_rules[i]]
    for t in THRESHOLDS:
        alert = [by_rules[i] or (scores[i] >= t and not veto[i]) for i in range(n)]
        caught = sum(alert[i] for i in missed)
        line(f"word lists or screen >= {t:.1f}", alert)
        print(f"{'':<34} of the {len(missed)} urgent the word lists miss, the screen catches {caught}")
    if full:
        line("full triage (rules, model, embedding)", full)
        for t in THRESHOLDS:
            added = [i for i in range(n) if not by_rules[i] and scores[i] >= t and not veto[i]]
            confirmed = sum(full[i] for i in added)
            print(f"screen >= {t:.1f}: {len(added)} alerts beyond the word lists, the full triage confirms "
                  f"{confirmed}, lowers {len(added) - confirmed}")
        late = [i for i in range(n) if full[i] and not by_rules[i] and not (scores[i] >= SCREEN_URGENT and not veto[i])]
        print(f"urgent by the full triage but neither word lists nor screen >= {SCREEN_URGENT} "
              f"(alerted only after the full triage): {len(late)}")
    alone = [scores[i] >= SCREEN_URGENT and not veto[i] for i in range(n)]
    line(f"screen alone >= {SCREEN_URGENT}", alone)
    if args.errors:
        print(f"\nurgent messages missed by word lists and screen >= {SCREEN_URGENT}:")
        for i in missed:
            if not (scores[i] >= SCREEN_URGENT and not veto[i]):
                print(f"  {scores[i]:.2f} {texts[i][:100]}")


if __name__ == "__main__":
    main()
