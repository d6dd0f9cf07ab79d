"""Process tuning for `samleng serve` (service/app.py, `create_app(gc_tuning=True)`) and the benchmark's
bare app, so both run alike. It changes the whole process: an app built by a test or a script does not tune."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Call once everything long-lived is loaded (libraries, the triage model).

    Those objects live as long as the process: freezing them keeps them out of the cyclic
    collector's full passes, which otherwise stalled requests for tens of milliseconds (p99
    of the SMS webhook fell from 19x to 5x the bare endpoint's). A request allocates
    thousands of short-lived objects (SQLAlchemy, Starlette), so the young generation is
    collected every 50,000 allocations instead of 700.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)
