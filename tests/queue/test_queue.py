"""The queue query: order, overdue, every filter, text search (English and Khmer), keyset pages, counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.kit.clock import now
from service.orgs.models import User
from service.orgs.service import create_org, create_user
from service.places.models import Place
from service.queue import service as queue
from service.queue.service import Filters
from tests.support.factories import make_report


@pytest.fixture
def org(engine):  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        org = create_org(s, slug="org-q", name="Q")
        user = create_user(s, email="h@q.test", org_slug="org-q", role="handler", password="correct-horse-battery")
        other = create_org(s, slug="org-other", name="Other")
        s.commit()
        return org.id, user, other.id


def ids(page: queue.QueuePage) -> list[int]:
    return [i.report.id for i in page.items]  # type: ignore[misc]


def test_urgent_first_then_deadline_then_age(engine, org) -> None:
    org_id, user, _ = org
    t0 = now() - timedelta(days=5)
    with Session(engine, expire_on_commit=False) as s:
        old_normal = make_report(s, org_id=org_id, at=t0)
        due_soon_normal = make_report(s, org_id=org_id, due_in=timedelta(hours=2), at=t0 + timedelta(days=1))
        due_late_normal = make_report(s, org_id=org_id, due_in=timedelta(hours=20), at=t0)
        high = make_report(s, org_id=org_id, urgency="high", at=t0 + timedelta(days=3))
        urgent_new = make_report(s, org_id=org_id, urgency="urgent", at=t0 + timedelta(days=4))
        urgent_overdue = make_report(s, org_id=org_id, urgency="urgent", due_in=timedelta(hours=-1),
                                     at=t0 + timedelta(days=4))
        s.commit()
        page = queue.queue_page(s, user=user)
    assert ids(page) == [urgent_overdue.id, urgent_new.id, high.id, due_soon_normal.id, due_late_normal.id,
                         old_normal.id]
    assert [i.overdue for i in page.items] == [True, False, False, False, False, False]


def test_keyset_pages_cover_every_case_once_in_order(engine, org) -> None:
    org_id, user, _ = org
    with Session(engine, expire_on_commit=False) as s:
        for i in range(37):
            make_report(s, org_id=org_id, urgency=("urgent", "high", "normal")[i % 3],
                        due_in=timedelta(hours=i) if i % 2 else None, at=now() - timedelta(minutes=i))
        s.commit()
        everything = ids(queue.queue_page(s, user=user, limit=200))
        seen, cursor = [], None
        while True:
            page = queue.queue_page(s, user=user, cursor=cursor, limit=5)
            seen += ids(page)
            cursor = page.next_cursor
            if cursor is None:
                break
    assert len(everything) == 37
    assert seen == everything


def test_a_bad_cursor_is_invalid_input(engine, org) -> None:
    _, user, _ = org
    with Session(engine) as s, pytest.raises(queue.InvalidInput):
        queue.queue_page(s, user=user, cursor="not-a-cursor")


def test_each_filter(engine, org, places) -> None:
    org_id, user, other_org = org
    with Session(engine, expire_on_commit=False) as s:
        province = s.exec(select(Place).where(Place.kind == "province")).first()
        child = s.exec(select(Place).where(Place.parent_id == province.id)).first()
        grandchild = s.exec(select(Place).where(Place.parent_id == child.id)).first() or child
        r = {
            "base": make_report(s, org_id=org_id),
            "cat": make_report(s, org_id=org_id, category="stigma_discrimination"),
            "urgent": make_report(s, org_id=org_id, urgency="urgent"),
            "place": make_report(s, org_id=org_id, place_id=grandchild.id),
            "telegram": make_report(s, org_id=org_id, channel="telegram"),
            "pop": make_report(s, org_id=org_id, population="sex_worker"),
            "mine": make_report(s, org_id=org_id, assigned_user_id=user.id),
            "overdue": make_report(s, org_id=org_id, due_in=timedelta(hours=-3)),
            "closed": make_report(s, org_id=org_id, status="closed"),
            "text": make_report(s, org_id=org_id, narrative="They refused my ID Poor card at the hospital"),
            "khmer": make_report(s, org_id=org_id, narrative="គ្រូពេទ្យមិននៅទេ យើងរង់ចាំពេញមួយថ្ងៃ"),
            "elsewhere": make_report(s, org_id=other_org, category="stigma_discrimination",
                                     narrative="ID Poor card refused elsewhere"),
        }
        cluster_case = make_report(s, org_id=org_id)
        from service.reports.models import ReportCluster

        cluster = ReportCluster(size=1)
        s.add(cluster)
        s.flush()
        cluster_case.cluster_id = cluster.id
        s.add(cluster_case)
        s.commit()

        def find(**kw: object) -> set[int]:
            return set(ids(queue.queue_page(s, user=user, filters=Filters(**kw))))  # type: ignore[arg-type]

        assert find(category="stigma_discrimination") == {r["cat"].id}
        assert find(urgency="urgent") == {r["urgent"].id}
        assert find(place_id=province.id) == {r["place"].id}
        assert find(channel="telegram") == {r["telegram"].id}
        assert find(population="sex_worker") == {r["pop"].id}
        assert find(assigned="me") == {r["mine"].id}
        assert r["mine"].id not in find(assigned="unassigned") and r["base"].id in find(assigned="unassigned")
        assert find(overdue=True) == {r["overdue"].id}
        assert find(status=("closed",)) == {r["closed"].id}
        assert r["closed"].id not in find()
        assert find(cluster_id=cluster.id) == {cluster_case.id}
        assert find(q="ID Poor") == {r["text"].id}
        assert find(q="id poor") == {r["text"].id}
        assert find(q="រង់ចាំ") == {r["khmer"].id}
        assert find(q="zzzz-nothing") == set()
        assert find(q='"quoted') == set()
        assert find(q="ID") == {r["text"].id}  # shorter than a trigram: plain substring match
        assert find(category="stigma_discrimination", q="ID Poor") == set()


def test_search_follows_narrative_changes(engine, org) -> None:
    org_id, user, _ = org
    from service.intake.withdrawal import withdraw
    from service.reports.service import append_narrative

    with Session(engine, expire_on_commit=False) as s:
        report = make_report(s, org_id=org_id, narrative="first words")
        s.commit()
        append_narrative(s, report, "methadone clinic closed")
        s.commit()
        assert ids(queue.queue_page(s, user=user, filters=Filters(q="methadone"))) == [report.id]
        withdraw(s, report)
        s.commit()
        assert ids(queue.queue_page(s, user=user, filters=Filters(q="methadone", status=("all",)))) == []


def test_deferred_reports_wait_for_their_hour(engine, org) -> None:
    org_id, user, _ = org
    with Session(engine, expire_on_commit=False) as s:
        held = make_report(s, org_id=org_id, deferred_until=now() + timedelta(minutes=30))
        s.commit()
        assert held.id not in ids(queue.queue_page(s, user=user))


def test_counts_are_capped(engine, org) -> None:
    org_id, user, _ = org
    with Session(engine, expire_on_commit=False) as s:
        for i in range(6):
            make_report(s, org_id=org_id, urgency="urgent" if i < 2 else "normal",
                        due_in=timedelta(hours=-1) if i == 0 else None, assigned_user_id=user.id if i == 1 else None)
        s.commit()
        counts = queue.queue_counts(s, user=user)
        assert counts["open"] == 6 and counts["urgency:urgent"] == 2 and counts["overdue"] == 1
        assert counts["mine"] == 1 and counts["unassigned"] == 5 and counts["status:received"] == 6
        assert queue.queue_counts(s, user=user, cap=3)["open"] == 3


def test_a_user_without_organisation_who_is_not_admin_sees_nothing(engine, org) -> None:
    org_id, _, _ = org
    with Session(engine, expire_on_commit=False) as s:
        make_report(s, org_id=org_id)
        stray = User(email="stray@x.test", org_id=None, role="handler", password_hash="x")
        s.add(stray)
        s.commit()
        assert ids(queue.queue_page(s, user=stray)) == []


@pytest.mark.parametrize("window", [1, 3, 1000])
def test_search_gives_the_same_pages_whichever_path_finds_them(engine, org, monkeypatch, window) -> None:
    """A small window forces the index (FTS5 / pg_trgm) path; a large one the in-order scan."""
    org_id, user, _ = org
    monkeypatch.setattr(queue, "SEARCH_WINDOW", window)
    with Session(engine, expire_on_commit=False) as s:
        expected = []
        for i in range(30):
            text = "the methadone clinic was closed" if i % 4 == 0 else "nobody came to the health centre"
            r = make_report(s, org_id=org_id, narrative=text, urgency=("urgent", "normal")[i % 2],
                            due_in=timedelta(hours=i) if i % 3 else None, at=now() - timedelta(minutes=i))
            if i % 4 == 0:
                expected.append(r.id)
        s.commit()
        seen, cursor = [], None
        while True:
            page = queue.queue_page(s, user=user, filters=Filters(q="Methadone"), cursor=cursor, limit=3)
            seen += ids(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        everything = ids(queue.queue_page(s, user=user, limit=200))
    assert sorted(seen) == sorted(expected)
    assert seen == [i for i in everything if i in expected]  # queue order
