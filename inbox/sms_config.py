"""The [sms] and [voice] sections: the program's Twilio numbers for text messages and calls.

Auth tokens never live in the file: each is read from the environment variable the file names.
Voice has its own account_sid and auth_token_env, defaulting to [sms]'s ("" and the same
variable name): one Twilio account usually holds both numbers, so the common case is written
once, yet a program that keeps calls in a subaccount of its own can say so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from inbox.core.errors import ValidationError
from inbox.core.numbers import DEFAULT_REGION, is_valid_region, parse_number
from inbox.core.sms import (
    DEFAULT_HELP_WORDS,
    DEFAULT_HELP_WORDS_JA,
    DEFAULT_START_WORDS,
    DEFAULT_START_WORDS_JA,
    DEFAULT_STOP_WORDS,
    DEFAULT_STOP_WORDS_JA,
    OptOutWords,
    count_segments,
)

_SECRET = {"toml": False}  # resolved from the environment, not settable in the file
DEFAULT_TOKEN_ENV = "TSUNAGU_TWILIO_AUTH_TOKEN"
DEFAULT_HELP_REPLY = (
    "この番号へのメッセージは担当者が読みます。配信停止は「停止」、再開は「再開」と送ってください。"
    " Replies are read by staff. Text STOP to opt out, START to opt back in."
)
DEFAULT_API_URL = "https://api.twilio.com"
DEFAULT_MISSED_MESSAGE = "ただいま電話に出ることができません。時間をおいておかけ直しください。"
MAX_MISSED_MESSAGE_CHARS = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsConfig:
    enabled: bool = False
    account_sid: str = ""  # "AC" + 32 hex digits
    auth_token_env: str = DEFAULT_TOKEN_ENV
    from_number: str = ""  # the program's number, E.164 (+81...) or national in default_region
    default_region: str = DEFAULT_REGION  # national numbers (090-...) are read in this region
    stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS + DEFAULT_STOP_WORDS_JA
    start_words: tuple[str, ...] = DEFAULT_START_WORDS + DEFAULT_START_WORDS_JA
    help_words: tuple[str, ...] = DEFAULT_HELP_WORDS + DEFAULT_HELP_WORDS_JA
    max_segments: int = field(default=5, metadata={"min": 1, "max": 10})
    # The answer to HELP. Neutral on purpose: her phone may be read by someone she is afraid
    # of, so it names no program and no topic, only how to stop and start.
    help_reply: str = DEFAULT_HELP_REPLY
    # Where Twilio's REST API is: the real one, or a proxy or a test's stand-in (scheme and
    # host of every request are rewritten to it; channels.sms)
    api_url: str = field(default=DEFAULT_API_URL, metadata={"http_url": True})
    auth_token: str = field(default="", repr=False, metadata=_SECRET)

    @property
    def opt_out_words(self) -> OptOutWords:
        return OptOutWords.of(self.stop_words, self.start_words, self.help_words)


@dataclass(frozen=True, slots=True)
class DeskPhone:
    """One phone click-to-call may ring for staff: its label and number (E.164 once resolved)."""

    label: str
    number: str

    @property
    def masked(self) -> str:
        """The number with all but its last 4 digits hidden: enough to tell phones apart."""
        return "•" * 4 + self.number[-4:]


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceConfig:
    enabled: bool = False
    account_sid: str = ""  # "" means [sms]'s account_sid
    auth_token_env: str = DEFAULT_TOKEN_ENV
    program_number: str = ""  # the number consulters call, E.164 or national in sms.default_region
    # The desk's phones that ring together when she calls (E.164 or national); none: every
    # call is answered with missed_message at once and becomes a callback.
    forward_to: tuple[str, ...] = ()
    # Whether the desk's phones see her number when her call rings them. Off: they see the
    # program's number (voice.program_number), so no desk phone keeps hers in its history. On
    # reveals her number to whoever holds a desk phone.
    show_caller_number: bool = False
    # The only phones click-to-call may ring for staff (the desk's own), each "label=number" or
    # a bare number; none: forward_to's. A request can only pick one of these, never name any
    # other number (a stolen account must not connect her to anyone under the program's ID).
    staff_phones: tuple[str, ...] = ()
    # How long a request to Twilio's REST API (click-to-call) may take before it counts as failed
    api_timeout_s: float = field(default=15.0, metadata={"gt": 0})
    ring_s: int = field(default=25, metadata={"min": 5, "max": 600})
    # What a caller hears when nobody answers. Neutral, like sms.help_reply: whoever holds her
    # phone may hear it, so it names no program and no topic.
    missed_message: str = DEFAULT_MISSED_MESSAGE
    api_url: str = field(default=DEFAULT_API_URL, metadata={"http_url": True})  # as sms.api_url
    auth_token: str = field(default="", repr=False, metadata=_SECRET)

    @property
    def desk_phones(self) -> tuple[DeskPhone, ...]:
        """staff_phones read as (label, number), or forward_to's when none are given."""
        if not self.staff_phones:
            return tuple(DeskPhone(f"{i + 1}", n) for i, n in enumerate(self.forward_to))
        return tuple(_desk_phone(i, entry) for i, entry in enumerate(self.staff_phones))


def _desk_phone(i: int, entry: str) -> DeskPhone:
    label, sep, number = entry.rpartition("=")
    return DeskPhone(label.strip() if sep and label.strip() else f"{i + 1}", number.strip())


def _sid_problem(sid: str, where: str) -> str | None:
    if len(sid) == 34 and sid.startswith("AC") and all(c in "0123456789abcdef" for c in sid[2:]):
        return None
    return f'{where}: expected "AC" followed by 32 hex digits (Twilio console, Account Info)'


def _number_problem(text: str, region: str, where: str) -> str | None:
    try:
        parse_number(text, region=region, field=where)
    except ValidationError as exc:
        return str(exc)  # names the key, never the number
    return None


def sms_problem(sms: SmsConfig) -> str | None:
    """What is wrong with [sms], as "sms.key: reason"; word lists and numbers are checked even
    when it is off, so a mistake shows before the day it is switched on."""
    if not is_valid_region(sms.default_region):
        return (
            "sms.default_region: not a two-letter region phonenumbers knows"
            f' (e.g. "JP"), got "{sms.default_region}"'
        )
    try:
        OptOutWords.of(sms.stop_words, sms.start_words, sms.help_words)
    except ValueError as exc:
        return f"sms.{str(exc).replace(': ', '_words: ', 1)}"
    if sms.from_number and (
        problem := _number_problem(sms.from_number, sms.default_region, "sms.from_number")
    ):
        return problem
    if (parts := count_segments(sms.help_reply).count) > sms.max_segments:
        return (
            f"sms.help_reply: {parts} SMS segments, more than sms.max_segments ({sms.max_segments})"
        )
    if not sms.enabled:
        return None
    if not sms.account_sid:
        return "sms.account_sid: required when sms.enabled"
    if problem := _sid_problem(sms.account_sid, "sms.account_sid"):
        return problem
    if not sms.from_number:
        return 'sms.from_number: required when sms.enabled, e.g. "+815012345678"'
    if not sms.auth_token:
        return _token_missing("sms", sms.auth_token_env)
    return None


def voice_problem(voice: VoiceConfig, sms: SmsConfig) -> str | None:
    """What is wrong with [voice], as "voice.key: reason" (its national number is read in
    sms.default_region)."""
    if voice.program_number and (
        problem := _number_problem(voice.program_number, sms.default_region, "voice.program_number")
    ):
        return problem
    if voice.account_sid and (problem := _sid_problem(voice.account_sid, "voice.account_sid")):
        return problem
    for i, number in enumerate(voice.forward_to):
        if problem := _number_problem(number, sms.default_region, f"voice.forward_to[{i}]"):
            return problem
    if problem := _desk_phones_problem(voice, sms.default_region):
        return problem
    if not voice.missed_message.strip():
        return "voice.missed_message: must not be empty (a caller nobody answers hears it)"
    if len(voice.missed_message) > MAX_MISSED_MESSAGE_CHARS:
        return f"voice.missed_message: at most {MAX_MISSED_MESSAGE_CHARS} characters"
    if not voice.enabled:
        return None
    if not voice.account_sid:
        return "voice.account_sid: required when voice.enabled (or set sms.account_sid)"
    if not voice.program_number:
        return 'voice.program_number: required when voice.enabled, e.g. "+81312345678"'
    if not voice.auth_token:
        return _token_missing("voice", voice.auth_token_env)
    return None


def _desk_phones_problem(voice: VoiceConfig, region: str) -> str | None:
    for i, phone in enumerate(voice.desk_phones if voice.staff_phones else ()):
        if problem := _number_problem(phone.number, region, f"voice.staff_phones[{i}]"):
            return problem
    if len({p.label for p in voice.desk_phones}) < len(voice.desk_phones):
        return "voice.staff_phones: each label once (staff pick a phone by it)"
    return None


def resolve_sms_voice(
    sms: SmsConfig, voice: VoiceConfig, env: Mapping[str, str]
) -> tuple[SmsConfig, VoiceConfig]:
    """The tokens read from the environment ("" counts as unset), voice's account_sid
    defaulted to sms's, and valid numbers written as E.164 (an invalid one is left for
    sms_problem / voice_problem to report)."""
    sms = dataclasses.replace(
        sms,
        auth_token=env.get(sms.auth_token_env, ""),
        from_number=_e164(sms.from_number, sms.default_region),
    )
    voice = dataclasses.replace(
        voice,
        account_sid=voice.account_sid or sms.account_sid,
        auth_token=env.get(voice.auth_token_env, ""),
        program_number=_e164(voice.program_number, sms.default_region),
        forward_to=tuple(_e164(n, sms.default_region) for n in voice.forward_to),
        staff_phones=tuple(
            f"{p.label}={_e164(p.number, sms.default_region)}"
            for p in (voice.desk_phones if voice.staff_phones else ())
        ),
    )
    return sms, voice


def _e164(text: str, region: str) -> str:
    if not text or not is_valid_region(region):
        return text
    try:
        return parse_number(text, region=region).e164
    except ValidationError:
        return text


def _token_missing(section: str, variable: str) -> str:
    return (
        f"{section}.auth_token_env: the environment variable {variable} is not set; export it"
        f" with the Auth Token from the Twilio console (never write the token in this file),"
        f" or set {section}.enabled = false"
    )
