"""Evidence for advocacy: suppressed aggregates, charts, public page, Open311, exports, DHIS2 (docs/analytics.md)."""
