"""The web queue's rows (service/web/routes.row_view: the `_queue_row.html` macro), kept by their content.

A kept row must never be shown stale: anything the row's HTML is made of — a value of the row,
the language, whether it is overdue at this request's time, its place's name — makes another
row. Every value from the database is escaped.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from service.kit import cache
from service.queue.service import ListRow, QueueRows
from service.web import routes
from tests.support.factories import list_row

AT = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)
NAMES = {7: ("Battambang", "បាត់ដំបង")}


def row(**changes: object) -> ListRow:
    return list_row(AT, **{"id": 41, "urgency": "urgent", "narrative_masked": "The nurse shouted at me",
                           "due_at": AT + timedelta(hours=3), **changes})


def html(*rows: ListRow, at: datetime = AT, lang: str = "en", names: dict | None = None, tz: str = "UTC") -> str:
    return str(routes.row_view(QueueRows(rows=list(rows), next_cursor=None, at=at), NAMES if names is None else names,
                               lang, tz))


def test_a_row_shows_its_values_and_escapes_the_story() -> None:
    out = html(row(narrative_masked='<script>alert(1)</script> & "quotes"'))
    assert '<tr class="u-urgent" data-case="41">' in out and 'href="/cases/41"' in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in out and "<script>" not in out
    assert "Battambang" in out and "2026-11-23 21:00" in out and "overdue" not in out


def test_a_changed_row_is_written_again_not_taken_from_the_cache() -> None:
    first = html(row())
    assert html(row()) == first  # the same content: the kept HTML
    changed = html(row(status="in_progress", assigned_user_id=3, narrative_masked="Asked for money"))
    assert changed != first
    assert "in progress" in changed and "Asked for money" in changed and "assigned" in changed
    assert "The nurse shouted" not in changed


def test_dates_are_shown_in_the_readers_zone() -> None:
    """Due 21:00 UTC is 04:00 the next day in Phnom Penh and 23:00 in Johannesburg; a kept row of
    one zone is never shown to a reader of another."""
    assert "2026-11-23 21:00" in html(row(), tz="UTC")
    assert "2026-11-24 04:00" in html(row(), tz="Asia/Phnom_Penh")
    assert "2026-11-23 23:00" in html(row(), tz="Africa/Johannesburg")
    waiting = row(due_at=None, status="received", created_at=AT)  # first response due in a day (urgent)
    assert '<span class="muted">reply by</span> 2026-11-25 01:00' in html(waiting, tz="Asia/Phnom_Penh")


def test_overdue_follows_the_time_of_the_request() -> None:
    before = html(row(), at=AT)
    after = html(row(), at=AT + timedelta(hours=4))  # the same row, read after its deadline
    assert "is-overdue" not in before and "is-overdue" in after and "badge overdue" in after


def test_language_and_place_name_are_part_of_the_row() -> None:
    english = html(row())
    khmer = html(row(), lang="km")
    assert "បន្ទាន់" in khmer and "បាត់ដំបង" in khmer and "Battambang" not in khmer
    renamed = html(row(), names={7: ("Battambang Province", "ខេត្តបាត់ដំបង")})
    assert "Battambang Province" in renamed and renamed != english


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes, "_ROW_HTML", cache.Cache("test.rows", maxsize=10))
    for i in range(35):
        html(row(id=i + 1))
        assert len(routes._ROW_HTML) <= 10
    assert 'data-case="35"' in html(row(id=35))
