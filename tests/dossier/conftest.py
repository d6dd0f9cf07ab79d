"""Fixtures for dossiers: the demo organisations, bodies and rules, and a controlled clock (as for escalation)."""

from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
