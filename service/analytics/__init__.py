"""Evidence for advocacy: suppressed aggregates, charts, public page, Open311, exports, DHIS2 (docs/analytics.md)."""

# Body metrics from the escalation tables (docs/analytics.md "Body metrics"), registered once at import.
from service.analytics import escalations as _escalations  # noqa: E402

_escalations.register()

# Retaliation rates per facility (docs/retaliation.md), beside the body figures.
from service.analytics import retaliation as _retaliation  # noqa: E402

_retaliation.register()
