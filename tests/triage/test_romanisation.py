"""Khmer written in Latin letters has no standard spelling. An urgent Khmer-Latin phrase typed
in another common romanisation (aspirate "h" left out, "j" for "ch", "oe"/"u" for "e",
"kluen" for "khluon") is still urgent; a short word stays as listed, because its vowel is
what tells "chab" (arrest) from "chhob" (stop). The sentences are our own, not a voice's."""

from __future__ import annotations

import pytest

from service.triage import classify_quick, reading
from service.triage.text import skeleton


@pytest.mark.parametrize("spellings", [
    ("khluon", "kluen", "khlourn", "kloun"),
    ("chob", "jop", "chhob"),
    ("knhom", "knyom", "kgnom", "khnom"),
    ("deng", "dung", "doeung"),
    ("somlab", "samlap", "somlap"),
])
def test_romanisations_of_one_word_share_a_skeleton(spellings):
    assert len({skeleton(w) for w in spellings}) == 1


@pytest.mark.parametrize("text", [
    "bong proh knhom dek nov ptes, ot doeung kloun te, som juy phong",   # ot deng khluon, other spellings
    "mit knhom chong samlap kluen yub nis",                               # somlab khluon
])
def test_an_urgent_khmer_latin_phrase_romanised_another_way_is_urgent(text):
    assert reading.analyse(text)[2].urgent == []  # no list entry is spelled this way
    result = classify_quick(text)
    assert result.urgency == "urgent"
    assert any(r.get("rule") == "urgent/misspelled" for r in result.reasons)


@pytest.mark.parametrize("text", [
    "knhom trov chhob tver kar 2 thngai",        # stop work, not "trov chab" (arrested)
    "knhom ot chong samlap kluen te, knhom sok sabay",  # negated
    "ov knhom chhob lep thnam 5 thngai hz",      # "ov" is not "vey"
])
def test_short_words_and_negation_keep_their_meaning(text):
    assert classify_quick(text).urgency != "urgent"
