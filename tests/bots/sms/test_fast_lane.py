"""The SMS webhook's fast lane (service.ops.fastlane.FastLane, set up in service/app.py) answers as the routed endpoint did."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from tests.support.twilio_fake import SMS_PATH, Phone


def stored(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(InboundMessage)).one()


def test_errors_are_answered_as_the_app_handlers_answer_them(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    response = phone.client.post(SMS_PATH, content=b"a=1", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json() == {"detail": "expected application/x-www-form-urlencoded"}
    params = phone.params("hello")
    response = phone.client.post(SMS_PATH, data=params, headers={"X-Twilio-Signature": "bm90LWl0"})
    assert response.status_code == 403 and response.json() == {"detail": "invalid Twilio signature"}
    assert stored(engine) == 0


def test_other_methods_and_paths_pass_through_to_routing(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    assert phone.client.get(SMS_PATH).status_code == 405
    assert phone.client.post(SMS_PATH + "/x", data={"a": "1"}).status_code == 404
    ok = phone.post(phone.params("The clinic asked me to pay"))
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/xml")
    assert "<Message>" in ok.text and stored(engine) == 1


def test_an_unexpected_error_is_a_503_and_nothing_is_stored(phone: Phone, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bots.sms import twilio_form

    def broken(_params):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(twilio_form, "sender", broken)  # the live server runs in this process
    response = phone.post(phone.params("hello"))
    assert response.status_code == 503 and response.json() == {"detail": "temporarily unavailable"}
    assert stored(engine) == 0
