"""Grievance bodies held to account: the four figures per body, computed from a generated history of
escalations, answers and reporters' closing answers made through the real services, and published
only as the suppression rule allows (the public page, Open311's bodies resource, the body's own
response page, the dashboard's tables)."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from service.analytics import escalations as em, queries as q
from service.bodies.models import GrievanceBody
from service.escalation import reporter_updates, service as esc
from service.escalation.models import Escalation
from service.intake import questions
from service.kit import clock
from tests.escalation.conftest import controlled_clock, seeded  # noqa: F401  (fixtures)
from tests.escalation.factories import make_case

OUTCOMES = ("not_ours", "action_taken", "resolved", "acknowledge", None)
SATISFACTION = ("yes", "partly", "no", None)
LATE_HOURS = 130  # past the health centre committee's 120-hour deadline


def generate(s: Session, *, seed: int, n: int) -> tuple[dict, GrievanceBody]:
    """`n` cases escalated to the health centre's committee, each answered (or not) on time or late,
    some closed with the reporter's answer. Returns what the figures must be, counted here in Python."""
    rnd = random.Random(seed)
    want = {"escalations": 0, "on_time": 0, "late": 0, "waiting": 0, "not_ours": 0, "other_answers": 0,
            "solved": 0, "not_solved": 0, "hours": []}
    body = None
    for i in range(n):
        case = make_case(s, address=f"+855127{seed % 100:02d}{i:04d}")
        escalation = esc.escalate(s, case, actor="handler")
        body = body or s.get(GrievanceBody, escalation.body_id)
        assert escalation.body_id == body.id  # type: ignore[union-attr]
        want["escalations"] += 1
        action = rnd.choice(OUTCOMES)
        if action is None:
            want["waiting"] += 1
            continue
        late = rnd.random() < 0.4
        hours = LATE_HOURS if late else rnd.choice((0, 2, 30))
        clock.advance(timedelta(hours=hours))
        esc.record_response(s, escalation, action=action, text="Stock ordered" if action == "action_taken" else "")
        want["late" if late else "on_time"] += 1
        want["hours"].append(hours)
        want["not_ours" if action == "not_ours" else "other_answers"] += 1
        if action in ("action_taken", "resolved"):
            answer = rnd.choice(SATISFACTION)
            if answer is not None:
                esc.close_case(s, case, actor="handler")
                question = questions.ask(s, reporter_id=case.reporter_id, report_id=case.id,  # type: ignore[arg-type]
                                         kind="satisfaction", language="en")
                assert reporter_updates.answer_satisfaction(s, question, answer, "en") is not None
                want["solved" if answer == "yes" else "not_solved"] += 1
        clock.advance(timedelta(hours=-hours))
    return want, body  # type: ignore[return-value]


@pytest.mark.parametrize("seed", [3, 11])
def test_figures_per_body_from_a_generated_history(session: Session, seeded, controlled_clock, seed: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    want, body = generate(session, seed=seed, n=36)
    session.commit()
    f = q.Filters()
    assert em.escalations_per_body(session, f) == {body.id: want["escalations"]}
    assert em.not_ours_tally(session, f) == {body.id: [want["not_ours"], want["other_answers"]]}
    assert em.solved_tally(session, f).get(body.id, [0, 0]) == [want["solved"], want["not_solved"]]
    hours = em.answer_hours(session, f)[body.id]
    assert sorted(h for h, k in hours.items() for _ in range(k)) == sorted(want["hours"])
    # Still waiting and not yet due: not counted; once their deadline has passed: late.
    assert em.deadline_tally(session, f)[body.id] == [want["on_time"], want["late"]]
    clock.advance(timedelta(hours=LATE_HOURS))
    assert em.deadline_tally(session, f)[body.id] == [want["on_time"], want["late"] + want["waiting"]]

    figs = em.figures(session, f)
    assert figs is not None and figs.order == [body.id]
    metrics = {m["key"]: m for m in em.body_metrics_of(session, f) or []}
    assert set(metrics) == {"escalations_by_body", "answered_on_time", "median_hours", "answered_not_ours",
                            "solved_after_answer"}
    answers = want["not_ours"] + want["other_answers"]
    (row,) = metrics["answered_not_ours"]["rows"]
    if want["not_ours"] >= 10 and want["other_answers"] >= 10:
        assert row[1]["params"] == {"share": round(100 * want["not_ours"] / answers), "not_ours": want["not_ours"],
                                    "total": answers}
    (median_row,) = metrics["median_hours"]["rows"]
    if answers >= 10:
        assert median_row[1]["params"] == {"hours": em.median_of({h: want["hours"].count(h) for h in want["hours"]}),
                                           "answers": answers}


def test_a_share_is_printed_only_when_both_counts_are_published(session: Session, seeded, controlled_clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Twelve answers, three of them "not ours": the small count is hidden and no share is printed;
    no reporter has answered, so the solved figure has no row at all."""
    for i in range(12):
        case = make_case(session, address=f"+85512800{i:03d}")
        escalation = esc.escalate(session, case, actor="handler")
        esc.record_response(session, escalation, action="not_ours" if i < 3 else "acknowledge")
    session.commit()
    metrics = {m["key"]: m for m in em.body_metrics_of(session, q.Filters()) or []}
    (row,) = metrics["answered_not_ours"]["rows"]
    assert row[1] == "<10 / 12"  # the 3 is hidden; the 9 beside it too (x), so 12 - 9 cannot tell it
    (on_time,) = metrics["answered_on_time"]["rows"]
    assert on_time[1]["params"] == {"share": 100, "on_time": 12, "total": 12}
    assert metrics["solved_after_answer"]["rows"] == []


# -- every published surface ---------------------------------------------------------------------

NUMBER = re.compile(r"(?<![\d.])(\d+)(?![\d.%])")


def _published_counts(text: str) -> list[int]:
    """Every whole number in published text that is a count: not a share (followed by %), not hours."""
    text = re.sub(r"\d+(\.\d+)? hours", "", text)
    return [int(n) for n in NUMBER.findall(text)]


def _small(counts: list[int]) -> list[int]:
    return [n for n in counts if 0 < n < 10]


def test_every_public_surface_hides_small_body_counts(app, engine, seeded, controlled_clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A history with small counts everywhere (a few "not ours", a few solved): the public page's body
    tables, Open311's bodies resource and the body's response page publish none of them."""
    with Session(engine, expire_on_commit=False) as s:
        want, body = generate(s, seed=5, n=24)
        s.commit()
        figs = em.figures(s, q.Filters())
        raw_small = {v for pub in figs.tables.values() for row in pub.values for v in row if 0 < v < 10}  # type: ignore[union-attr]
        assert raw_small, "the history should hold small counts to hide"
        link = urlsplit(esc.response_url(s.exec(select(Escalation).order_by(col(Escalation.id))).first())).path
    page = app.get("/public").text
    section = page[page.index('id="bodies"'):page.index("Open311 GeoReport")]
    cells = re.findall(r"<td>(.*?)</td>", section, re.S)
    assert cells and body.name_en in section
    assert _small(_published_counts(" ".join(c for c in cells if body.name_en not in c))) == []

    records = app.get("/open311/v2/bodies.json").json()
    (record,) = records
    assert record["body"] == body.slug and record["escalations"] == str(want["escalations"])
    for field in ("escalations", "on_time", "on_time_total", "answers", "not_ours", "not_ours_total", "solved",
                  "solved_total"):
        assert record[field] in ("<10", "x", "0", "-") or int(record[field]) >= 10, (field, record)
    for share, part, total in (("on_time_share", "on_time", "on_time_total"),
                               ("not_ours_share", "not_ours", "not_ours_total"),
                               ("solved_share", "solved", "solved_total")):
        assert (record[share] is None) == (not (record[part].isdigit() and record[total].isdigit()
                                                 and int(record[total]) > 0)), record
    xml = app.get("/open311/v2/bodies.xml")
    assert xml.headers["content-type"].startswith("text/xml") and f"<body>{body.slug}</body>" in xml.text

    respond = app.get(link).text
    figures = respond[respond.index('id="body-figures"'):]
    assert "<dt>" in figures
    assert _small(_published_counts(" ".join(re.findall(r"<dd>(.*?)</dd>", figures, re.S)))) == []


def test_the_response_page_shows_the_body_its_figures_in_its_language(app, engine, seeded, controlled_clock) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Twelve answers on time by the health centre's committee (a Khmer body): its page shows "100% on
    time (12 of 12)" in Khmer, and in English or Portuguese when the reader switches."""
    with Session(engine, expire_on_commit=False) as s:
        found = []
        for i in range(12):
            case = make_case(s, address=f"+85512900{i:03d}")
            found.append(esc.escalate(s, case, actor="handler"))
            esc.record_response(s, found[-1], action="acknowledge")
        extra = esc.escalate(s, make_case(s), actor="handler")  # the one the body opens now
        body = s.exec(select(GrievanceBody).where(GrievanceBody.id == extra.body_id)).one()
        s.commit()
        path = urlsplit(esc.response_url(extra)).path
    assert body.language == "km"
    km = app.get(path).text
    assert "តួលេខដែលបានផ្សព្វផ្សាយ" in km
    dl = km[km.index('id="body-figures"'):]
    assert "13" in dl and "12" in dl  # 13 escalations; 12 of 12 answered on time
    en = app.get(path + "?lang=en").text
    assert "How your office answers: the published figures" in en and "100% on time (12 of 12)" in en
    pt = app.get(path + "?lang=pt").text
    assert "Como o seu serviço responde" in pt
