"""Working-time arithmetic (service/kit/workingtime.py): weekends, Cambodian public holidays, zones."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.kit import workingtime as wt
from service.kit.errors import InvalidInput

PP = ZoneInfo("Asia/Phnom_Penh")  # UTC+7 all year, no daylight saving
CAMBODIA = wt.Calendar.of("Asia/Phnom_Penh", "mon-fri 08:00-17:00", "KH")
H = timedelta(hours=1)


def pp(*args: int) -> datetime:
    return datetime(*args, tzinfo=PP).astimezone(timezone.utc)  # type: ignore[misc]


def test_every_country_samleng_serves_has_public_holidays_in_the_package() -> None:
    for code in wt.COUNTRIES:
        assert wt._holidays(code, 2027), code
    assert wt.holiday("KH", date(2027, 4, 14)) and wt.holiday("KH", date(2027, 9, 30))  # Khmer New Year, Pchum Ben
    assert not wt.holiday("KH", date(2027, 4, 13)) and not wt.holiday(None, date(2027, 4, 14))
    assert "ឆ្នាំថ្មី" in (wt.holiday_name("KH", date(2027, 4, 14), "km") or "")
    assert wt.holiday_name("KH", date(2027, 4, 14)) == "Khmer New Year's Day"


def test_a_friday_afternoon_deadline_skips_the_weekend() -> None:
    # Friday 9 April 2027, 16:00 in Phnom Penh, three working hours: one on Friday, two on Monday.
    assert wt.add(pp(2027, 4, 9, 16), 3 * H, CAMBODIA) == pp(2027, 4, 12, 10)
    # Started on Saturday: the clock waits for Monday 08:00.
    assert wt.add(pp(2027, 4, 10, 11), 2 * H, CAMBODIA) == pp(2027, 4, 12, 10)
    assert wt.between(pp(2027, 4, 9, 16), pp(2027, 4, 12, 10), CAMBODIA) == 3 * H


def test_khmer_new_year_stops_the_clock_for_three_days() -> None:
    # Tuesday 13 April 2027, 16:00: one hour that day; 14-16 April is Khmer New Year, then the weekend.
    assert wt.add(pp(2027, 4, 13, 16), 2 * H, CAMBODIA) == pp(2027, 4, 19, 9)
    # The same hours without the holidays' country: Wednesday 09:00.
    plain = wt.Calendar.of("Asia/Phnom_Penh", "mon-fri 08:00-17:00", None)
    assert wt.add(pp(2027, 4, 13, 16), 2 * H, plain) == pp(2027, 4, 14, 9)


def test_pchum_ben_and_split_hours() -> None:
    lunch = wt.Calendar.of("Asia/Phnom_Penh", "mon-fri 08:00-12:00,13:00-17:00", "KH")
    # Tuesday 28 September 2027 11:00; Pchum Ben is 29 September to 1 October; 8 working hours:
    # 11-12 and 13-17 on Tuesday (5 h), then Monday 4 October 08:00-11:00.
    assert wt.add(pp(2027, 9, 28, 11), 8 * H, lunch) == pp(2027, 10, 4, 11)
    assert wt.next_period(lunch, pp(2027, 9, 28, 12, 30)) == (pp(2027, 9, 28, 13), pp(2027, 9, 28, 17))


def test_the_same_instant_counts_differently_across_time_zones() -> None:
    # 06:00 UTC on Friday 9 April 2027 is 13:00 in Phnom Penh and 08:00 in Johannesburg.
    start = datetime(2027, 4, 9, 6, tzinfo=timezone.utc)
    johannesburg = wt.Calendar.of("Africa/Johannesburg", "mon-fri 08:00-17:00", "ZA")
    assert wt.add(start, 4 * H, CAMBODIA) == pp(2027, 4, 9, 17)
    assert wt.add(start, 4 * H, johannesburg) == datetime(2027, 4, 9, 10, tzinfo=timezone.utc)  # 12:00 SAST


def test_hours_are_wall_clock_hours_across_a_daylight_saving_change() -> None:
    # Cambodia has no daylight saving; London does (28 March 2027): 08:00 local is 08:00 UTC before it
    # and 07:00 UTC after it. The working day stays nine local hours either side.
    london = wt.Calendar.of("Europe/London", "mon-fri 08:00-17:00", None)
    assert wt.next_period(london, datetime(2027, 3, 26, 0, tzinfo=timezone.utc))[0] == \
        datetime(2027, 3, 26, 8, tzinfo=timezone.utc)
    assert wt.next_period(london, datetime(2027, 3, 29, 0, tzinfo=timezone.utc))[0] == \
        datetime(2027, 3, 29, 7, tzinfo=timezone.utc)
    assert wt.between(datetime(2027, 3, 26, tzinfo=timezone.utc), datetime(2027, 3, 30, tzinfo=timezone.utc),
                      london) == 18 * H


def test_calendar_time_is_plain_addition() -> None:
    assert wt.add(pp(2027, 4, 9, 16), 72 * H, None) == pp(2027, 4, 12, 16)
    assert wt.between(pp(2027, 4, 9, 16), pp(2027, 4, 12, 16), None) == 72 * H


@pytest.mark.parametrize("text, expected", [
    ("", "mon 08:00-17:00; tue 08:00-17:00; wed 08:00-17:00; thu 08:00-17:00; fri 08:00-17:00"),
    ("MON-TUE 07:30-12:00, 13:00-16:30; sat 08:00-11:00",
     "mon 07:30-12:00,13:00-16:30; tue 07:30-12:00,13:00-16:30; sat 08:00-11:00"),
    ("fri-mon 22:00-24:00", "mon 22:00-24:00; fri 22:00-24:00; sat 22:00-24:00; sun 22:00-24:00"),
    ("mon 08:00-12:00,11:00-13:00", "mon 08:00-13:00"),
])
def test_working_hours_are_read_and_written_back(text: str, expected: str) -> None:
    assert wt.describe(wt.parse_hours(text)) == expected


@pytest.mark.parametrize("text", ["weekdays 08:00-17:00", "mon-fri 17:00-08:00", "mon 08:00", "mon 08:00-25:00",
                                  "mon 08:61-09:00", "mon-fri", ";"])
def test_unreadable_working_hours_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(InvalidInput):
        wt.parse_hours(text)


def test_unknown_holiday_country_is_refused() -> None:
    with pytest.raises(InvalidInput):
        wt.checked_country("FR")
    assert wt.checked_country(" kh ") == "KH" and wt.checked_country("") is None


# -- properties ---------------------------------------------------------------------------------------
STARTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda d: d.replace(tzinfo=timezone.utc))
LENGTHS = st.integers(min_value=0, max_value=400 * 60).map(lambda m: timedelta(minutes=m))
CALENDARS = st.sampled_from([
    CAMBODIA,
    wt.Calendar.of("Asia/Phnom_Penh", "mon-fri 08:00-12:00,13:00-17:00; sat 08:00-12:00", "KH"),
    wt.Calendar.of("Africa/Maputo", "mon-fri 07:30-15:30", "MZ"),
    wt.Calendar.of("Africa/Maseru", "mon-thu 08:00-16:30; fri 08:00-13:00", "LS"),
    wt.Calendar.of("Europe/London", "mon-fri 08:00-17:00", None),  # a zone with daylight saving
    wt.Calendar.of("UTC", "mon-sun 00:00-24:00", None),
])


@settings(max_examples=150, deadline=None)
@given(CALENDARS, STARTS, LENGTHS)
def test_a_working_time_deadline_is_never_earlier_than_the_calendar_one(cal: wt.Calendar, start: datetime,
                                                                       length: timedelta) -> None:
    due = wt.add(start, length, cal)
    assert due >= start + length
    assert wt.between(start, due, cal) == length  # exactly its length of working time passes


@settings(max_examples=150, deadline=None)
@given(CALENDARS, STARTS, STARTS, LENGTHS, LENGTHS)
def test_a_working_time_deadline_is_monotone_in_its_start_and_its_length(
        cal: wt.Calendar, a: datetime, b: datetime, x: timedelta, y: timedelta) -> None:
    early, late = sorted((a, b))
    short, long = sorted((x, y))
    assert wt.add(early, short, cal) <= wt.add(late, short, cal)
    assert wt.add(early, short, cal) <= wt.add(early, long, cal)


def test_a_clock_that_counts_every_hour_is_calendar_time() -> None:
    always = wt.Calendar.of("UTC", "mon-sun 00:00-24:00", None)
    start = datetime(2027, 4, 13, 16, 17, tzinfo=timezone.utc)
    assert wt.add(start, 100 * H, always) == start + 100 * H
