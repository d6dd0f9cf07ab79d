"""Closing-the-loop texts fit the SMS budget (two segments) in English, Khmer and Portuguese, once filled in."""

from __future__ import annotations

import pytest

from service.escalation import texts
from service.kit.i18n import gettext
from service.kit.segments import count


@pytest.mark.parametrize("language", ["en", "km", "pt"])
@pytest.mark.parametrize("msgid", [*texts.LOOP.values(), texts.THANKS_YES, texts.THANKS_NO, texts.THANKS_PARTLY,
                                   texts.ANSWER_ADDED])
def test_reporter_texts_fit_two_segments(language: str, msgid: str) -> None:
    text = gettext(language, msgid, date="2026-11-23")
    assert count(text).segments <= 2, (language, count(text), text)
    if language != "en":
        assert text != msgid, f"missing {language} translation"
    else:
        assert count(text).encoding == "GSM-7", "English texts stay in GSM-7 (plain ASCII)"


@pytest.mark.parametrize("msgid", [texts.SUBJECT_NEW, texts.BODY_INTRO, texts.BODY_HOWTO, texts.PAGE_THANKS,
                                   *texts.ACTION_LABELS.values()])
@pytest.mark.parametrize("language", ["km", "pt"])
def test_body_texts_are_translated(language: str, msgid: str) -> None:
    assert gettext(language, msgid) != msgid
