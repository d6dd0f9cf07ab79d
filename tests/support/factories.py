"""Test data made the way the product makes it: through the services' public functions.

One report factory for every test folder. `make_report` stores the report with
`service.reports.service.create_report` (sealed and masked narrative, receipt hash, the
"received" event), then sets the columns a test asks for, as routing, triage or a handler
would have left them. Callers name what matters to them (time, place, organisation,
narrative, ...) with keyword arguments.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from service.intake.vault import store_contact
from service.kit.clock import now
from service.places.models import Place
from service.queue.service import ListRow
from service.reports.models import Report
from service.reports.service import create_report, find_or_create_reporter

NARRATIVE = "The clinic had no medicine today"


def make_report(session: Session, *, narrative: str = NARRATIVE, at: datetime | None = None, channel: str = "sms",
                language: str = "en", org_id: int | None = None, place_id: int | None = None,
                category: str | None = None, urgency: str = "normal", due_in: timedelta | None = None,
                consent_address: str | None = None, **columns: Any) -> Report:
    """A report as intake stores it (at `at`, default now), then given the columns asked for.

    `due_in` sets the deadline relative to now; `consent_address` makes the reporter (by
    pseudonym), keeps the address in the contact vault and records consent to follow-up.
    Any other keyword is a Report column (status, assigned_user_id, created_at, ...).
    """
    reporter_id = None
    if consent_address:
        reporter, _new = find_or_create_reporter(session, channel=channel, address=consent_address)
        reporter_id = reporter.id
    report, _code = create_report(session, channel=channel, reporter_id=reporter_id, narrative=narrative,
                                  language=language, at=at)
    report.org_id, report.place_id, report.category, report.urgency = org_id, place_id, category, urgency
    if due_in is not None:
        report.due_at = now() + due_in
    for key, value in columns.items():
        if not hasattr(Report, key):
            raise TypeError(f"make_report: Report has no column {key!r}")
        setattr(report, key, value)
    if consent_address:
        report.consent_followup = True
        store_contact(session, reporter_id=reporter_id, report_id=report.id, channel=channel,  # type: ignore[arg-type]
                      address=consent_address)
    session.add(report)
    session.flush()
    return report


def place(session: Session, code: str) -> Place:
    """A place from the loaded places data, by its code (e.g. "KH-12")."""
    found = session.exec(select(Place).where(Place.code == code)).first()
    assert found is not None, f"place {code} not loaded"
    return found


def two_places(session: Session) -> tuple[int, int]:
    """The ids of the first two health centres in the loaded places data."""
    rows = session.exec(select(Place).where(Place.kind == "health_centre").order_by(Place.id).limit(2)).all()
    assert len(rows) == 2, "places data not loaded"
    return rows[0].id, rows[1].id  # type: ignore[return-value]


def list_row(at: datetime, **changes: Any) -> ListRow:
    """One row of the queue's list as the queue's query returns it (for rendering tests): a case
    received two days before `at`, due three days after it; any field can be changed."""
    values: dict[str, Any] = dict(
        id=1, status="received", category="stigma_discrimination", urgency="normal", channel="sms",
        population=None, language="en", place_id=7, narrative_masked="story", created_at=at - timedelta(days=2),
        updated_at=at - timedelta(days=1), due_at=at + timedelta(days=3), assigned_user_id=None, cluster_id=None,
        org_id=1)
    values.update(changes)
    return ListRow(**values)
