"""Evaluate triage: leave-one-voice-out (the figure to improve), the in-house split, speed.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python bench/triage_eval.py            # voices
    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python bench/triage_eval.py --split    # in-house split + speed
    .venv/bin/python bench/triage_eval.py --errors      # also print each held-out mistake
    .venv/bin/python bench/triage_eval.py --confusion   # per class and confusion, pooled and per language
    .venv/bin/python bench/triage_eval.py --heldout new_voice.jsonl [--heldout other.jsonl]

--heldout FILE (repeatable): train exactly as the shipped model is trained (train.jsonl plus
every file in service/triage/data/voices/) and test on these files, which must not be in
that folder: per file ("voice") and per language, then pooled. Use it for labelled messages
that arrive from new writers, BEFORE they are added to the training data: it is the closest
to an independent evaluation the repo can give.

Leave-one-voice-out: each file in service/triage/data/voices/ was written by one writer
who saw none of the others. For each voice, the model is trained on train.jsonl plus the
OTHER voices and tested on the held-out one; printed per voice and per language (macro-F1
of the category, urgent recall and precision), then pooled, with the spread between voices.
The rules are not retrained per fold: their word lists were written before these voices
arrived and are checked against them only through this script (see docs/triage.md).

--split: the older in-house test split (one writer, bench/data/triage_test.jsonl):
per-class precision/recall/F1, macro-F1, urgent recall and precision, the confusion
matrix, then messages/s on one core (one message at a time, as a webhook would call
classify, and in batches of 256 as the CLI does). Models are trained in this run (not
read from a cached file), so the figures do not depend on the machine's var dir.
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

from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support  # noqa: E402

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


LANGS = ("en", "km", "km-Latn", "pt")


def _scores(rows: list[dict], results: list) -> tuple[float, float, float, int, int, int]:
    """macro-F1, urgent recall, urgent precision, urgent true positives, urgent truths, urgent calls."""
    truth = [r["category"] for r in rows]
    pred = [res.category for res in results]
    macro = float(f1_score(truth, pred, labels=list(CATEGORIES), average="macro", zero_division=0)) if rows else 0.0
    t = [r["urgency"] == "urgent" for r in rows]
    p = [res.urgency == "urgent" for res in results]
    tp = sum(a and b for a, b in zip(t, p))
    return macro, tp / max(1, sum(t)), tp / max(1, sum(p)), tp, sum(t), sum(p)


def _line(name: str, rows: list[dict], results: list) -> str:
    macro, rec, prec, tp, n_true, n_pred = _scores(rows, results)
    by_lang = []
    for lang in LANGS:
        sub = [(r, res) for r, res in zip(rows, results) if r.get("language") == lang]
        by_lang.append(f"{_scores([a for a, _ in sub], [b for _, b in sub])[0]:.2f}({len(sub)})" if sub else "   -    ")
    return (f"{name:<12}{len(rows):>5}  {macro:.3f}  " + "  ".join(f"{x:>9}" for x in by_lang)
            + f"   {rec:.3f} ({tp}/{n_true})  {prec:.3f} ({tp}/{n_pred})")


SWEEP = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


def _decide_at(texts: list[str], thresholds: tuple[float, ...]) -> dict[float, list]:
    """The current model's results for texts at several urgent thresholds (scored once)."""
    from service.triage import reading, service as svc

    prepared = [reading.analyse(t[:svc.MAX_CHARS]) for t in texts]
    scores = triage_model.get_model().scores([p[0] for p in prepared], [svc.rules_mod.features(p[2]) for p in prepared],
                                             [t[:svc.EMBED_CHARS] for t in texts])
    kept, out = svc.MODEL_URGENT, {}
    try:
        for threshold in thresholds:
            svc.MODEL_URGENT = threshold
            out[threshold] = [svc._decide(n, d, f, c, u) for (n, d, f), (c, u) in zip(prepared, scores)]
    finally:
        svc.MODEL_URGENT = kept
    return out


def leave_one_voice_out(errors: bool, sweep: bool, exclude: tuple[str, ...] = (), confusion: bool = False) -> None:
    base = triage_model.read_examples(triage_model.TRAIN_FILE)
    voices = {path.stem: triage_model.read_examples(path) for path in triage_model.voice_files()
              if path.stem not in exclude}
    if exclude:
        print(f"set aside (neither trained on nor tested): {', '.join(exclude)}")
    if not voices:
        print("no voice files in service/triage/data/voices/")
        return
    print(f"leave-one-voice-out over {len(voices)} voices; train.jsonl ({len(base)} in-house messages) "
          "always in training")
    header = (f"{'voice':<12}{'n':>5}  macro   " + "  ".join(f"{lang:>9}" for lang in LANGS)
              + "   urgent recall    urgent precision")
    all_rows, all_results, lines, macros = [], [], [], {}
    swept: dict[float, list] = {}
    lang_macros: dict[str, list[float]] = {lang: [] for lang in LANGS}
    for voice, held in voices.items():
        train = base + [e for v, rows in voices.items() if v != voice for e in rows]
        triage_model.set_model(triage_model.train(train))
        from service.triage import service as svc

        thresholds = tuple(sorted({svc.MODEL_URGENT, *(SWEEP if sweep else ())}))
        at = _decide_at([e.text for e in held], thresholds)
        for threshold, res in at.items():
            swept.setdefault(threshold, []).extend(res)
        results = at[svc.MODEL_URGENT]
        rows = [{"text": e.text, "category": e.category, "urgency": e.urgency, "language": e.language} for e in held]
        lines.append(_line(voice, rows, results))
        macros[voice] = _scores(rows, results)[0]
        for lang in LANGS:
            sub = [(r, res) for r, res in zip(rows, results) if r["language"] == lang]
            if len(sub) >= 10:
                lang_macros[lang].append(_scores([a for a, _ in sub], [b for _, b in sub])[0])
        all_rows += rows
        all_results += results
        if errors:
            for r, res in zip(rows, results):
                wrong_cat = res.category != r["category"]
                wrong_urg = (r["urgency"] == "urgent") != (res.urgency == "urgent")
                if wrong_cat or wrong_urg:
                    print(f"  [{voice}] {r['language']:7} {SHORT[r['category']]:>5}>{SHORT[res.category]:<5} "
                          f"{r['urgency'][:3]}>{res.urgency[:3]}  {r['text'][:150]}")
    print(header)
    for line in lines:
        print(line)
    print(_line("pooled", all_rows, all_results))
    spread = max(macros.values()) - min(macros.values())
    print(f"spread of macro-F1 between voices: {spread:.3f} (min {min(macros.values()):.3f} "
          f"{min(macros, key=macros.get)}, max {max(macros.values()):.3f} {max(macros, key=macros.get)})")
    if sweep:
        print("model's urgent threshold (service.MODEL_URGENT), pooled over held-out voices:")
        for threshold, res in swept.items():
            _, rec, prec, tp, n_true, n_pred = _scores(all_rows, res)
            print(f"  {threshold:.2f}: urgent recall {rec:.3f} ({tp}/{n_true}) precision {prec:.3f} ({tp}/{n_pred})")
    for lang, values in lang_macros.items():
        if values:
            print(f"  {lang:<8} per-voice macro-F1 (voices with >= 10 {lang} messages): "
                  f"min {min(values):.2f} max {max(values):.2f} over {len(values)}")
    if confusion:  # where the categories fail: pooled over the held-out voices, then per language
        report("held-out voices pooled, per class", all_rows, all_results)
        for lang in LANGS:
            sub = [(r, res) for r, res in zip(all_rows, all_results) if r["language"] == lang]
            if sub:
                report(f"held-out voices, {lang}", [a for a, _ in sub], [b for _, b in sub])
    triage_model.set_model(None)


def heldout(paths: list[str], errors: bool, sweep: bool = False) -> None:
    """The shipped model (train.jsonl + every voice file) on labelled files it has not seen."""
    shipped = {p.resolve() for p in triage_model.voice_files()}
    sets = {}
    for name in paths:
        path = Path(name).resolve()
        if path in shipped:
            raise SystemExit(f"{name} is in the training data (service/triage/data/voices/): not held out")
        sets[path.stem] = triage_model.read_examples(path)
    known = {e.text for e in triage_model.repo_examples()}
    triage_model.set_model(triage_model.train(triage_model.repo_examples()))
    print(f"shipped model: train.jsonl + {len(triage_model.voice_files())} voice files; tested on "
          f"{', '.join(sets)} (texts also in the training data: "
          f"{sum(e.text in known for rows in sets.values() for e in rows)})")
    header = (f"{'file':<12}{'n':>5}  macro   " + "  ".join(f"{lang:>9}" for lang in LANGS)
              + "   urgent recall    urgent precision")
    all_rows, all_results, lines = [], [], []
    swept: dict[float, list] = {}
    for name, held in sets.items():
        results = classify_many([e.text for e in held])
        if sweep:
            for threshold, res in _decide_at([e.text for e in held], SWEEP).items():
                swept.setdefault(threshold, []).extend(res)
        rows = [{"text": e.text, "category": e.category, "urgency": e.urgency, "language": e.language} for e in held]
        lines.append(_line(name, rows, results))
        all_rows += rows
        all_results += results
        if errors:
            for r, res in zip(rows, results):
                if res.category != r["category"] or (r["urgency"] == "urgent") != (res.urgency == "urgent"):
                    print(f"  [{name}] {r['language']:7} {SHORT[r['category']]:>5}>{SHORT[res.category]:<5} "
                          f"{r['urgency'][:3]}>{res.urgency[:3]}  {r['text'][:150]}")
    print(header)
    for line in lines:
        print(line)
    print(_line("pooled", all_rows, all_results))
    if sweep:
        print("model's urgent threshold (service.MODEL_URGENT), pooled over the files:")
        for threshold, res in swept.items():
            _, rec, prec, tp, n_true, n_pred = _scores(all_rows, res)
            print(f"  {threshold:.2f}: urgent recall {rec:.3f} ({tp}/{n_true}) precision {prec:.3f} ({tp}/{n_pred})")
    report("pooled, per class", all_rows, all_results)
    triage_model.set_model(None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", action="store_true", help="the in-house test split and speed, not the voices")
    parser.add_argument("--errors", action="store_true", help="print each held-out voice message triaged wrong")
    parser.add_argument("--confusion", action="store_true",
                        help="also per-class precision/recall and the confusion matrix, pooled and per language")
    parser.add_argument("--sweep", action="store_true", help="urgent recall/precision at several model thresholds")
    parser.add_argument("--exclude", action="append", default=[], metavar="VOICE",
                        help="set a voice aside entirely (a final check kept out of tuning); repeatable")
    parser.add_argument("--test", default=str(ROOT / "bench" / "data" / "triage_test.jsonl"))
    parser.add_argument("--repeat", type=int, default=5, help="passes over the test set for the speed figure")
    parser.add_argument("--heldout", action="append", default=[], metavar="FILE",
                        help="test the shipped model on this labelled JSON Lines file (not in training); repeatable")
    args = parser.parse_args()
    if args.heldout:
        heldout(args.heldout, args.errors, args.sweep)
        return
    if not args.split:
        leave_one_voice_out(args.errors, args.sweep, tuple(args.exclude), args.confusion)
        return
    rows = [json.loads(line) for line in Path(args.test).read_text(encoding="utf-8").splitlines() if line.strip()]

    started = time.perf_counter()
    model = triage_model.train(triage_model.repo_examples())  # the in-house split's messages are in none
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
