"""Every change to a field the dashboard aggregates bumps `report.updated_at`.

The analytics rollup (service/analytics/rollup.py) finds what to recompute by `updated_at`.
Rather than trusting every write path (status changes, triage corrections, closure,
satisfaction, body answers, merges, …) to remember the bump, a mapper event does it at
flush time for any ORM change of one of AGGREGATED; a writer that sets `updated_at` itself
keeps its value. Changes to a report's escalations bump it too (service/escalation/models.py).
Bulk Core UPDATEs of these columns bypass this: bump `updated_at` in the same statement.
"""

from __future__ import annotations

from sqlalchemy import event, inspect

from service.kit.clock import now
from service.reports.models import Report

# The report columns the rollup reads (tests/analytics/test_change_tracking.py checks this list against
# the SQL the rollup actually runs).
AGGREGATED = frozenset({
    "status", "category", "urgency", "channel", "population", "place_id", "created_at", "due_at",
    "first_response_at", "resolved_at", "closed_at", "satisfaction", "cluster_id",
    "org_id",  # the zone a report's local day is counted in (service/analytics/localday.py)
})


@event.listens_for(Report, "before_update")
def _bump_updated_at(mapper, connection, target: Report) -> None:  # type: ignore[no-untyped-def]
    state = inspect(target)
    if state.attrs.updated_at.history.has_changes():
        return
    if any(state.attrs[name].history.has_changes() for name in AGGREGATED):
        target.updated_at = now()
