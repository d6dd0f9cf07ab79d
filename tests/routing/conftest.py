"""Routing reuses the escalation fixtures: seeded organisations, bodies and rules; a mail server."""

from tests.escalation.conftest import controlled_clock, seeded, smtp  # noqa: F401  (fixtures)
