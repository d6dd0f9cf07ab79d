"""The model: its one-message fast path equals scikit-learn's, and importing triage stays light."""

from __future__ import annotations

import json
import subprocess
import sys

from service.triage import model as triage_model
from service.triage import reading, rules

TEXTS = ["no ARV at the hc", "អស់ថ្នាំ ARV នៅមណ្ឌលសុខភាព", "ke vay knhom eylov", "cobraram 500 mt", "", "zzzz qqq"]


def test_single_message_path_equals_scikit_learn() -> None:
    model = triage_model.get_model()
    analysed = [reading.analyse(t) for t in TEXTS]
    texts = [a[0] for a in analysed]
    feats = [rules.features(a[2]) for a in analysed]
    emb = model.embeddings(TEXTS)
    assert (emb is None) == (model.embedder_name is None)
    x = triage_model._with_features(model.vectorizer.transform(texts), feats, emb)
    cat, urg = model.category.predict_proba(x), model.urgency.predict_proba(x)
    for i, text in enumerate(texts):
        (fast_cat, fast_urg), = model.scores([text], [feats[i]], [TEXTS[i]])
        for j, name in enumerate(model.category.classes_):
            assert abs(fast_cat[str(name)] - cat[i][j]) < 1e-5
        for j, name in enumerate(model.urgency.classes_):
            assert abs(fast_urg[str(name)] - urg[i][j]) < 1e-5


def test_importing_triage_does_not_load_scikit_learn() -> None:
    code = "import sys, service.triage; print(json.dumps(['sklearn' in sys.modules, 'numpy' in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, False]


def test_warm_in_background_loads_the_model_without_blocking_the_caller() -> None:
    from service.triage.service import warm_in_background

    triage_model.set_model(None)
    thread = warm_in_background()
    assert thread.daemon  # never holds a shutting-down process open
    thread.join(600)
    assert not thread.is_alive()
    assert triage_model._current is not None  # loaded by the thread, ready for the first report


def test_the_web_app_loads_a_cached_model_but_never_trains_one(tmp_path, monkeypatch, settings, engine) -> None:
    """`samleng serve` shares two cores with the requests it answers: training (tens of seconds of
    CPU, on every start after the labelled data changed) is the worker's job. The web app loads
    the model the worker cached, and without one starts with the rules alone."""
    from starlette.testclient import TestClient

    from service.app import create_app

    missing = tmp_path / "model.joblib"
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(missing))
    triage_model.set_model(None)
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        app.state.triage_warm.join(600)
    assert not missing.exists()  # nothing trained and cached by the web process
    assert triage_model._current is None


def test_the_web_app_loads_the_workers_cached_model(trained_model_file, monkeypatch, settings, engine) -> None:
    from starlette.testclient import TestClient

    from service.app import create_app

    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(trained_model_file))
    triage_model.set_model(None)
    app = create_app(settings)
    with TestClient(app):
        app.state.triage_warm.join(600)
    assert triage_model._current is not None


def test_without_a_cache_the_model_is_trained_and_cached(tmp_path, monkeypatch) -> None:
    target = tmp_path / "fresh" / "model.joblib"
    monkeypatch.setenv("SAMLENG_TRIAGE_MODEL", str(target))
    triage_model.set_model(None)
    model = triage_model.get_model()
    assert target.exists() and triage_model.load_cached() is model
    triage_model.set_model(None)
    assert triage_model.load_cached() is not None  # read back from the file just written


def test_two_saves_at_once_each_write_their_own_file_and_leave_a_whole_model(
    trained_model_file, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Two workers sharing a var dir may cache a retrained model at the same moment. Each writes
    # its own temporary file and renames it; neither renames the other's half-written file or
    # finds it gone. The barrier holds both writers inside the write at once.
    import threading

    import joblib

    model = triage_model.load(trained_model_file)
    real_dump, barrier, names, errors = joblib.dump, threading.Barrier(2, timeout=60), [], []

    def dump(value, filename, *args, **kwargs):  # type: ignore[no-untyped-def]
        names.append(str(filename))
        barrier.wait()
        return real_dump(value, filename, *args, **kwargs)

    monkeypatch.setattr(joblib, "dump", dump)
    target = tmp_path / "triage" / "model.joblib"

    def save() -> None:
        try:
            triage_model.save(model, target)
        except Exception as exc:  # the test reports what each writer met
            errors.append(exc)

    writers = [threading.Thread(target=save) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert errors == [] and len(set(names)) == 2, (errors, names)
    assert triage_model.load(target).meta == model.meta
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.joblib"]
