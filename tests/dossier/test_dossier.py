"""Dossiers in the service layer: linking an organisation's cases, and what a dossier publishes."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, col, select

from service.analytics import dossier as published
from service.analytics.models import ApprovedQuote
from service.analytics.suppression import page_disclosed
from service.escalation import dossiers
from service.escalation import service as esc
from service.escalation.models import DossierCase
from service.kit.errors import InvalidInput, NotFound
from service.orgs.models import Organisation
from service.reports.models import Report, ReportCluster, ReportEvent
from service.reports.service import withdraw
from tests.escalation.factories import make_case

CHREY = "KH-2-OD-THMORKOUL-HC-CHREY"  # Battambang
THMEI = "KH-12-OD-SENSOK-HC-PHNOMPENHTHMEI"  # Phnom Penh
PHONE = "+85512777888"


@pytest.fixture
def s(session: Session, seeded) -> Session:  # type: ignore[no-untyped-def]
    return session


def _org(s: Session, slug: str) -> int:
    return s.exec(select(Organisation).where(Organisation.slug == slug)).one().id  # type: ignore[return-value]


def _cases(s: Session, n: int, *, place: str = CHREY, cluster: ReportCluster | None = None) -> list[Report]:
    out = []
    for _ in range(n):
        report = make_case(s, narrative="No ARV at the health centre again, call 012 345 678", place=place)
        if cluster is not None:
            report.cluster_id = cluster.id
            s.add(report)
        out.append(report)
    s.flush()
    return out


def test_a_dossier_from_a_cluster_links_only_the_organisations_open_cases_and_marks_their_timelines(s: Session) -> None:
    cluster = ReportCluster(category="service_quality", size=5)
    s.add(cluster)
    s.flush()
    mine = _cases(s, 4, cluster=cluster)
    withdraw(s, mine[3])  # a withdrawn case is never part of a collective complaint
    other = make_case(s, category="human_rights_violation", population="sex_worker")  # another organisation
    other.cluster_id = cluster.id
    s.add(other)
    s.flush()
    assert other.org_id != mine[0].org_id

    made = dossiers.build(s, org_id=mine[0].org_id, title="  ARV stock-outs,   Thmor Koul ", actor="sup@khana",
                          cluster_id=cluster.id)  # type: ignore[arg-type]
    assert made.title == "ARV stock-outs, Thmor Koul" and made.source == "cluster" and made.source_ref == str(cluster.id)
    assert dossiers.case_ids(s, made) == [r.id for r in mine[:3]]
    linked = s.exec(select(ReportEvent).where(ReportEvent.kind == "dossier_linked").order_by(col(ReportEvent.report_id))).all()
    assert [e.report_id for e in linked] == [r.id for r in mine[:3]]
    assert linked[0].detail == {"dossier": made.id, "title": "ARV stock-outs, Thmor Koul"}
    assert dossiers.dossiers_of_case(s, mine[0]) == [made] and dossiers.dossiers_of_case(s, other) == []


def test_another_organisations_case_is_not_found_and_a_single_case_is_no_pattern(s: Session) -> None:
    mine = _cases(s, 2)
    org_id = mine[0].org_id
    other = make_case(s, category="human_rights_violation", population="sex_worker")
    with pytest.raises(NotFound):
        dossiers.build(s, org_id=org_id, title="t", actor="sup", report_ids=[mine[0].id, other.id])  # type: ignore[arg-type, list-item]
    with pytest.raises(InvalidInput):
        dossiers.build(s, org_id=org_id, title="t", actor="sup", report_ids=[mine[0].id])  # type: ignore[arg-type, list-item]
    with pytest.raises(InvalidInput):
        dossiers.build(s, org_id=org_id, title="   ", actor="sup", report_ids=[r.id for r in mine])  # type: ignore[arg-type, misc]
    with pytest.raises(NotFound):
        dossiers.build(s, org_id=org_id, title="t", actor="sup", cluster_id=999999)  # type: ignore[arg-type]
    assert s.exec(select(DossierCase)).all() == []
    # The same case listed twice is linked once; a saved filter's query is kept as the source.
    made = dossiers.build(s, org_id=org_id, title="t", actor="sup", report_ids=[mine[0].id, mine[1].id, mine[0].id],  # type: ignore[arg-type, list-item]
                          filter_query="category=service_quality&place=KH-2")
    assert made.source == "filter" and len(dossiers.case_ids(s, made)) == 2
    with pytest.raises(NotFound):
        dossiers.get(s, made.id, org_id=_org(s, "legal-aid-demo"))  # type: ignore[arg-type]


def test_a_small_dossier_publishes_no_small_count_and_no_quote(s: Session) -> None:
    cases = _cases(s, 3) + _cases(s, 1, place=THMEI)
    for report in cases:
        s.add(ApprovedQuote(report_id=report.id, excerpt_masked="They said come back next month", approved_by="sup"))  # type: ignore[arg-type]
    esc.escalate(s, cases[0], actor="handler")
    made = dossiers.build(s, org_id=cases[0].org_id, title="t", actor="sup", report_ids=[r.id for r in cases])  # type: ignore[arg-type, misc]
    out = published.contents(s, made)
    assert out.cases == 4 and out.quotes == [] and out.quotes_withheld
    for pub in (out.over_time, out.places, out.bodies):
        shown = [v for row in pub.grid() for v in row]
        assert not any(v.isdigit() and 0 < int(v) < 10 for v in shown), pub.grid()
    assert out.map_points == []  # no province's count is shown, so no point either


def test_a_dossier_shows_the_pattern_the_bodies_answers_and_quotes_but_no_identifier(s: Session) -> None:
    cases = _cases(s, 12)
    for report in cases[:2]:
        s.add(ApprovedQuote(report_id=report.id, excerpt_masked="No ARV for three weeks", approved_by="sup"))  # type: ignore[arg-type]
    s.add(ApprovedQuote(report_id=cases[2].id, excerpt_masked="revoked one", approved_by="sup",  # type: ignore[arg-type]
                        revoked_at=cases[2].created_at))
    outsider = make_case(s)  # same organisation, not in the dossier: its quote stays out
    s.add(ApprovedQuote(report_id=outsider.id, excerpt_masked="not linked", approved_by="sup"))  # type: ignore[arg-type]
    sent = [esc.escalate(s, r, actor="handler") for r in cases]
    for e in sent[:10]:
        esc.record_response(s, e, action="action_taken", text="Stock delivered")
    made = dossiers.build(s, org_id=cases[0].org_id, title="ARV", actor="sup", report_ids=[r.id for r in cases])  # type: ignore[arg-type, misc]

    out = published.contents(s, made, language="km")
    assert out.places.row_labels == ["បាត់ដំបង"] and out.places.grid()[0] == ["12", "12"]
    assert out.over_time.grid()[-1][-1] == "12"
    # One body asked about all 12: 10 answered, 2 still waiting. The 2 is small, and with 12 shown the 10
    # would give it away, so the 10 is hidden too.
    # would give it away, so the 10 is hidden too (x + "<10" = 12 leaves 10 + 2 or 11 + 1).
    assert out.bodies.row_labels == ["ប្រធានមណ្ឌលសុខភាពជ្រៃ"]
    # and in Portuguese the body is named in Portuguese, as on /public and in Open311
    assert published.contents(s, made, language="pt").bodies.row_labels == ["Centro de Saúde de Chrey (direção)"]
    assert out.bodies.grid()[0] == ["x", "0", "<10", "0", "12"]
    assert out.bodies.col_labels[0] != "answered"  # the words are Khmer too
    assert out.quotes == ["No ARV for three weeks", "No ARV for three weeks"]
    text = json.dumps(out.as_dict(), ensure_ascii=False)
    assert "012 345 678" not in text and "revoked one" not in text and "not linked" not in text
    # Taken together, the published tables pin no small count.
    pubs = {"over_time": out.over_time, "places": out.places, "bodies": out.bodies}
    links = published.dossier_links(out.over_time.n_rows, out.over_time.n_cols, out.places.n_rows)
    assert page_disclosed(pubs, links, 10) == []


def test_a_bodys_answer_to_a_dossier_reaches_every_linked_case_and_each_consenting_reporter_once(s: Session) -> None:
    from tests.escalation.factories import outbox, text_of

    twice = [make_case(s, address=PHONE), make_case(s, address=PHONE)]  # one reporter, two linked cases
    khmer = make_case(s, address="+85512333444", language="km")
    silent = make_case(s)  # no consent: the timeline only
    linked = [*twice, khmer, silent]
    made = dossiers.build(s, org_id=twice[0].org_id, title="ARV", actor="sup", report_ids=[r.id for r in linked])  # type: ignore[arg-type, misc]
    before = len(outbox(s, kind="message"))

    assert dossiers.announce_answer(s, made, escalation_id=7, body_slug="nchads", action="acknowledge") == 0
    assert len(outbox(s, kind="message")) == before  # an acknowledgement tells the handler only
    assert dossiers.announce_answer(s, made, escalation_id=7, body_slug="nchads", action="action_taken") == 2
    again = dossiers.announce_answer(s, made, escalation_id=7, body_slug="nchads", action="action_taken")
    assert again == 0  # the same answer passed on twice is passed on once

    sent = [text_of(m) for m in outbox(s, kind="message")[before:]]
    assert len(sent) == 2
    assert any("joint complaint" in t for t in sent) and any("ពាក្យបណ្ដឹងរួម" in t for t in sent)
    for report in linked:
        got = s.exec(select(ReportEvent).where(ReportEvent.report_id == report.id, ReportEvent.kind == "dossier_response")).all()
        assert [(e.detail["action"], e.actor) for e in got] == [("acknowledge", "body:nchads"), ("action_taken", "body:nchads")]
    with pytest.raises(InvalidInput):
        dossiers.announce_answer(s, made, escalation_id=7, body_slug="nchads", action="maybe")
