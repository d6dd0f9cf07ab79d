"""Fixtures for dossiers: the demo organisations, bodies and rules (as for escalation)."""

from tests.escalation.conftest import seeded  # noqa: F401  (fixture)
