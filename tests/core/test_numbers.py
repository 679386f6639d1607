"""inbox.core.numbers: phone numbers into E.164, read in Japan by default, never echoed back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox.core.errors import ValidationError
from inbox.core.numbers import (
    InvalidNumber,
    LineKind,
    is_valid_region,
    parse_number,
    trusted_e164,
)


@pytest.mark.parametrize(
    ("text", "e164", "kind"),
    [
        ("090-1234-5678", "+819012345678", LineKind.MOBILE),
        ("09012345678", "+819012345678", LineKind.MOBILE),
        ("+81 90 1234 5678", "+819012345678", LineKind.MOBILE),
        ("+81-90-1234-5678", "+819012345678", LineKind.MOBILE),
        ("０９０－１２３４－５６７８", "+819012345678", LineKind.MOBILE),  # full-width digits
        ("080 1234 5678", "+818012345678", LineKind.MOBILE),
        ("03-1234-5678", "+81312345678", LineKind.LANDLINE),
        ("0120-123-456", "+81120123456", LineKind.FREE_DIAL),  # フリーダイヤル
        ("050-1234-5678", "+815012345678", LineKind.VOIP),
    ],
)
def test_japanese_numbers_become_e164(text: str, e164: str, kind: LineKind) -> None:
    number = parse_number(text)
    assert (number.e164, number.region, number.kind) == (e164, "JP", kind)


def test_sms_capable_by_what_the_plan_says() -> None:
    assert parse_number("090-1234-5678").can_receive_sms
    assert not parse_number("03-1234-5678").can_receive_sms
    assert not parse_number("0120-123-456").can_receive_sms


def test_a_foreign_number_in_international_form_and_another_default_region() -> None:
    number = parse_number("+1 650-253-0000")
    assert (number.e164, number.region) == ("+16502530000", "US")
    assert number.kind is LineKind.UNKNOWN  # US plans do not tell mobile from fixed
    assert parse_number("(650) 253-0000", region="US").e164 == "+16502530000"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("abc", "is not a phone number"),
        ("123", "is not a valid phone number"),
        ("090-1234-567", "is not a valid phone number"),  # a digit short
        ("+999 1234 5678", "has no valid country code"),
        ("9" * 80, "is too long"),
    ],
)
def test_invalid_numbers_say_why_without_the_number(text: str, reason: str) -> None:
    with pytest.raises(InvalidNumber) as info:
        parse_number(text, field="to")
    assert isinstance(info.value, ValidationError)
    assert info.value.field == "to"
    assert str(info.value).startswith(f"to: {reason}")
    assert not (text.strip() and text.strip() in str(info.value))


@given(st.text(max_size=40))
def test_any_text_is_a_number_or_an_invalid_number_never_echoed(text: str) -> None:
    try:
        number = parse_number(text)
    except InvalidNumber as exc:
        digits = "".join(c for c in text if c.isdigit())
        assert len(digits) < 4 or digits not in str(exc)
    else:
        assert number.e164.startswith("+") and number.e164[1:].isdigit()
        assert parse_number(number.e164) == number  # E.164 reads back as itself


def test_regions() -> None:
    assert is_valid_region("JP") and is_valid_region("US")
    assert not is_valid_region("jp") and not is_valid_region("XX")


def test_a_providers_e164_is_kept_when_merely_possible() -> None:
    # +1 555 000 1234 has the length of a NANP number but no valid range in the metadata:
    # parse_number refuses it, the number Twilio wrote is kept all the same.
    with pytest.raises(InvalidNumber):
        parse_number("+15550001234")
    found = trusted_e164("+15550001234", field="From")
    assert (found.e164, found.kind) == ("+15550001234", LineKind.UNKNOWN)
    assert trusted_e164("+819012345678").kind is LineKind.MOBILE  # a valid one: as before
    for bad in ("+1555", "+999123456789", "+81 90 x", "abc", ""):
        with pytest.raises(InvalidNumber) as caught:
            trusted_e164(bad, field="From")
        assert caught.value.field == "From"
