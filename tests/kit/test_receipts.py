"""Receipt codes: 40 bits, Crockford base32, forgiving input."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from service.kit import receipts

SHOWN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_new_codes_are_8_symbols_and_distinct() -> None:
    codes = {receipts.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(SHOWN.match(receipts.display(c)) for c in codes)
    assert all(not set(c) & set("ILOU") for c in codes)


def test_a_code_of_digits_only_is_never_given_out(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Masking hides `1234-5678` as a phone number: a draw of digits only is thrown away."""
    from service.kit.masking import mask

    draws = iter([0, 0x0123456789])  # 0 is "00000000"; the second draw holds letters
    monkeypatch.setattr(receipts.secrets, "randbits", lambda bits: next(draws))
    code = receipts.new_code()
    assert code != "00000000" and not code.isdigit()
    shown = receipts.display(code)
    assert mask(f"my receipt is {shown}") == f"my receipt is {shown}"
    assert mask("my receipt is 0000-0000 1234") != "my receipt is 0000-0000 1234"  # digits only: masked


@given(st.integers(min_value=0, max_value=2**40 - 1))
def test_every_40_bit_value_round_trips(n: int) -> None:
    code = "".join(receipts.ALPHABET[(n >> s) & 31] for s in range(35, -1, -5))
    shown = receipts.display(code)
    assert receipts.parse(shown) == code
    assert receipts.parse(shown.lower()) == code
    assert receipts.parse(shown.replace("-", "")) == code
    assert receipts.parse(" " + shown.lower().replace("1", "l").replace("0", "o") + " ") == code


def test_confusable_letters_and_rejects() -> None:
    assert receipts.parse("I1LO-0OAB") == "11100" + "0AB"
    assert receipts.parse("ABCD-EFG") is None
    assert receipts.parse("ABCD-EFGHJ") is None
    assert receipts.parse("ABCD-EFGU") is None, "U is not in the alphabet"
    assert receipts.parse("") is None
