"""SMS text rules, pure: how many segments a body costs, and the opt-out keywords.

Segments: a body all in the GSM-7 alphabet (3GPP TS 23.038) is 160 septets in one SMS, else
153 per part of a multipart one (the rest holds the joining header); an extension character
(€ [ ] { } ...) is an escape plus itself, 2 septets, and never split across parts. Any other
body is UCS-2: 70 UTF-16 code units in one SMS, else 67 per part; a character outside the
BMP (most emoji) is a surrogate pair, 2 units, never split.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2) the whole body takes
    count: int  # SMS messages it is sent as; an empty body is still one


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _widths(text: str, encoding: Encoding) -> list[int]:
    if encoding is Encoding.GSM7:
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def count_segments(text: str) -> Segments:
    """How `text` is sent: its encoding, its length in units and its number of segments."""
    encoding = Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2
    single, part = (
        (GSM7_SINGLE, GSM7_PART) if encoding is Encoding.GSM7 else (UCS2_SINGLE, UCS2_PART)
    )
    widths = _widths(text, encoding)
    units = sum(widths)
    if units <= single:
        return Segments(encoding, units, 1)
    count, used = 1, 0
    for width in widths:  # fill parts; a 2-unit character never straddles two
        if used + width > part:
            count, used = count + 1, 0
        used += width
    return Segments(encoding, units, count)


class Keyword(enum.StrEnum):
    """What an inbound SMS asks of the program, by the carriers' and Twilio's conventions."""

    STOP = "stop"  # send her nothing more (opt out)
    START = "start"  # she may be written to again (opt back in)
    HELP = "help"  # she asks who this is and how to stop


DEFAULT_STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
DEFAULT_START_WORDS = ("START", "UNSTOP", "YES")
DEFAULT_HELP_WORDS = ("HELP", "INFO")
# A program may change these in [sms]; they are read the same way (NFKC, case folded).
DEFAULT_STOP_WORDS_JA = ("停止", "配信停止", "ストップ", "ていし")
DEFAULT_START_WORDS_JA = ("再開", "さいかい")
DEFAULT_HELP_WORDS_JA = ("ヘルプ",)


def fold(text: str) -> str:
    """`text` the way keywords are compared: NFKC (ＳＴＯＰ → STOP, ｽﾄｯﾌﾟ → ストップ),
    case folded, surrounding white space (incl. the full-width space) removed."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


@dataclass(frozen=True, slots=True)
class OptOutWords:
    """The words, each a whole message, that mean STOP, START or HELP."""

    stop: frozenset[str]
    start: frozenset[str]
    help: frozenset[str]

    @classmethod
    def of(cls, stop: Iterable[str], start: Iterable[str], help: Iterable[str]) -> OptOutWords:
        """Word lists as written (any width or case); raises ValueError naming a word that is
        empty after folding or is in two lists."""
        lists = {"stop": stop, "start": start, "help": help}
        folded = {name: frozenset(fold(w) for w in words) for name, words in lists.items()}
        for name, words in lists.items():
            if any(not fold(w) for w in words):
                raise ValueError(f"{name}: a word is empty")
        seen: dict[str, str] = {}
        for name, words_folded in folded.items():
            for word in sorted(words_folded):
                if word in seen:
                    raise ValueError(f"{name}: {word!r} is also in {seen[word]}")
                seen[word] = name
        return cls(stop=folded["stop"], start=folded["start"], help=folded["help"])

    def opt(self, body: str) -> bool | None:
        """True for a STOP word, False for a START word, None for anything else (HELP too)."""
        keyword = self.classify(body)
        return None if keyword is None or keyword is Keyword.HELP else keyword is Keyword.STOP

    def classify(self, body: str) -> Keyword | None:
        """The keyword `body` is, as a whole message; None for anything else."""
        word = fold(body)
        if word in self.stop:
            return Keyword.STOP
        if word in self.start:
            return Keyword.START
        if word in self.help:
            return Keyword.HELP
        return None


DEFAULT_OPT_OUT_WORDS = OptOutWords.of(
    DEFAULT_STOP_WORDS + DEFAULT_STOP_WORDS_JA,
    DEFAULT_START_WORDS + DEFAULT_START_WORDS_JA,
    DEFAULT_HELP_WORDS + DEFAULT_HELP_WORDS_JA,
)


# Twilio's error codes for a message that cannot be delivered, as the counselor reads them (the
# console words the same codes in Japanese, inbox/web/static/console/sms.js). Permanent ones fail
# the reply for good: sending the same text to the same number again cannot succeed (she opted
# out, the number is a landline, no such number, ...); the 3000x delivery errors other than
# these may clear up. https://www.twilio.com/docs/api/errors
_TWILIO_ERRORS: dict[int, str] = {
    21211: "not a valid phone number",
    21408: "sending to this region is not enabled",
    21610: "unsubscribed (the recipient sent STOP)",
    21612: "cannot be reached from the program's number",
    21614: "not a mobile number",
    30003: "unreachable (phone off or out of coverage)",
    30005: "unknown destination",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
    30008: "unknown error",
}
PERMANENT_ERROR_CODES: frozenset[int] = frozenset({21211, 21408, 21610, 21612, 21614, 30005, 30006})
# She told the carrier STOP (Twilio refuses every message to her from this number): recorded
# as her opt-out, as if she had sent it to us.
UNSUBSCRIBED_CODE = 21610


def twilio_error_reason(code: int | None) -> str:
    """A short reason for Twilio's ErrorCode `code` (None or unknown codes: "unknown error")."""
    if code is None:
        return "unknown error"
    return _TWILIO_ERRORS.get(code, "unknown error")


# Twilio's message statuses in the order they happen: a status callback may arrive after a
# later one (each is its own HTTP request), and must then change nothing. The last three are
# final: nothing replaces them.
PROVIDER_STATUS_RANK: dict[str, int] = {
    "queued": 1,
    "accepted": 1,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
}
FAILED_STATUSES = frozenset({"undelivered", "failed"})


def provider_error_text(status: str, code: int | None) -> str:
    """What the counselor reads of a failed SMS reply, e.g. "twilio 30006: landline or
    unreachable carrier"."""
    if code is None:
        return f"twilio {status}: {twilio_error_reason(None)}"
    return f"twilio {code}: {twilio_error_reason(code)}"
