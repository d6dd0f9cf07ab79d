"""Times in the reader's zone on the pages the first time-zone pass missed: the escalation's
confirmation page ("Answer due by"), a handler's cases on the workload page, and the printable
case file (its dates and the moment it was printed). Stored in UTC; a case due at 20:00 UTC is
due at 03:00 the next day in Phnom Penh."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlmodel import Session

from service.casefile.service import casefile_html
from service.orgs.models import User
from service.flows.zones import set_org_time_zone
from service.reports.models import Report
from tests.support.review import sign_in

EVENING = datetime(2026, 6, 30, 20, 0, tzinfo=timezone.utc)


def _in_phnom_penh(engine, case_id: int) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        set_org_time_zone(s, slug="khana-demo", time_zone="Asia/Phnom_Penh")
        report = s.get(Report, case_id)
        report.created_at = EVENING
        report.due_at = EVENING
        s.add(report)
        s.commit()


def test_escalate_confirmation_gives_the_deadline_in_the_readers_zone(app, khana, engine) -> None:  # type: ignore[no-untyped-def]
    _in_phnom_penh(engine, khana.id)
    sign_in(app, "handler@khana.test")
    page = app.get(f"/cases/{khana.id}/escalate").text
    due = re.search(r'id="target-due">([^<]*)<', page)
    assert due is not None, page[:2000]
    assert due.group(1).strip().endswith("+07") and "UTC" not in due.group(1), due.group(1)


def test_workload_cases_show_due_times_in_the_readers_zone(app, khana, engine) -> None:  # type: ignore[no-untyped-def]
    _in_phnom_penh(engine, khana.id)
    with Session(engine) as s:
        report = s.get(Report, khana.id)
        report.assigned_user_id = next(u.id for u in s.query(User).all() if u.email == "handler@khana.test")
        report.status = "in_progress"
        s.add(report)
        s.commit()
        holder = report.assigned_user_id
    sign_in(app, "supervisor@khana.test")
    page = app.get(f"/supervise/workload/{holder}").text
    assert "2026-07-01 03:00" in page and "2026-06-30 20:00" not in page


def test_case_file_dates_are_in_the_organisations_zone(khana, engine) -> None:  # type: ignore[no-untyped-def]
    _in_phnom_penh(engine, khana.id)
    with Session(engine) as s:
        html = casefile_html(s, s.get(Report, khana.id), language="en")
    assert "2026-07-01" in html and "2026-06-30" not in html
    assert " UTC" not in html
