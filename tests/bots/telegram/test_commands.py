"""Commands, locations and outreach workers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.agents.models import AgentLinkCode, OutreachAgent
from service.agents.service import LinkCodeInvalid, create_agent_link_code, redeem_link_code
from service.intake.models import Conversation, ContactVault
from service.kit.clock import now
from service.kit.crypto import pseudonym
from service.orgs.service import create_org, create_user
from service.places.models import Place
from service.places.service import nearest_place
from service.reports.models import Report, Reporter


def code_from(bot_api) -> str:  # type: ignore[no-untyped-def]
    return [t for t in bot_api.sent_texts() if "receipt code is" in t][-1].split("receipt code is ")[1][:9]


def test_status_delete_help_cancel_and_report(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.send("/help")
    assert "/status" in bot_api.last_sent().params["text"]
    tg.send("/cancel")
    assert "nothing to stop" in bot_api.last_sent().params["text"]
    tg.send("I waited six hours and nobody saw me")
    tg.send("/cancel")
    assert "What you gave is kept" in bot_api.last_sent().params["text"]
    with Session(engine) as s:
        assert s.exec(select(Conversation)).all() == []
        assert "six hours" in s.exec(select(Report)).one().narrative_masked
    tg.send("A second report")
    tg.send("1"); tg.send("0"); tg.send("0")  # noqa: E702
    code = code_from(bot_api)
    tg.send(f"/status {code.lower()}")
    assert f"Report {code}: received" in bot_api.last_sent().params["text"]
    tg.send("/status")
    assert "STATUS and your receipt code" in bot_api.last_sent().params["text"]
    tg.send(f"/delete {code}")
    assert f"Report {code} is withdrawn" in bot_api.last_sent().params["text"]
    tg.send("/report")
    assert "Write what happened" in bot_api.last_sent().params["text"]
    tg.send("/unknowncommand")
    assert "/report" in bot_api.last_sent().params["text"]
    tg.post(tg.message_update(sticker={"file_id": "st", "file_unique_id": "st", "type": "regular",
                                       "width": 1, "height": 1, "is_animated": False, "is_video": False}))
    assert "write in words" in bot_api.last_sent().params["text"]


def test_location_becomes_the_nearest_place_and_is_deleted(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.send("The HC asked for money for the viral load test")
    tg.press("Fees or money")
    update = tg.message_update(location={"latitude": 13.1002, "longitude": 103.1987})  # Battambang town
    location_message_id = update["message"]["message_id"]
    tg.post(update)
    assert location_message_id in [int(c.params["message_id"]) for c in bot_api.of("deleteMessage")]
    assert "Battambang" in bot_api.sent_texts()[-2]
    assert "May we contact you" in bot_api.last_sent().params["text"]
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert s.get(Place, report.place_id).code == "KH-2"  # type: ignore[union-attr]
    from tests.bots.sms.test_anonymity import database_text

    blob = database_text(engine)
    assert b"13.1002" not in blob and b"103.1987" not in blob


def test_location_outside_the_place_question_is_only_deleted(tg, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    tg.post(tg.message_update(location={"latitude": 11.55, "longitude": 104.92}))
    assert "only use a location" in bot_api.last_sent().params["text"]
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []


def test_nearest_place(engine, places) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        assert nearest_place(s, 11.56, 104.93).code == "KH-12"  # type: ignore[union-attr]
        assert nearest_place(s, -26.36, 27.40).code == "ZA-GP-CARLETONVILLE"  # type: ignore[union-attr]
        assert nearest_place(s, 48.85, 2.35) is None  # Paris: nothing within reach
        assert nearest_place(s, 200, 0) is None


@pytest.fixture
def org_user(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        org = create_org(s, slug="khana", name="KHANA")
        user = create_user(s, email="lead@khana.example", org_slug="khana", role="supervisor",
                           password="a long enough password 123")
        s.commit()
        return org.id, user.id  # type: ignore[return-value]


def test_outreach_worker_links_and_reports_assisted(tg, bot_api, engine, org_user) -> None:  # type: ignore[no-untyped-def]
    org_id, user_id = org_user
    with Session(engine) as s:
        code = create_agent_link_code(s, org_id=org_id, user_id=user_id)
        s.commit()
        stored = s.exec(select(AgentLinkCode)).one()
        assert code.replace("-", "")[4:] not in stored.code_hash, "stored hashed only"
    tg.send(f"/start {code}")
    assert "linked as an outreach worker" in bot_api.last_sent().params["text"]
    with Session(engine) as s:
        agent = s.exec(select(OutreachAgent)).one()
        assert agent.pseudonym == pseudonym("telegram", str(tg.user_id)) and agent.org_id == org_id
    tg.send(code)  # used already
    assert "already used" in bot_api.last_sent().params["text"]
    for story in ("A sex worker I support was beaten by police", "A client was refused PrEP"):
        tg.send(story)
        tg.press("Rights abuse or police")
        tg.press("Skip")
        tg.press("Yes")
    with Session(engine) as s:
        reports = s.exec(select(Report)).all()
        assert len(reports) == 2
        assert all(r.assisted and r.reporter_id is None for r in reports), "never linked to a person"
        assert all(r.deferred_until is None for r in reports)
        vault = s.exec(select(ContactVault)).all()
        assert len(vault) == 2 and {v.report_id for v in vault} == {r.id for r in reports}
        assert len(s.exec(select(Reporter)).all()) == 1


def test_link_codes_expire_and_are_single_use(engine, org_user, settings) -> None:  # type: ignore[no-untyped-def]
    org_id, user_id = org_user
    with Session(engine) as s:
        code = create_agent_link_code(s, org_id=org_id, user_id=user_id)
        old = create_agent_link_code(s, org_id=org_id, user_id=user_id)
        for row in s.exec(select(AgentLinkCode)).all()[1:]:
            row.expires_at = now() - timedelta(minutes=1)
            s.add(row)
        with pytest.raises(LinkCodeInvalid):
            redeem_link_code(s, code=old, pseudonym="p" * 64)
        redeem_link_code(s, code=code.lower(), pseudonym="p" * 64)
        with pytest.raises(LinkCodeInvalid):
            redeem_link_code(s, code=code, pseudonym="q" * 64)
        with pytest.raises(LinkCodeInvalid):
            redeem_link_code(s, code="LINK-0000-0000-0000", pseudonym="q" * 64)
