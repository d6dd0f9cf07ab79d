"""Dates in messages are in the reader's zone, and say which zone.

A grievance body reads its deadline in the zone of the organisation that escalated the case
("2026-12-13 03:30 (Phnom Penh time)"), a reporter reads the day of their report where the
organisation handling it works (a STATUS reply: tests/bots/sms/test_status_local_day.py). The clock
is put at an hour where the UTC day and the local day differ, so a UTC date fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from service.escalation import service as esc
from service.kit import clock
from service.orgs.models import Organisation
from service.orgs.service import set_org_time_zone
from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
from tests.escalation.factories import make_case, outbox, payload, text_of

UTC = timezone.utc
# (organisation zone, UTC time of day where the local day is already the next one, names in km and en)
ZONES = [("Asia/Phnom_Penh", (20, 30), "ម៉ោងភ្នំពេញ", "Phnom Penh time"),
         ("Africa/Johannesburg", (22, 30), "ម៉ោងចូហានណេសប៊ើក", "Johannesburg time")]


def _evening(hour: int, minute: int) -> datetime:
    """Move the clock to the next hour:minute UTC; returns it."""
    current = clock.now()
    target = current.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= current:
        target += timedelta(days=1)
    clock.advance(target - current)
    return target


def _set_zone(session: Session, org_id: int | None, zone: str) -> None:
    org = session.get(Organisation, org_id)
    assert org is not None
    set_org_time_zone(session, slug=org.slug, time_zone=zone)


@pytest.mark.parametrize(("zone", "evening", "km_name", "_en"), ZONES)
def test_body_reads_its_deadline_in_the_escalating_organisations_zone(
        engine, seeded, controlled_clock, zone: str, evening: tuple[int, int], km_name: str, _en: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    # A deadline is a whole number of days after the escalation: escalated at this hour, it falls where
    # the UTC day and the local day differ.
    _evening(*evening)
    with Session(engine) as s:
        report = make_case(s)
        _set_zone(s, report.org_id, zone)
        escalation = esc.escalate(s, report, actor="handler")
        due = escalation.due_at
        assert due is not None
        local = due.astimezone(ZoneInfo(zone))
        assert local.date() != due.astimezone(UTC).date()
        (mail,) = [payload(r) for r in outbox(s, kind="email", report_id=report.id)]
        expected = f"{local:%Y-%m-%d %H:%M} ({km_name})"  # the bundled body reads Khmer
        assert f"សូមឆ្លើយតបមុនថ្ងៃ: {expected}" in mail["text"], mail["text"]
        assert expected in mail["subject"]
        assert f": {due.astimezone(UTC):%Y-%m-%d}\n" not in mail["text"]
        webhook = [payload(r) for r in outbox(s, kind="webhook", report_id=report.id)]
        for sent in webhook:
            assert sent["data"]["due_date"] == f"{local:%Y-%m-%d}" and sent["data"]["time_zone"] == zone
        s.rollback()


@pytest.mark.parametrize(("zone", "evening", "_km", "_en"), ZONES)
def test_reporter_reads_the_day_of_their_report_where_it_is_handled(
        engine, seeded, controlled_clock, zone: str, evening: tuple[int, int], _km: str, _en: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    made = _evening(*evening)
    with Session(engine) as s:
        report = make_case(s, address="+85512000111")
        _set_zone(s, report.org_id, zone)
        esc.escalate(s, report, actor="handler")
        texts = [text_of(r) for r in outbox(s, report_id=report.id) if r.kind == "message"]
        local_day = made.astimezone(ZoneInfo(zone)).date()
        assert local_day != made.date()
        assert any(f"your report of {local_day:%Y-%m-%d}" in t for t in texts), texts
        assert not any(f"{made:%Y-%m-%d}" in t for t in texts), texts
        s.rollback()



@pytest.mark.parametrize("language", ["en", "km", "pt"])
def test_every_offered_zone_is_named_in_each_language(language: str) -> None:
    from service.kit import zones
    from service.kit.i18n import gettext, has_khmer

    for name in zones.SPOKEN:
        label = zones.zone_label(name, language)
        assert label != f"zone:{name}" and label == gettext(language, f"zone:{name}"), (language, name)
        assert has_khmer(label) == (language == "km"), (language, label)
    # A zone without an entry is named by its offset, in any language.
    assert zones.zone_label("America/Sao_Paulo", language, datetime(2027, 1, 1, tzinfo=UTC)) == "UTC-03:00"


@pytest.mark.parametrize(("zone", "evening", "_km", "en_name"), ZONES)
def test_response_page_gives_the_deadline_in_the_page_language_and_zone(
        app, engine, seeded, controlled_clock, zone: str, evening: tuple[int, int], _km: str, en_name: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _evening(*evening)
    with Session(engine) as s:
        report = make_case(s)
        _set_zone(s, report.org_id, zone)
        escalation = esc.escalate(s, report, actor="handler")
        local = escalation.due_at.astimezone(ZoneInfo(zone))  # type: ignore[union-attr]
        path = "/respond/" + esc.response_url(escalation).split("/respond/", 1)[1]
        s.commit()
    page = app.get(path, params={"lang": "en"})
    assert page.status_code == 200
    assert f"<dd>{local:%Y-%m-%d %H:%M} ({en_name})</dd>" in page.text, page.text
