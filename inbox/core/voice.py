"""Twilio Voice's call states as the phone desk keeps them (calls.call_status), and what a
webhook did to a call.

Twilio's CallStatus values, in the order a call goes through them, then the dial's result,
which says more than the call's end ("completed" also ends a call nobody answered): answered
or missed. A state is never replaced by one of the same or an earlier rank, so status
callbacks that arrive out of order (or twice) change nothing. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from inbox.core.phone import Call, CallbackRequest


class DialResult(StrEnum):
    ANSWERED = "answered"  # a desk phone (or she, on a call out) picked up
    MISSED = "missed"  # nobody did: an inbound call becomes a callback


END_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
CALL_STATUS_RANK: dict[str, int] = {
    "queued": 1,
    "initiated": 2,
    "ringing": 3,
    "in-progress": 4,
    **dict.fromkeys(END_STATUSES, 5),
    DialResult.ANSWERED.value: 6,
    DialResult.MISSED.value: 6,
}
# A call in one of these is over: the phone screen opens the outcome form.
ENDED = frozenset(s for s, rank in CALL_STATUS_RANK.items() if rank >= 5)
# <Dial>'s DialCallStatus: "completed" is a call someone answered; the others are not.
DIAL_ANSWERED = "completed"
DIAL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})


def dial_result(dial_status: str) -> DialResult:
    return DialResult.ANSWERED if dial_status in (DIAL_ANSWERED, "answered") else DialResult.MISSED


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceChange:
    """What a Voice webhook did. `changed`: the row took the new state (else it was older than
    the stored one, or the same); `ended`: the call ended just now (call_logged written);
    `callback`: the missed call's callback (its phone conversation), once."""

    call: Call
    changed: bool
    ended: bool = False
    callback: CallbackRequest | None = None


__all__ = [
    "CALL_STATUS_RANK",
    "DIAL_STATUSES",
    "ENDED",
    "END_STATUSES",
    "DialResult",
    "VoiceChange",
    "dial_result",
]
