"""Time zones: stored in UTC, shown in the reader's zone (the user's own, else the organisation's, else
SAMLENG_TIME_ZONE) on pages, exports and the quarterly PDF; set from the CLI, the demo seed and the
account page. The day boundary: a report at 20:00 UTC is the next day, 03:00, in Phnom Penh."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from service.kit import zones
from service.orgs.models import Organisation, User
from service.flows.zones import set_org_time_zone
from service.reports.models import Report
from tests.support.database import TEST_KEYS
from tests.support.review import csrf_of, make_report, sign_in

ROOT = Path(__file__).resolve().parents[2]
EVENING = datetime(2026, 6, 30, 20, 0, tzinfo=timezone.utc)  # 1 July 03:00 in Phnom Penh, 22:00 in Johannesburg


def test_the_day_boundary() -> None:
    assert zones.show(EVENING, "Asia/Phnom_Penh", label=True) == "2026-07-01 03:00 +07"
    assert zones.show(EVENING, "Africa/Johannesburg", label=True) == "2026-06-30 22:00 SAST"
    assert zones.show(EVENING, "Africa/Maputo", "%Y-%m-%d") == "2026-06-30"
    assert zones.show(EVENING.replace(tzinfo=None), "Asia/Phnom_Penh") == "2026-07-01 03:00"  # naive = UTC
    assert zones.zone("Not/AZone") is zones.UTC and not zones.valid("../../etc/passwd")


@pytest.fixture
def evening_case(world, engine):  # type: ignore[no-untyped-def]
    """Org A works in Phnom Penh, org B in Johannesburg; org A's case arrived 30 June 20:00 UTC."""
    with Session(engine, expire_on_commit=False) as s:
        set_org_time_zone(s, slug="org-a", time_zone="Asia/Phnom_Penh")
        set_org_time_zone(s, slug="org-b", time_zone="Africa/Johannesburg")
        case = make_report(s, org_id=world.orgs["a"], text="Evening report", at=EVENING)
        case_b = make_report(s, org_id=world.orgs["b"], text="Evening report in Gauteng", at=EVENING)
        s.commit()
        return case.id, case_b.id


def test_case_page_shows_the_organisations_zone(app, evening_case) -> None:  # type: ignore[no-untyped-def]
    case_a, case_b = evening_case
    sign_in(app, "handler@a.test")
    page = app.get(f"/cases/{case_a}").text
    assert "2026-07-01 03:00 +07" in page and "2026-06-30 20:00" not in page
    sign_in(app, "handler@b.test")
    assert "2026-06-30 22:00 SAST" in app.get(f"/cases/{case_b}").text


def test_the_queues_rows_show_the_readers_zone(app, evening_case, engine) -> None:  # type: ignore[no-untyped-def]
    """The queue's dates (a due time, or when the first response is due) follow the same zone as
    the case page: the organisation's, else the user's own."""
    import re

    from service.queue.service import first_response_due

    _, case_b = evening_case
    with Session(engine) as s:
        report = s.get_one(Report, case_b)
        due = report.due_at or first_response_due(report.created_at, report.urgency)

    def cell() -> str:
        row = re.search(r'<tr[^>]*data-case="%d">.*?</tr>' % case_b, app.get("/").text, re.S)
        assert row, "the case is not in the queue"
        return row.group(0)

    sign_in(app, "handler@b.test")
    assert zones.show(due, "Africa/Johannesburg") in cell()
    token = csrf_of(app.get("/account").text)
    app.post("/account/time-zone", data={"time_zone": "UTC", "csrf_token": token})
    assert zones.show(due, "UTC") in cell() and zones.show(due, "Africa/Johannesburg") not in cell()


def test_a_users_own_zone_wins_and_a_bad_one_is_refused(app, evening_case, engine) -> None:  # type: ignore[no-untyped-def]
    case_a, _ = evening_case
    sign_in(app, "handler@a.test")
    token = csrf_of(app.get("/account").text)
    refused = app.post("/account/time-zone", data={"time_zone": "Mars/Olympus", "csrf_token": token})
    assert refused.status_code == 422 and "Choose a time zone from the list." in refused.text
    saved = app.post("/account/time-zone", data={"time_zone": "UTC", "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303
    assert "2026-06-30 20:00 UTC" in app.get(f"/cases/{case_a}").text
    with Session(engine) as s:
        assert s.exec(select(User).where(User.email == "handler@a.test")).one().time_zone == "UTC"
    app.post("/account/time-zone", data={"time_zone": "", "csrf_token": token})  # back to the organisation's
    assert "2026-07-01 03:00 +07" in app.get(f"/cases/{case_a}").text
    # No CSRF token: refused, nothing changed.
    assert app.post("/account/time-zone", data={"time_zone": "UTC"}).status_code == 403


def test_case_export_months_are_local(app, evening_case) -> None:  # type: ignore[no-untyped-def]
    sign_in(app, "supervisor@a.test")
    body = app.get("/exports/cases.csv?since=2026-06-01&until=2026-08-01")
    assert body.status_code == 200
    rows = list(csv.DictReader(io.StringIO(body.content.decode("utf-8-sig"))))
    months = [r["created_month"] for r in rows if r.get("narrative_masked") == "Evening report"]
    assert months == ["2026-07"], rows
    sign_in(app, "supervisor@b.test")
    rows = list(csv.DictReader(io.StringIO(app.get("/exports/cases.csv?since=2026-06-01&until=2026-08-01")
                                          .content.decode("utf-8-sig"))))
    assert [r["created_month"] for r in rows if r.get("narrative_masked") == "Evening report in Gauteng"] == ["2026-06"]


def test_chosen_dates_start_at_local_midnight(app, evening_case) -> None:  # type: ignore[no-untyped-def]
    # 1 July in Phnom Penh starts at 30 June 17:00 UTC: the evening report falls inside "since 2026-07-01".
    sign_in(app, "supervisor@a.test")
    rows = list(csv.DictReader(io.StringIO(app.get("/exports/cases.csv?since=2026-07-01&until=2026-07-02")
                                          .content.decode("utf-8-sig"))))
    assert [r["narrative_masked"] for r in rows] == ["Evening report"]


def test_cli_sets_an_organisations_zone(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    env = {**os.environ, **TEST_KEYS, "SAMLENG_DATABASE_URL": f"sqlite:///{db}", "SAMLENG_ENV": "development",
           "SAMLENG_SPOOL_DIR": str(tmp_path / "spool"), "SAMLENG_VAR_DIR": str(tmp_path / "var"),
           "PYTHONPATH": str(ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=300)

    assert run("migrate").returncode == 0
    made = run("org", "create", "--slug", "exminers", "--name", "Ex-miners", "--time-zone", "Africa/Maputo")
    assert made.returncode == 0 and "Africa/Maputo" in made.stdout, made.stderr
    bad = run("org", "zone", "--slug", "exminers", "--time-zone", "Africa/Atlantis")
    assert bad.returncode != 0 and "unknown time zone" in bad.stderr and "Traceback" not in bad.stderr
    assert run("org", "zone", "--slug", "exminers", "--time-zone", "Africa/Johannesburg").returncode == 0
    with Session(create_engine(f"sqlite:///{db}")) as s:
        assert s.exec(select(Organisation)).one().time_zone == "Africa/Johannesburg"


def test_demo_organisations_have_their_zones(engine, places) -> None:  # type: ignore[no-untyped-def]
    from service.demo import load_demo

    with Session(engine, expire_on_commit=False) as s:
        load_demo(s)
        found = {o.slug: o.time_zone for o in s.exec(select(Organisation)).all()}
    assert found == {"khana-demo": "Asia/Phnom_Penh", "legal-aid-demo": "Asia/Phnom_Penh",
                     "exminers-demo": "Africa/Johannesburg"}
