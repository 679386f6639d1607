"""Phone numbers from people and from config, parsed into E.164 (+819012345678) by phonenumbers.

Pure: no I/O. A number is personal data, so no error message here ever contains it; callers
add the field's name, never the value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from inbox.core.errors import ValidationError

DEFAULT_REGION = "JP"


class LineKind(enum.StrEnum):
    """What phonenumbers knows of a number's line, from its numbering plan (not a lookup)."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    FREE_DIAL = "free_dial"  # 0120 / 0800: toll free, cannot receive SMS
    VOIP = "voip"  # 050 in Japan
    OTHER = "other"  # pager, shared cost, premium rate, ...
    UNKNOWN = "unknown"  # fixed-or-mobile plans (e.g. the US), or not known


_KINDS = {
    PhoneNumberType.MOBILE: LineKind.MOBILE,
    PhoneNumberType.FIXED_LINE: LineKind.LANDLINE,
    PhoneNumberType.TOLL_FREE: LineKind.FREE_DIAL,
    PhoneNumberType.VOIP: LineKind.VOIP,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: LineKind.UNKNOWN,
    PhoneNumberType.UNKNOWN: LineKind.UNKNOWN,
}


class InvalidNumber(ValidationError):
    """Not a valid phone number. The message says why, without the number."""


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str  # "+819012345678"
    region: str | None  # "JP"; None for non-geographic numbers
    kind: LineKind

    @property
    def can_receive_sms(self) -> bool:
        """False only when the plan says so (landline, free dial); unknown kinds may."""
        return self.kind not in (LineKind.LANDLINE, LineKind.FREE_DIAL)


def parse_number(text: str, *, region: str = DEFAULT_REGION, field: str = "number") -> PhoneNumber:
    """`text` ("090-1234-5678", "+81 90 1234 5678", "0120-123-456") as E.164, national
    numbers read in `region`; raises InvalidNumber naming `field`, never the number."""
    if not text.strip():
        raise InvalidNumber("is empty", field=field)
    if len(text) > 64:  # phonenumbers caps input too; say it plainly
        raise InvalidNumber("is too long to be a phone number", field=field)
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(_PARSE_ERRORS.get(exc.error_type, _NOT_A_NUMBER), field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(
            f"is not a valid phone number (national numbers are read as {region})", field=field
        )
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(parsed) or None,
        kind=_KINDS.get(phonenumbers.number_type(parsed), LineKind.OTHER),
    )


def trusted_e164(text: str, *, region: str = DEFAULT_REGION, field: str = "number") -> PhoneNumber:
    """A number a provider (Twilio) already wrote in E.164: kept when phonenumbers finds it
    merely *possible* (right length for its country code), since its metadata may lag behind
    new number ranges or foreign plans, and refusing would lose her message. Anything that is
    not "+digits" still goes through parse_number's full check (national ones read in
    `region`)."""
    text = text.strip()
    if not (text.startswith("+") and text[1:].isascii() and text[1:].isdigit()):
        return parse_number(text, region=region, field=field)
    try:
        return parse_number(text, region=region, field=field)
    except InvalidNumber:
        pass
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(_PARSE_ERRORS.get(exc.error_type, _NOT_A_NUMBER), field=field) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumber("is not a possible phone number", field=field)
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(parsed) or None,
        kind=LineKind.UNKNOWN,
    )


def is_valid_region(region: str) -> bool:
    """Whether `region` is a two-letter region phonenumbers knows (JP, US, ...)."""
    return region in phonenumbers.SUPPORTED_REGIONS


_NOT_A_NUMBER = "is not a phone number"
_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
        "has no valid country code (write it as +81... or a national number)"
    ),
    phonenumbers.NumberParseException.NOT_A_NUMBER: _NOT_A_NUMBER,
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "is too short",
    phonenumbers.NumberParseException.TOO_LONG: "is too long",
}
