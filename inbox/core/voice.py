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
# The desk's call out once the bridge's <Dial> to her was served (at most once per call).
BRIDGED = "bridged"
CALL_STATUS_RANK: dict[str, int] = {
    "queued": 1,
    "initiated": 2,
    "ringing": 3,
    "in-progress": 4,
    BRIDGED: 5,
    # An inbound call left at one of these ended with no dial result yet: a miss inferred
    # (its callback made), which the dial result, explicit and ranked above, still overrides.
    **dict.fromkeys(END_STATUSES, 6),
    DialResult.ANSWERED.value: 7,
    DialResult.MISSED.value: 7,
}
END_RANK = 6
# A call in one of these is over: the phone screen opens the outcome form.
ENDED = frozenset(s for s, rank in CALL_STATUS_RANK.items() if rank >= END_RANK)
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
    "BRIDGED",
    "CALL_STATUS_RANK",
    "DIAL_STATUSES",
    "ENDED",
    "END_RANK",
    "END_STATUSES",
    "DialResult",
    "VoiceChange",
    "dial_result",
]
