"""Sequences across domains: each one calls several domains' public functions in order (docs/architecture.md)."""
