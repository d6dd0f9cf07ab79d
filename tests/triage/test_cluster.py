"""Near-duplicate reports are grouped; a large group is flagged as a possible systemic problem."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.kit.clock import now
from service.reports.models import ReportCluster
from service.triage import apply_triage
from service.triage.cluster import assign_cluster, similarity
from tests.support.factories import make_report, two_places

STOCKOUT = [
    "no ARV at the health centre for 2 weeks",
    "ARV finished at the health centre, no ARV since 2 weeks",
    "no arv at hc 2 weeks now pls help",
    "health centre has no ARV, stock out 2 weeks",
    "still no ARV at the health centre, 3 weeks",
]


def test_similarity() -> None:
    assert similarity("no ARV at the health centre", "No arv at the health centre!!") > 0.9
    assert similarity("អស់ថ្នាំ ARV នៅមណ្ឌលសុខភាព", "អស់ថ្នាំARVនៅមណ្ឌលសុខភាពហើយ") > 0.6
    assert similarity("no ARV at the health centre", "police beat my friend") < 0.4
    assert similarity("", "anything") == 0.0


def test_similar_reports_at_one_place_form_a_systemic_cluster(session, places) -> None:  # type: ignore[no-untyped-def]
    place, _other = two_places(session)
    reports = []
    for text in STOCKOUT:
        report = make_report(session, narrative=text, place_id=place)
        apply_triage(session, report, text)
        reports.append(report)
    cluster_ids = {r.cluster_id for r in reports}
    assert len(cluster_ids) == 1 and None not in cluster_ids
    cluster = session.get(ReportCluster, cluster_ids.pop())
    assert cluster.size == 5 and cluster.systemic is True
    assert cluster.place_id == place and cluster.category == "service_quality"


def test_below_threshold_is_not_systemic(session, places) -> None:  # type: ignore[no-untyped-def]
    place, _other = two_places(session)
    for text in STOCKOUT[:3]:
        apply_triage(session, make_report(session, narrative=text, place_id=place), text)
    cluster = session.exec(ReportCluster.__table__.select()).first()  # type: ignore[attr-defined]
    assert cluster.size == 3 and cluster.systemic is False


def test_other_place_other_category_or_old_report_is_not_grouped(session, places) -> None:  # type: ignore[no-untyped-def]
    place, other_place = two_places(session)
    first = make_report(session, narrative=STOCKOUT[0], place_id=place)
    apply_triage(session, first, STOCKOUT[0])
    elsewhere = make_report(session, narrative=STOCKOUT[1], place_id=other_place)
    apply_triage(session, elsewhere, STOCKOUT[1])
    different = make_report(session, narrative="police beat my friend near the health centre", place_id=place)
    apply_triage(session, different, "police beat my friend near the health centre")
    old = make_report(session, narrative=STOCKOUT[2], place_id=place, at=now() - timedelta(days=60))
    old.category = "service_quality"
    assert assign_cluster(session, old) is None
    assert first.cluster_id is None and elsewhere.cluster_id is None and different.cluster_id is None


def test_without_place_nothing_is_grouped_until_the_place_is_known(session, places) -> None:  # type: ignore[no-untyped-def]
    place, _other = two_places(session)
    a = make_report(session, narrative=STOCKOUT[0], place_id=place)
    apply_triage(session, a, STOCKOUT[0])
    b = make_report(session, narrative=STOCKOUT[1])
    apply_triage(session, b, STOCKOUT[1])
    assert b.cluster_id is None
    b.place_id = place
    cluster = assign_cluster(session, b)
    assert cluster is not None and a.cluster_id == b.cluster_id == cluster.id


@pytest.mark.parametrize("size", [2, 3])
def test_systemic_threshold_is_configurable(session, places, size) -> None:  # type: ignore[no-untyped-def]
    place, _other = two_places(session)
    reports = [make_report(session, narrative=t, place_id=place, category="service_quality") for t in STOCKOUT[:size]]
    cluster = None
    for r in reports:
        cluster = assign_cluster(session, r, window_days=14, threshold=0.5, systemic_size=size) or cluster
    assert cluster is not None and cluster.systemic is True and cluster.size == size
