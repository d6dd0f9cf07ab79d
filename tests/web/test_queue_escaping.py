"""Hostile values in every column of every kind of queue row are shown as text, never as markup.

The rows are the autoescaped macro of `_queue_row.html` (service/web/routes.row_view). Each test
parses the HTML (html.parser, as a browser's tokenizer would split it) and checks two things: no
executable markup came out of a value (no <script>, no on* attribute, no element or attribute a
value could have opened, every link where the queue puts it), and each cell's text is exactly the
value as stored (after the story's 140-character cut).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from sqlmodel import Session

from service.places.models import Place
from service.queue.service import ListRow, QueueRows
from service.queue.models import CaseTag
from service.web import routes
from tests.support.factories import list_row
from tests.support.review import PASSWORD, make_report, sign_in

HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)' x='",
    "Tom & Jerry &amp; &lt;b&gt; &#60;",
    "{{ 7*7 }} {% if 1 %}x{% endif %} ${7*7}",
    "\u202eevil\u202c right\u200fto\u200eleft",
    "bell\x07 escape\x1b vt\x0b formfeed\x0c del\x7f",
    "</td></tr></table><a href=javascript:alert(1)>x</a>",
    "ខ្ញុំ​ចង់​រាយការណ៍​ថា​គិលានុបដ្ឋាយិកា​ស្រែក​ដាក់​ខ្ញុំ " * 12,  # very long Khmer
)
AT = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)
ELEMENTS = {"tr", "td", "a", "span", "input"}  # everything a queue row is made of


@dataclass
class Parsed:
    rows: dict[int, list[str]] = field(default_factory=dict)  # case id -> each cell's text
    elements: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    tags: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # case id -> (text, href) of tag links


class RowParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = Parsed()
        self.case: int | None = None
        self.tag_href: str | None = None
        self.tag_text = ""
        self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.out.elements.append((tag, found))
        if tag == "tr" and found.get("data-case"):
            self.case = int(found["data-case"])  # type: ignore[arg-type]
            self.out.rows[self.case] = []
        elif tag == "td" and self.case is not None:
            self.out.rows[self.case].append("")
            self.in_cell = True
        elif tag == "a" and found.get("class") == "tag":
            self.tag_href, self.tag_text = found.get("href"), ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.tag_href is not None:
            self.out.tags.setdefault(self.case, []).append((self.tag_text, self.tag_href))  # type: ignore[arg-type]
            self.tag_href = None
        if tag == "td":
            self.in_cell = False
        if tag == "tr":
            self.case = None

    def handle_data(self, data: str) -> None:
        if self.case is not None and self.in_cell:
            self.out.rows[self.case][-1] += data
        if self.tag_href is not None:
            self.tag_text += data


def parse(html: str) -> Parsed:
    parser = RowParser()
    parser.feed(html)
    parser.close()
    return parser.out


def assert_inert(parsed: Parsed) -> None:
    """Only the elements and attributes a queue row is written with; links only where the queue puts them."""
    for tag, attrs in parsed.elements:
        assert tag in ELEMENTS | {"table", "thead", "tbody", "th", "p"}, f"element from a value: <{tag}>"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler attribute from a value: {name}"
            assert name in {"class", "data-case", "type", "name", "value", "form", "aria-label", "href", "rel"}, name
            if name == "href":
                assert value is not None and (value.startswith("/cases/") or value.startswith("/?")), value


def story_cut(text: str) -> str:
    return text[:140] + "…" if len(text) > 140 else text


def row(**changes: object) -> ListRow:
    return list_row(AT, **changes)


# Every kind of row the queue shows: id -> (changes, undelivered, tagged)
KINDS = {
    1: ({}, False, False),  # normal
    2: ({"urgency": "urgent"}, False, False),
    3: ({"due_at": AT - timedelta(hours=2)}, False, False),  # overdue
    4: ({}, True, False),  # a message about it was not delivered
    5: ({}, False, True),  # tagged
    6: ({"status": "duplicate", "cluster_id": 9, "due_at": None}, False, False),  # merged into another case
    7: ({"status": "in_progress", "assigned_user_id": 3}, False, False),  # assigned
    8: ({"due_at": None}, False, False),  # waiting for a first response ("reply by")
    9: ({"category": None, "place_id": None, "due_at": None, "status": "closed"}, False, False),  # nothing known
}


@pytest.mark.parametrize("lang", ["en", "km", "pt"])
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_in_every_column_of_every_kind_of_row(value: str, lang: str) -> None:
    """The story, the place (both languages), the tags, and codes the catalogue does not know
    (status, category, urgency: a value from the database printed as itself) all carry the value."""
    rows, failed, tags = [], set(), {}
    for rid, (changes, undelivered, tagged) in KINDS.items():
        rows.append(row(id=rid, narrative_masked=value, **changes))
        if undelivered:
            failed.add(rid)
        if tagged:
            tags[rid] = (value, "police")
    # the same kinds again with codes nobody translated: the stored value is what the cell shows
    for rid, (changes, undelivered, tagged) in KINDS.items():
        rows.append(row(**{"id": 100 + rid, "narrative_masked": value, **changes, "status": value,
                           "category": value, "urgency": value}))
    names = {7: (value + " en", value + " km")}
    html = str(routes.row_view(QueueRows(rows=rows, next_cursor=None, at=AT), names, lang, "Asia/Phnom_Penh",
                               failed=failed, tags=tags))
    parsed = parse(html)
    assert_inert(parsed)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert set(parsed.rows) == {*KINDS, *(100 + k for k in KINDS)}
    place = value + (" km" if lang == "km" else " en")
    for rid, cells in parsed.rows.items():
        changes = KINDS[rid % 100][0]
        assert len(cells) == 8, cells  # the value opened no cell of its own
        story = story_cut(value) + ((" " + value + " police") if rid in tags else "")
        assert cells[4] == story, (rid, cells[4])
        assert cells[5] == ("–" if changes.get("place_id", 7) is None else place)
        assert cells[1] == str(rid)
        if rid >= 100:
            assert cells[2].startswith(value) and cells[6].startswith(value)
            assert cells[3] == value
    for rid, links in parsed.tags.items():
        assert [text for text, _ in links] == [value, "police"]
        assert links[0][1] == "/?" + urlencode({"tag": value})


def test_hostile_values_through_the_real_page(app, engine, world) -> None:
    """The same through `GET /` on the database: hostile stories, place names and tags in the rows."""
    with Session(engine, expire_on_commit=False) as s:
        place = Place(code="hostile", kind="province", name_en=HOSTILE[1], name_km=HOSTILE[0])
        s.add(place)
        s.flush()
        ids = {}
        for i, value in enumerate(HOSTILE):
            report = make_report(s, org_id=world.orgs["a"], narrative="x", urgency="urgent" if i % 2 else "normal",
                                 due_in=timedelta(hours=-1 if i % 3 == 0 else 5), place_id=place.id)
            report.narrative_masked = value  # what the page shows (masking would keep these characters anyway)
            s.add(report)
            s.flush()
            s.add(CaseTag(org_id=world.orgs["a"], report_id=report.id, tag=value[:40]))  # type: ignore[arg-type]
            ids[report.id] = value
        s.commit()
    assert sign_in(app, "handler@a.test", PASSWORD).status_code == 303
    for lang, name in (("en", HOSTILE[1]), ("km", HOSTILE[0])):
        for extra in ({}, {"HX-Request": "true"}):  # the full page and the 30-second refresh of the rows
            response = app.get(f"/?lang={lang}", headers=extra)
            assert response.status_code == 200
            parsed = parse(response.text.split('<table class="queue">', 1)[1].split("</table>", 1)[0])
            assert_inert(parsed)
            for rid, value in ids.items():
                cells = parsed.rows[rid]
                assert len(cells) == 8
                assert cells[4] == story_cut(value) + " " + value[:40], cells[4]
                assert cells[5] == name
                assert parsed.tags[rid] == [(value[:40], "/?" + urlencode(
                    {"tag": value[:40]}))]
