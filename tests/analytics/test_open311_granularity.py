"""Open311 reveals no more than the public page: date filters work at the month (the published
granularity), and a listed record never stands in a count the public page hides."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlmodel import Session

from service.analytics import open311, publish, queries as q
from service.kit.clock import now
from tests.support.factories import make_report, place


def _mid_month() -> datetime:
    at = now()
    start = datetime(at.year, at.month, 1, tzinfo=timezone.utc)
    return start + (at - start) / 2


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_date_filters_cannot_find_a_reports_time(live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    at = _mid_month()
    pid = place(session, "KH-17").id
    for _ in range(12):
        make_report(session, place_id=pid, category="stigma_discrimination", at=at)
    session.commit()
    get = live_server.client.get

    def count(**params: str) -> int:
        return len(get("/open311/v2/requests.json", params=params).json())

    # A millisecond before or after the moment of creation: the same answer (the whole month).
    assert count(start_date=_iso(at - timedelta(milliseconds=1))) == 12
    assert count(start_date=_iso(at + timedelta(milliseconds=1))) == 12
    assert count(start_date=_iso(at - timedelta(days=40)), end_date=_iso(at - timedelta(milliseconds=1))) == 12
    assert count(start_date=_iso(at - timedelta(days=40)), end_date=_iso(at + timedelta(milliseconds=1))) == 12


def test_no_listed_record_sits_in_a_count_the_public_page_hides(session: Session, places: None, settings) -> None:  # type: ignore[no-untyped-def]
    at = _mid_month()
    kampot = place(session, "KH-7").id
    for _ in range(11):
        make_report(session, place_id=kampot, category="service_quality", status="in_progress", at=at)
    make_report(session, place_id=kampot, category="service_quality", status="resolved", at=at)
    session.commit()
    since = datetime(at.year, at.month, 1, tzinfo=timezone.utc)
    listed = open311.requests(session, filters=q.Filters(since, None), limit=1000)
    table, codes = publish.province_table(session, filters=q.Filters(*publish.default_window()))
    assert table.shown(codes.index("KH-7"), 1) == "<10"  # the public page shows Kampot's resolved as <10
    per_cell = Counter((r["address_id"], r["status_notes"]) for r in listed)
    threshold = settings.suppression_threshold
    assert all(n >= threshold for n in per_cell.values()), per_cell  # no small group listed...
    assert not [r for r in listed if r["address_id"] == "KH-7" and r["status"] == "closed"]  # ...nor Kampot's one
    # Kampot's 11 open ones are listed only if the page shows that count (here it hides it as x, alone
    # in its row with the <10, so it would tell the 1).
    shown_open = table.shown(codes.index("KH-7"), 0)
    assert len([r for r in listed if r["address_id"] == "KH-7"]) == (11 if shown_open == "11" else 0), shown_open


def _status_column(note: str) -> int:
    """The province table's column of a record's status group (as the feed names it in English)."""
    from service.analytics.labels import label

    return {label("en", g): k for k, g in enumerate(("open", "resolved", "other"))}[note]


def test_a_group_of_ten_in_a_cell_the_public_page_hides_as_x_is_not_listed(live_server, session: Session,
                                                                            places: None, settings) -> None:  # type: ignore[no-untyped-def]
    """Kampot: 11 open and 3 resolved; Kandal: 15 open and 12 resolved. The public page hides Kampot's
    3 as <10 and, to protect it, Kampot's and Kandal's open counts as x. Listing Kampot's 11 open
    reports (a group of ten or more) would tell the x, and with it the 3."""
    settings.suppression_threshold = 10
    at = _mid_month()
    kampot, kandal = place(session, "KH-7").id, place(session, "KH-8").id
    def add(pid: int, status: str, n: int) -> None:
        for _ in range(n):
            make_report(session, place_id=pid, category="service_quality", status=status, at=at)
        session.commit()

    add(kampot, "in_progress", 11)
    add(kandal, "in_progress", 15)
    add(kandal, "resolved", 12)
    # Before Kampot's 3 resolved reports, the page shows its 11 open ones: they are listed.
    before = live_server.client.get("/open311/v2/requests.json").json()
    assert len([r for r in before if r["address_id"] == "KH-7"]) == 11
    add(kampot, "resolved", 3)  # the feed must not answer from what it worked out before
    # What /public shows for its window: Kampot's open count hidden as x.
    page = publish.public_raw(session, filters=q.Filters(*publish.default_window()))
    provinces = publish.public_tables(page.raw)["provinces"]
    row = page.province_codes.index("KH-7")
    assert provinces.shown(row, 0) == "x" and provinces.shown(row, 1) == "<10"
    session.commit()  # end the read: the server writes (its rollup) while answering
    listed = live_server.client.get("/open311/v2/requests.json").json()
    hidden = [(code, col_) for i, code in enumerate(page.province_codes) for col_ in range(3)
              if (i, col_) in provinces.hidden]
    assert ("KH-7", 0) in hidden
    leaked = Counter((r["address_id"], _status_column(r["status_notes"])) for r in listed
                     if (r["address_id"], _status_column(r["status_notes"])) in hidden)
    assert not leaked, leaked


def test_a_record_is_listed_under_the_local_month_the_public_page_counts_it_in(live_server, session: Session,
                                                                              places: None, settings) -> None:  # type: ignore[no-untyped-def]
    """Phnom Penh (UTC+7): reports made at 01:30 on the first of this month are 18:30 UTC on the last day
    of the month before. The public page counts them in this month; the feed lists them in this month too,
    its date filters cut at the local month, and the check that may hide them looks at that month's cells."""
    from service.analytics import rollup
    from service.orgs.service import create_org

    settings.suppression_threshold = 10
    org = create_org(session, slug="kh-cso", name="Cambodian CSO", time_zone="Asia/Phnom_Penh")
    at = now()
    first_utc = datetime(at.year, at.month, 1, tzinfo=timezone.utc)
    made = first_utc - timedelta(hours=5, minutes=30)  # 01:30 on the 1st in Phnom Penh
    pid = place(session, "KH-12").id
    for i in range(12):
        make_report(session, place_id=pid, org_id=org.id, category="stigma_discrimination", status="in_progress",
                    at=made + timedelta(seconds=i), updated_at=made)
    session.commit()
    month = f"{at.year:04d}-{at.month:02d}"
    local_first = f"{month}-01T00:00:00+07:00"
    get = live_server.client.get
    listed = get("/open311/v2/requests.json").json()
    assert len(listed) == 12
    assert {r["requested_datetime"] for r in listed} == {local_first}
    # The date filters cut at the same local month.
    assert len(get("/open311/v2/requests.json", params={"start_date": local_first}).json()) == 12
    before = get("/open311/v2/requests.json", params={"start_date": _iso(first_utc - timedelta(days=60)),
                                                      "end_date": local_first}).json()
    assert before == []
    # Listing and page agree: for each (category, month) the feed lists, the page shows at least as many.
    session.commit()
    rollup.refresh_if_stale(session)
    page = publish.public_raw(session, filters=q.Filters(*publish.default_window()))
    over_time = publish.public_tables(page.raw)["over_time"]
    months = page.raw["over_time"][2]
    per_cell = Counter((r["service_code"], r["requested_datetime"][:7]) for r in listed)
    for (category, listed_month), n in per_cell.items():
        shown = over_time.cell(page.categories.index(category), months.index(listed_month))
        assert shown is not None and shown >= n, (category, listed_month, shown, n)


def test_dates_at_the_ends_of_the_calendar_get_a_clear_400(live_server, places: None) -> None:  # type: ignore[no-untyped-def]
    """Rounding out to whole months (or the 90 days before an end date) past year 9999 or before year 1."""
    get = live_server.client.get
    for params in ({"end_date": "9999-12-15T00:00:00Z"}, {"end_date": "0001-01-05T00:00:00Z"}):
        answer = get("/open311/v2/requests.json", params=params)
        assert answer.status_code == 400, (params, answer.status_code)
        assert "date" in answer.json()["detail"]
    # The last month there is, read on its own wall clock: nothing in it, and no error.
    assert get("/open311/v2/requests.json", params={"start_date": "9999-12-31T23:00:00-05:00"}).json() == []
