"""Twilio Voice's commands: a call that comes in, its dial result and status callbacks, a call
out from the desk (click-to-call), and the outcome staff give a call Twilio logged.

Numbers are read here (inbox.core.numbers; a withheld or unreadable caller is nobody's), the
store keeps the states (storage.voice), and the commits wake the router when a missed call
became a callback. No log line holds a number: calls are named by their id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from inbox.commands.calls import CallCommands, _day, _referrals, _text
from inbox.commands.signals import Listener
from inbox.commands.writes import Clock, Commands
from inbox.core.errors import ChannelError, ValidationError
from inbox.core.model import ConversationId, UserId
from inbox.core.phone import (
    MAX_CALL_NOTE_CHARS,
    Call,
    CallDirection,
    Caller,
    LoggedCall,
    NewCall,
)
from inbox.core.voice import VoiceChange
from routing.callbacks import may_call
from storage.base import Store

log = logging.getLogger(__name__)

# What Twilio's From holds when the caller withheld her number (and the codes carriers send
# for it): nobody's call, logged only.
WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "blocked", "private", "+266696687"})


# How long Twilio's REST API may take to accept a call out before it counts as failed
DEFAULT_DIAL_TIMEOUT_S = 15.0


class DialTimeout(ChannelError):
    """Twilio did not answer calls.create in time: the call is logged as failed."""


class CallPlacer(Protocol):
    """Twilio's REST API as click-to-call needs it (channels.voice.TwilioDialer)."""

    async def place(self, *, to: str, from_: str, url: str, status_callback: str) -> str:
        """Have Twilio call `to` and fetch `url` when answered; its CallSid. ChannelError."""


class VoiceCommands(Commands):
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        signals: Listener,
        calls: CallCommands,
        placer: CallPlacer | None = None,
        dial_timeout_s: float = DEFAULT_DIAL_TIMEOUT_S,
    ) -> None:
        super().__init__(store, clock=clock, signals=signals)
        self._calls = calls
        self._placer = placer
        self._dial_timeout_s = dial_timeout_s

    def caller_of(self, from_number: str | None) -> Caller | None:
        """Her number from Twilio's From, or None: withheld, or nothing a number can be read
        from (kept as withheld rather than refused: the call is real all the same)."""
        text = (from_number or "").strip()
        if text.lower() in WITHHELD:
            return None
        try:
            return self._calls.caller(text, field="From")
        except ValidationError:
            return None

    async def arrived(self, call_sid: str, status: str, from_number: str | None) -> VoiceChange:
        caller = self.caller_of(from_number)
        async with self._committing() as commit:
            change = await commit(
                self._store.call_arrived, call_sid, status, caller, now=self._clock()
            )
        _log("call arrived" if change.changed else "call arrived again", change, "call_arrived")
        return change

    async def advance(
        self,
        call_sid: str,
        status: str,
        duration_s: int | None,
        from_number: str | None,
        *,
        call_id: int | None = None,
    ) -> VoiceChange | None:
        """A dial result or a status callback; None for a call that is not ours. `call_id`:
        the desk's call out as its callback URL names it (matched before its sid is known)."""
        caller = self.caller_of(from_number)
        async with self._committing() as commit:
            change = await commit.maybe(
                self._store.advance_call,
                call_sid,
                status,
                duration_s,
                caller,
                now=self._clock(),
                call_id=call_id,
            )
        if change is None:
            log.info("call status for an unknown call", extra={"action": "call_status_unknown"})
            return None
        _log("call status", change, "call_status")
        return change

    def may_call_now(self, window_json: str | None) -> bool:
        """Her window (the desk's phone hours when she gave none) allows a call now."""
        return may_call(self._calls.window_hours(window_json), self._clock())

    async def dial(
        self,
        conversation_id: ConversationId,
        staff_number: str,
        *,
        staff: UserId,
        from_: str,
        bridge_url: str,
        status_callback: str,
    ) -> Call:
        """The desk calls staff's own phone (`staff_number`, E.164) and, once she answers,
        Twilio fetches the bridge (bridge_url + the call's id) that connects her to the
        consulter. ChannelError when Twilio refused: the call is logged as failed."""
        if self._placer is None:
            raise ChannelError("voice is not configured", channel="phone", retryable=False)
        async with self._committing() as commit:
            started = await commit(
                self._store.start_call, conversation_id, staff, now=self._clock()
            )
        sid: str | None = None
        try:
            async with asyncio.timeout(self._dial_timeout_s):
                sid = await self._placer.place(
                    to=staff_number,
                    from_=from_,
                    url=f"{bridge_url}?call={started.id}",
                    status_callback=f"{status_callback}?call={started.id}",
                )
        except TimeoutError:
            raise DialTimeout(
                "twilio did not answer in time", channel="phone", retryable=False
            ) from None
        finally:
            async with self._committing() as commit:
                placed = await commit(self._store.call_placed, started.id, sid, now=self._clock())
            _log("call placed" if sid else "call refused", placed, "call_placed")
        return placed

    async def bridge(self, call_id: int, call_sid: str) -> Call | None:
        """May the bridge connect her now (once per call, this CallSid, not over)?"""
        async with self._committing() as commit:
            bridged = await commit(self._store.bridge_call, call_id, call_sid, now=self._clock())
        if bridged is None:
            log.warning(
                "bridge refused", extra={"action": "call_bridge_refused", "call_id": call_id}
            )
        return bridged

    def read_outcome(self, data: Mapping[str, Any], *, staff: UserId) -> NewCall:
        """The outcome form for a call Twilio logged: outcome, note, referrals, follow_up."""
        phone = self._calls.phone
        outcome = data.get("outcome")
        if not isinstance(outcome, str) or outcome not in phone.outcome_ids():
            raise ValidationError(
                f"one of {', '.join(o.id for o in phone.outcomes)}", field="outcome"
            )
        today = self._clock().astimezone(self._calls._tz).date()
        return NewCall(
            direction=CallDirection.OUTBOUND,  # unused: the stored call's direction counts
            started_at=self._clock(),
            duration_s=None,
            outcome=outcome,
            reached=any(o.reached for o in phone.outcomes if o.id == outcome),
            staff_id=staff,
            note=_text(data, "note", max_chars=MAX_CALL_NOTE_CHARS),
            referrals=_referrals(data, phone.referral_ids()),
            follow_up=_day(data, "follow_up", today),
        )

    async def log_outcome(self, call_id: int, entry: NewCall) -> LoggedCall:
        now = self._clock()
        async with self._committing() as commit:
            logged = await commit(
                self._store.log_outcome,
                call_id,
                entry,
                now=now,
                retry=self._calls.retry_rule(now, entry.follow_up),
            )
        log.info(
            "call outcome logged",
            extra={"action": "call_outcome_logged", "call_id": call_id},
        )
        return logged


def _log(message: str, what: VoiceChange | Call, action: str) -> None:
    c = what.call if isinstance(what, VoiceChange) else what
    log.info(
        message,
        extra={
            "action": action,
            "call_id": c.id,
            "conversation_id": c.conversation_id,
            "status": c.call_status,
            "withheld": c.withheld,
        },
    )
