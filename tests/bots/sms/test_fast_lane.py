"""The SMS webhook's fast lane (service.ops.fastlane.FastLane, its table in service/app.py) answers as the
routed endpoint did, and everything the app has that the lane skips is declared by the lane."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from service.app import FAST_LANE, create_app
from service.escalation.service import LadderExhausted
from service.inbox.models import InboundMessage
from service.kit.errors import InvalidInput, NotFound
from service.ops.fastlane import FastLane, unaccounted
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


def test_the_lane_skips_nothing_it_does_not_declare(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    assert unaccounted(app) == []
    lanes = [m for m in app.user_middleware if m.cls is FastLane]
    assert len(lanes) == 1 and app.user_middleware[0] is lanes[0]  # outermost: nothing added runs inside it
    assert lanes[0].kwargs["routes"] == FAST_LANE and list(FAST_LANE) == [("POST", SMS_PATH)]


def test_a_middleware_or_handler_added_inside_the_lane_is_named(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    app.user_middleware.append(Middleware(GZipMiddleware))  # as if added in create_app before the lane

    async def _special(_request, _exc):  # type: ignore[no-untyped-def]
        raise AssertionError

    app.add_exception_handler(LadderExhausted, _special)
    assert unaccounted(app) == ["middleware GZipMiddleware runs inside the lane",
                                "exception handler for LadderExhausted"]


def test_a_domain_error_is_answered_as_the_app_answers_it(phone: Phone, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bots.sms import twilio_form

    for error, status, detail in ((InvalidInput("that is not a message"), 422, "that is not a message"),
                                  (NotFound("x"), 404, "no such case"), (LadderExhausted("top"), 409, "top")):
        def refuse(_params, error=error):  # type: ignore[no-untyped-def]
            raise error

        monkeypatch.setattr(twilio_form, "sender", refuse)
        response = phone.post(phone.params("hello"))
        assert (response.status_code, response.json()) == (status, {"detail": detail})
    assert stored(engine) == 0
