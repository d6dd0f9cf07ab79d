"""Malformed, oversized and hostile input: a clear 4xx, never a 500, nothing stored."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from tests.support.twilio_fake import SMS_PATH, Phone, sign


def nothing_stored(engine) -> bool:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(InboundMessage)).one() == 0


def post_raw(phone: Phone, body: bytes, content_type: str = "application/x-www-form-urlencoded", sign_params=None):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": content_type}
    if sign_params is not None:
        headers["X-Twilio-Signature"] = sign(phone.base_url + SMS_PATH, sign_params)
    return phone.client.post(SMS_PATH, content=body, headers=headers)


@pytest.mark.parametrize(
    "change, status",
    [
        ({"MessageSid": ""}, 400),
        ({"MessageSid": "not-a-sid"}, 400),
        ({"From": ""}, 400),
        ({"From": "tel:<script>"}, 400),
        ({"Body": "x" * 5000}, 413),
    ],
)
def test_invalid_fields(phone: Phone, engine, change: dict, status: int) -> None:  # type: ignore[no-untyped-def]
    params = {**phone.params("hello"), **change}
    response = phone.post(params)
    assert response.status_code == status
    assert "detail" in response.json()
    assert nothing_stored(engine)


def test_missing_fields_are_400(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    params = phone.params("hello")
    del params["MessageSid"]
    assert phone.post(params).status_code == 400
    assert nothing_stored(engine)


def test_wrong_content_type_is_415(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    assert post_raw(phone, b'{"Body": "hi"}', "application/json").status_code == 415
    assert nothing_stored(engine)


def test_oversized_request_is_413(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    params = phone.params("y" * 70_000)
    assert post_raw(phone, urlencode(params).encode(), sign_params=params).status_code == 413
    assert nothing_stored(engine)


def test_not_utf8_is_400(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    assert post_raw(phone, b"Body=%FF%FE&MessageSid=SM" + b"a" * 32).status_code in (400, 403)
    assert post_raw(phone, b"Body=\xff\xfe").status_code == 400
    assert nothing_stored(engine)


def test_repeated_field_is_400(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    body = urlencode(phone.params("hi")) + "&Body=again"
    assert post_raw(phone, body.encode()).status_code == 400
    assert nothing_stored(engine)


def test_too_many_fields_is_400(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    body = "&".join(f"f{i}=1" for i in range(500))
    assert post_raw(phone, body.encode()).status_code == 400
    assert nothing_stored(engine)


def test_empty_body_asks_for_words_without_a_report(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    params = {**phone.params(""), "NumMedia": "1"}
    response = phone.post(params)
    assert response.status_code == 200
    assert "in words" in response.text


def test_hostile_text_is_stored_as_text(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    story = "'); DROP TABLE report; -- <script>alert(1)</script> \u0000 \U0001F600"
    reply = phone.text(story)
    assert "saved" in reply
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(InboundMessage)).one() == 1
