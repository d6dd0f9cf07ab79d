"""Fixtures for the retaliation watch: the escalation tests' seeded organisations, bodies and rules and
their controlled clock."""

from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
