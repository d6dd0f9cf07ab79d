"""STATUS, HELP, STOP, DELETE and START, in English and Khmer."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from service.intake.models import ContactVault
from service.kit.crypto import unseal
from service.reports.models import Report, Reporter
from tests.support.twilio_fake import Phone

CODE = re.compile(r"([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})")


def complete_report(phone: Phone, story: str = "No ARV this month", consent: str = "0") -> str:
    phone.text(story)
    phone.text("1")
    phone.text("0")
    final = phone.text(consent)
    return CODE.search(final).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("variant", ["exact", "lower", "nohyphen", "confusable"])
def test_status_finds_the_report_however_the_code_is_typed(phone: Phone, variant: str) -> None:
    code = complete_report(phone)
    typed = {
        "exact": code,
        "lower": code.lower(),
        "nohyphen": code.replace("-", ""),
        # I, L and O are read as 1, 1 and 0.
        "confusable": code.replace("1", "I").replace("0", "O"),
    }[variant]
    reply = phone.text(f"STATUS {typed}")
    assert code in reply and "waiting for review" in reply


def test_status_in_khmer(phone: Phone) -> None:
    code = complete_report(phone, story="គ្មានថ្នាំ ARV ខែនេះ")
    reply = phone.text(f"ស្ថានភាព {code}")
    assert code in reply
    assert any("\u1780" <= ch <= "\u17ff" for ch in reply)


def test_status_unknown_code_and_usage(phone: Phone) -> None:
    assert "No report has the code" in phone.text("STATUS 0000-0000")
    assert "for example" in phone.text("STATUS")


def test_failed_lookups_are_rate_limited_per_sender(phone: Phone, settings) -> None:  # type: ignore[no-untyped-def]
    code = complete_report(phone)
    for i in range(settings.lookups_per_sender_hour):
        assert "No report" in phone.text(f"STATUS {i:04d}-ZZZZ")
    assert "Too many attempts" in phone.text(f"STATUS {code}"), "even a right code waits once the limit is hit"
    other = Phone(client=phone.client, base_url=phone.base_url, number="+85598765432")
    assert code in other.text(f"STATUS {code}"), "another sender is not blocked by this one"


def test_failed_lookups_are_rate_limited_platform_wide(phone: Phone, monkeypatch, live_server_signed) -> None:  # type: ignore[no-untyped-def]
    code = complete_report(phone)
    live_server_signed.app.state.settings.lookups_global_minute = 3
    senders = [Phone(client=phone.client, base_url=phone.base_url, number=f"+8551100000{i}") for i in range(3)]
    for sender in senders:
        assert "No report" in sender.text("STATUS 0000-000Z")
    # Under a flood of wrong codes, a sender who already guessed wrong waits...
    assert "Too many attempts" in senders[0].text("STATUS 0000-001Z")
    assert "Too many attempts" in senders[1].text(f"STATUS {code}")
    # ...but nobody else is denied: a valid code still works (STATUS and DELETE), from anyone with
    # no failed guess, so guessing needs a new number per guess and reporters are not locked out.
    assert code in phone.text(f"STATUS {code}")
    fresh = Phone(client=phone.client, base_url=phone.base_url, number="+85511999999")
    assert code in fresh.text(f"STATUS {code}")


@pytest.mark.parametrize("word", ["HELP", "help", "ជំនួយ"])
def test_help(phone: Phone, engine, word: str) -> None:  # type: ignore[no-untyped-def]
    reply = phone.text(word)
    assert "STATUS" in reply or "ស្ថានភាព" in reply
    with Session(engine) as s:
        assert s.exec(select(Report)).first() is None, "HELP is not a report"


@pytest.mark.parametrize("word", ["STOP", "ឈប់"])
def test_stop_erases_contact_details_and_silences(phone: Phone, engine, word: str) -> None:  # type: ignore[no-untyped-def]
    complete_report(phone, consent="YES")
    with Session(engine) as s:
        assert len(s.exec(select(ContactVault)).all()) == 1
    reply = phone.text(word)
    assert reply
    with Session(engine) as s:
        assert s.exec(select(ContactVault)).first() is None
        assert s.exec(select(Reporter)).one().opted_out_at is not None
        assert len(s.exec(select(Report)).all()) == 1, "the report stays"
    # A new message after STOP is still stored, but no reply is sent.
    assert phone.text("another problem") == ""
    with Session(engine) as s:
        assert len(s.exec(select(Report)).all()) == 2
    assert "allowed again" in phone.text("START")


@pytest.mark.parametrize("word", ["DELETE", "លុប"])
def test_delete_withdraws_and_erases_the_text(phone: Phone, engine, word: str) -> None:  # type: ignore[no-untyped-def]
    code = complete_report(phone, story="My name is Dara and the nurse refused me", consent="YES")
    reply = phone.text(f"{word} {code.lower()}")
    assert code in reply
    with Session(engine) as s:
        report = s.exec(select(Report)).one()
        assert report.status == "withdrawn" and report.withdrawn_at is not None
        assert report.narrative_sealed is None and report.narrative_masked == ""
        assert s.exec(select(ContactVault)).first() is None
    assert "already withdrawn" in phone.text(f"DELETE {code}")
    assert "withdrawn" in phone.text(f"STATUS {code}")


def test_consent_keeps_the_number_only_in_the_vault(phone: Phone, engine) -> None:  # type: ignore[no-untyped-def]
    complete_report(phone, consent="yes")
    with Session(engine) as s:
        entry = s.exec(select(ContactVault)).one()
        assert phone.number.encode() not in entry.address_sealed
        assert unseal(entry.address_sealed) == phone.number
