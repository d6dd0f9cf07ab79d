"""The same MessageSid delivered again changes nothing and gets the same answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from service.reports.models import Report
from tests.support.twilio_fake import Phone, new_sid, twiml_text


def counts(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return (s.exec(select(func.count()).select_from(Report)).one(),
                s.exec(select(func.count()).select_from(InboundMessage)).one())


def test_same_sid_twice_in_a_row(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    params = phone.params("Stock-out of TB drugs", sid=new_sid())
    first, second = phone.post(params), phone.post(params)
    assert first.status_code == second.status_code == 200
    assert first.text == second.text and twiml_text(first)
    assert counts(engine) == (1, 1)


def test_same_sid_ten_times_concurrently(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    params = phone.params("They charged me for the free HIV test", sid=new_sid())

    def deliver(_: int) -> httpx.Response:
        with httpx.Client(base_url=phone.base_url, timeout=30) as client:
            return Phone(client=client, base_url=phone.base_url, number=phone.number).post(params)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(deliver, range(10)))
    assert all(r.status_code == 200 for r in responses)
    assert len({r.text for r in responses}) == 1, "every redelivery gets the same answer"
    assert counts(engine) == (1, 1)


def test_redelivered_answer_advances_nothing(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    phone.text("Long wait at the OD hospital")
    answer = phone.params("2", sid=new_sid())
    first = twiml_text(phone.post(answer))
    again = twiml_text(phone.post(answer))
    assert first == again and "Where" in first
    with Session(engine) as s:
        assert s.exec(select(Report)).one().category == "stigma_discrimination"
