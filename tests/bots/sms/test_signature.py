"""X-Twilio-Signature: any change to what was signed is refused and nothing is stored."""

from __future__ import annotations

import string

from sqlalchemy import func
from sqlmodel import Session, select

from service.inbox.models import InboundMessage
from service.reports.models import Report, Reporter
from tests.support.twilio_fake import SMS_PATH, Phone, sign


def stored(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(t)).one() for t in (InboundMessage, Report, Reporter))  # type: ignore[return-value]


def flip(text: str, index: int) -> str:
    """Change one character to a different, printable one."""
    alphabet = string.ascii_letters + string.digits
    replacement = next(c for c in alphabet if c != text[index])
    return text[:index] + replacement + text[index + 1:]


def test_valid_signature_is_accepted(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    assert phone.post(phone.params("hello")).status_code == 200
    assert stored(engine) == (1, 1, 1)


def test_missing_or_wrong_signature_is_403(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    params = phone.params("The nurse asked for money")
    assert phone.post(params, signature="").status_code == 403
    assert phone.post(params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    wrong_token = sign(phone.base_url + SMS_PATH, params, token="another-accounts-token")
    assert phone.post(params, signature=wrong_token).status_code == 403
    assert stored(engine) == (0, 0, 0)


def test_every_one_character_change_is_refused(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    params = phone.params("No ARV")
    url = phone.base_url + SMS_PATH
    good = sign(url, params)
    refused = 0
    # the signature itself
    for i in range(len(good)):
        assert phone.post(params, signature=flip(good, i)).status_code == 403
        refused += 1
    # the URL it was computed over (every character of scheme, host, port and path)
    for i in range(len(url)):
        assert phone.post(params, signature=sign(flip(url, i), params)).status_code == 403
        refused += 1
    # every parameter value, including the location fields that are dropped before storage
    for name, value in params.items():
        for i in range(len(value)):
            changed = {**params, name: flip(value, i)}
            assert phone.post(changed, signature=good).status_code == 403, (name, i)
            refused += 1
        if not value:
            assert phone.post({**params, name: "x"}, signature=good).status_code == 403
    # an added parameter
    assert phone.post({**params, "Extra": "1"}, signature=good).status_code == 403
    assert refused > 100
    assert stored(engine) == (0, 0, 0)
    assert phone.post(params, signature=good).status_code == 200
    assert stored(engine) == (1, 1, 1)
