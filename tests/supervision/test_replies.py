"""An organisation's reply templates: written by its supervisors in km/en/pt with their SMS length,
sent by its handlers from the case page in the report's language, invisible to other organisations."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from service.audit.models import AuditEvent
from service.kit.errors import InvalidInput, NotFound
from service.kit.crypto import unseal
from service.outbox.models import OutboundMessage
from service.queue import actions
from service.queue.actions import NotPermitted
from service.reports.models import Report, ReportEvent
from service.supervision import replies
from tests.support.review import csrf_of, sign_in

KM = "យើងបានទទួលរបាយការណ៍របស់អ្នក ហើយកំពុងដោះស្រាយ។"
EN = "Thank you. A peer worker will visit the health centre this week."


def test_segment_counts_and_checks(engine, world) -> None:
    sup = world.users["a:supervisor"]
    with Session(engine) as s:
        row = replies.save(s, user=sup, name="Visit", texts={"km": KM, "en": EN, "pt": ""})
        s.commit()
        counts = replies.counts(row)
        assert (counts["en"].encoding, counts["en"].segments) == ("GSM-7", 1)
        assert (counts["km"].encoding, counts["km"].segments) == ("UCS-2", 1) and len(KM) <= 70
        assert counts["pt"] is None
        long_km = replies.save(s, user=sup, name="Long", texts={"km": KM * 2, "en": EN})
        assert replies.counts(long_km)["km"].segments == 2  # 100 Khmer characters: two parts of 67
        for texts in ({"km": KM}, {"en": "x" * 641}, {"en": "call me on 012 345 678"}):
            with pytest.raises(InvalidInput):
                replies.save(s, user=sup, name="Bad", texts=texts)
        with pytest.raises(InvalidInput):
            replies.save(s, user=sup, name="Visit", texts={"en": EN})  # the name is taken
        with pytest.raises(NotPermitted):
            replies.save(s, user=world.users["a:handler"], name="Mine", texts={"en": EN})
        with pytest.raises(NotPermitted):
            replies.save(s, user=world.users["platform"], name="Everyone", texts={"en": EN})
        with pytest.raises(NotFound):  # another organisation's template cannot be edited
            replies.save(s, user=world.users["b:supervisor"], name="Visit", texts={"en": "x"}, template_id=row.id)
        entry = s.exec(select(AuditEvent).where(AuditEvent.action == "reply_template.create")).first()
        assert entry.detail == {"languages": ["en", "km", "pt"], "segments": {"km": 1, "en": 1}}
        assert EN not in str([e.detail for e in s.exec(select(AuditEvent)).all()])


def test_handler_sends_it_in_the_reports_language(engine, world) -> None:
    with Session(engine) as s:
        row = replies.save(s, user=world.users["a:supervisor"], name="Visit", texts={"km": KM, "en": EN})
        other = replies.save(s, user=world.users["b:supervisor"], name="B only", texts={"en": "Org B text"})
        case = s.get(Report, world.cases["a"].id)
        case.language = "km"
        s.add(case)
        s.commit()
        assert replies.for_case(s, case) == {f"org:{row.id}": KM}
        message = actions.reply(s, user=world.users["a:handler"], report=case, template=f"org:{row.id}")
        s.commit()
        assert unseal(s.get(OutboundMessage, message.id).body_sealed) == KM
        event = s.exec(select(ReportEvent).where(ReportEvent.report_id == case.id, ReportEvent.kind == "reply")).one()
        assert event.detail["template"] == f"org:{row.id}" and event.detail["segments"] == 1
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "case.reply")).one().detail["after"]["template"] == f"org:{row.id}"
        # Another organisation's template, or a deactivated one, cannot be sent.
        with pytest.raises(InvalidInput):
            actions.reply(s, user=world.users["a:handler"], report=case, template=f"org:{other.id}")
        replies.deactivate(s, user=world.users["a:supervisor"], template_id=row.id)
        with pytest.raises(InvalidInput):
            actions.reply(s, user=world.users["a:handler"], report=case, template=f"org:{row.id}")
        # English when the report's language has no text.
        case.language = "pt"
        assert replies.for_case(s, case) == {}


def test_reply_template_pages(app, engine, world) -> None:
    sign_in(app, "supervisor@a.test")
    page = app.get("/supervise/replies")
    assert page.status_code == 200
    token = csrf_of(page.text)
    assert app.post("/supervise/replies", data={"name": "Visit", "text_en": EN}).status_code == 403  # no CSRF
    assert app.post("/supervise/replies", data={"name": "Visit", "text_en": EN, "text_km": KM, "csrf_token": token},
                    follow_redirects=False).status_code == 303
    listing = app.get("/supervise/replies")
    assert "Visit" in listing.text and "(UCS-2)" in listing.text and "(GSM-7)" in listing.text
    live = app.post("/supervise/replies/segments", data={"lang": "km", "text_km": KM * 2, "csrf_token": token})
    assert live.status_code == 200 and 'data-segments="2"' in live.text
    bad = app.post("/supervise/replies", data={"name": "X", "text_en": "", "csrf_token": token})
    assert bad.status_code == 422
    with Session(engine) as s:
        tid = s.exec(select(replies.ReplyTemplate.id)).one()
    # The handler sees it on the case page and sends it.
    sign_in(app, "handler@a.test")
    case = world.cases["a"].id
    case_page = app.get(f"/cases/{case}")
    assert f'value="org:{tid}"' in case_page.text and EN in case_page.text
    sent = app.post(f"/cases/{case}/reply", data={"template": f"org:{tid}", "csrf_token": csrf_of(case_page.text)},
                    follow_redirects=False)
    assert sent.status_code == 303
    assert app.get("/supervise/replies").status_code == 403
    # Another organisation sees nothing of it and cannot change it.
    sign_in(app, "supervisor@b.test")
    other = app.get("/supervise/replies")
    assert other.status_code == 200 and "Visit" not in other.text
    token = csrf_of(other.text)
    assert app.post(f"/supervise/replies/{tid}/deactivate", data={"csrf_token": token}).status_code == 404
    assert app.post("/supervise/replies", data={"name": "Hijack", "text_en": "x", "template_id": str(tid),
                                                "csrf_token": token}).status_code == 404
    assert f'value="org:{tid}"' not in app.get(f"/cases/{world.cases['b'].id}").text
    with Session(engine) as s:
        row = s.get(replies.ReplyTemplate, tid)
        assert row.active and row.name == "Visit"
        assert [e.actor for e in s.exec(select(AuditEvent).where(col(AuditEvent.action).like("reply_template.%"))).all()] \
            == ["supervisor@a.test"]


def test_a_nul_character_from_a_form_is_dropped_not_a_server_error(app, engine, world) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL cannot store NUL (DataError, a 500); the pages drop it from a template's name and
    texts and from a saved view's name."""
    sign_in(app, "supervisor@a.test")
    token = csrf_of(app.get("/supervise/replies").text)
    made = app.post("/supervise/replies", data={"name": "Vi\x00sit", "text_en": "Thank\x00 you", "csrf_token": token},
                    follow_redirects=False)
    assert made.status_code == 303, made.text[:300]
    with Session(engine) as s:
        row = s.exec(select(replies.ReplyTemplate)).one()
        assert (row.name, row.text_en) == ("Visit", "Thank you")
    from service.orgs.models import User
    from service.supervision import tags

    with Session(engine) as s:
        user = s.exec(select(User).where(User.email == "supervisor@a.test")).one()
        view = tags.save_filter(s, user=user, name="ur\x00gent", query="urgency=urgent")
        s.commit()
        assert view.name == "urgent"
