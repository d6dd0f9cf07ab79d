"""Quotes are masked again when approved and when published: an excerpt approved under older, weaker
masking that still holds a phone number or handle never reaches the public page or Open311."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from service.analytics import queries as q, service as svc
from service.analytics.models import ApprovedQuote
from service.kit.clock import now
from service.kit.errors import InvalidInput
from tests.analytics.factories import T0
from tests.support.factories import make_report, place

LEAKY = "call 012 - 345 - 678 or @dara_k99"


def test_approval_refuses_an_excerpt_masking_would_change(session: Session, places: None) -> None:
    report = make_report(session, narrative_masked=f"the nurse said {LEAKY} for pills", category="service_quality", at=T0)
    session.commit()
    with pytest.raises(InvalidInput):
        svc.approve_quote(session, report_id=report.id, excerpt=LEAKY, approved_by="s@a.test", role="supervisor")


def test_old_approvals_holding_a_number_are_not_published(live_server, session: Session, places: None) -> None:  # type: ignore[no-untyped-def]
    at = now() - timedelta(days=1)
    siem_reap = place(session, "KH-17")
    reports = [make_report(session, place_id=siem_reap.id, category="stigma_discrimination", at=at, narrative_masked=f"the nurse said {LEAKY} for pills")
               for _ in range(12)]
    session.flush()
    # Approved before masking knew these formats: stored as it was.
    session.add(ApprovedQuote(report_id=reports[0].id, excerpt_masked=LEAKY, language="en",
                              approved_by="s@a.test", approved_at=at))
    session.add(ApprovedQuote(report_id=reports[1].id, excerpt_masked="the nurse said", language="en",
                              approved_by="s@a.test", approved_at=at))
    session.commit()
    shown = svc.approved_quotes(session, filters=q.Filters(), limit=10)
    assert [qt.excerpt_masked for qt in shown] == ["the nurse said"]
    session.rollback()  # end the read so the server can write its cache
    page = live_server.client.get("/public").text
    assert "012 - 345" not in page and "dara_k99" not in page and "the nurse said" in page
    feed = live_server.client.get("/open311/v2/requests.json").json()
    assert feed and not any("345" in r["description"] or "dara" in r["description"] for r in feed)
