"""Retention reuses the escalation fixtures: seeded organisations, bodies and rules; a controlled clock."""

from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
