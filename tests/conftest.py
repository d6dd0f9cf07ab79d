"""Fixtures live in tests/support/ by concern; this file only wires them in."""

pytest_plugins = [
    "tests.support.caches",
    "tests.support.database",
    "tests.support.server",
    "tests.support.twilio_fake",
    "tests.support.review",
    "tests.support.writer",
    "tests.support.triage_model",
]
