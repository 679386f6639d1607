"""Phone desk commands: log a call (by hand), ask for a callback from any conversation.

The input is read and checked here, for the API and any other caller alike: numbers through
inbox.core.numbers (read in sms.default_region; an error names the field, never the number),
outcome and referral ids against [phone], the note's length, times with their offset. The
callback retry rule (routing.callbacks.next_try over [phone].retry and her window) is handed to
the store, which applies it inside the transaction that logs the try.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inbox.commands.signals import Listener
from inbox.commands.writes import Clock, Commands
from inbox.core.errors import ConfigError, ValidationError
from inbox.core.model import ChannelKind, ConversationId, UserId
from inbox.core.numbers import parse_number
from inbox.core.phone import (
    MAX_CALL_DURATION_S,
    MAX_CALL_NOTE_CHARS,
    CallbackRequest,
    CallDirection,
    Caller,
    CloseCallback,
    LoggedCall,
    NewCall,
    OpenCallback,
    PastTry,
    RetryAt,
    RetryRuleFn,
    TryDecision,
)
from inbox.phone_config import PhoneConfig
from routing.callbacks import (
    Attempt,
    NextTry,
    next_allowed,
    next_try,
    parse_call_window,
    within_hours,
)
from routing.hours import ALWAYS_OPEN, TOKYO, ServiceHours
from storage.base import Store

log = logging.getLogger(__name__)

IdentityOf = Callable[[ChannelKind, str], str]  # inbox.pipeline.Intake.identity_of
FOLLOW_UP_AT = time(9)  # a follow-up date's callback is due from the desk's morning
FUTURE_SLACK = timedelta(hours=1)  # a call's start may be this far ahead of our clock
# A requested window must meet the desk's phone hours this soon, or she would never be called.
WINDOW_MEETS_HOURS_WITHIN = timedelta(days=14)


def _text(data: Mapping[str, Any], name: str, *, max_chars: int) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("a string", field=name)
    if len(value) > max_chars:
        raise ValidationError(f"at most {max_chars} characters, got {len(value)}", field=name)
    return value


def _choice(data: Mapping[str, Any], name: str, allowed: Sequence[str]) -> str:
    value = data.get(name)
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"one of {', '.join(allowed)}", field=name)
    return value


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError("true or false", field=name)
    return value


def _whole(data: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"required, a whole number from {low} to {high}", field=name)
    return value


def _optional_id(data: Mapping[str, Any], name: str) -> ConversationId | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValidationError("a conversation id, or null", field=name)
    return ConversationId(value)


def _started_at(data: Mapping[str, Any], now: datetime) -> datetime:
    raw = data.get("started_at")
    found: datetime | None = None
    if isinstance(raw, str) and len(raw) <= 40:
        try:
            found = datetime.fromisoformat(raw)
        except ValueError:
            found = None
    if found is None or found.tzinfo is None or found.utcoffset() is None:
        raise ValidationError(
            "required, a time in ISO 8601 with its offset, e.g. 2026-12-01T10:30:00+09:00",
            field="started_at",
        )
    if not 2000 <= found.year <= 9000 or found > now + FUTURE_SLACK:
        raise ValidationError("not a time a call could have started", field="started_at")
    return found


def _day(data: Mapping[str, Any], name: str, today: date) -> date | None:
    raw = data.get(name)
    if raw is None or raw == "":
        return None
    day = None
    if isinstance(raw, str) and len(raw) == 10:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
    if day is None or day.year > 9000:
        raise ValidationError("a date as YYYY-MM-DD, or null", field=name)
    if day < today:
        raise ValidationError("a day from today on", field=name)
    return day


def _referrals(data: Mapping[str, Any], allowed: frozenset[str]) -> tuple[str, ...]:
    raw = data.get("referrals", [])
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise ValidationError("a list of referral ids", field="referrals")
    unknown = [r for r in raw if r not in allowed]
    if unknown:
        raise ValidationError(
            f"unknown referral; configured: {', '.join(sorted(allowed)) or 'none'}",
            field="referrals",
        )
    return tuple(dict.fromkeys(raw))


class CallCommands(Commands):
    """The phone desk's writes. `identity_of` keys a number as intake keys a sender;
    `hours`: the desk's phone hours, the window of a consulter who gave none."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        signals: Listener,
        identity_of: IdentityOf,
        phone: PhoneConfig,
        region: str,
        timezone: ZoneInfo = TOKYO,
        hours: ServiceHours = ALWAYS_OPEN,
    ) -> None:
        super().__init__(store, clock=clock, signals=signals)
        self._identity_of = identity_of
        self._phone = phone
        self._region = region
        self._tz = timezone
        self._hours = hours

    @property
    def phone(self) -> PhoneConfig:
        return self._phone

    def caller(self, text: object, *, field: str = "number") -> Caller:
        """Her number as the store keys it; ValidationError naming `field`, never the number."""
        if not isinstance(text, str):
            raise ValidationError("required, a phone number as a string", field=field)
        number = parse_number(text, region=self._region, field=field)
        return Caller(
            identity_hash=self._identity_of(ChannelKind.PHONE, number.e164), e164=number.e164
        )

    def window(self, raw: object) -> str | None:
        """Her call window as stored (JSON text), checked by routing.callbacks; None for any
        time the desk's hours allow."""
        if raw is None:
            return None
        try:
            hers = parse_call_window(raw, "window", self._tz)
        except ConfigError as exc:
            detail = str(exc).removeprefix("window").lstrip(".: ")
            raise ValidationError(detail, field="window") from None
        now = self._clock()
        first = next_allowed(self._allowed(hers), now)
        if first is None or first > now + WINDOW_MEETS_HOURS_WITHIN:
            raise ValidationError(
                "this window does not meet the desk's phone hours within the next"
                f" {WINDOW_MEETS_HOURS_WITHIN.days} days, so she would never be called; widen"
                " it, or give null for any time the desk's hours allow",
                field="window",
            )
        return json.dumps(raw, ensure_ascii=False, sort_keys=True)

    def _allowed(self, hers: ServiceHours) -> ServiceHours:
        """When the desk may call her: her window and the desk's phone hours both open (her
        window alone when they are in different zones and cannot be combined)."""
        both = within_hours(hers, self._hours)
        return hers if both is None else both

    def follow_up_at(self, day: date | None) -> datetime | None:
        """A follow-up date's callback is due from the desk's morning that day."""
        return None if day is None else datetime.combine(day, FOLLOW_UP_AT, self._tz)

    def read_call(
        self, data: Mapping[str, Any], *, staff: UserId | None, any_callback: bool = False
    ) -> NewCall:
        """A call logged by hand, as the API's body gives it (see the phone desk contract).
        `any_callback`: a supervisor's, who may log a try on a callback that is not hers."""
        now = self._clock()
        today = now.astimezone(self._tz).date()
        direction = CallDirection(_choice(data, "direction", [d.value for d in CallDirection]))
        started_at = _started_at(data, now)
        duration_s = _whole(data, "duration_s", 0, MAX_CALL_DURATION_S)
        outcome = _choice(data, "outcome", [o.id for o in self._phone.outcomes])
        note = _text(data, "note", max_chars=MAX_CALL_NOTE_CHARS)
        referrals = _referrals(data, self._phone.referral_ids())
        follow_up = _day(data, "follow_up", today)
        conversation = _optional_id(data, "conversation")
        withheld = _flag(data, "withheld")
        number = data.get("number")
        caller = None if number is None or number == "" else self.caller(number)
        if conversation is not None and withheld:
            raise ValidationError("a callback's number is known: not withheld", field="withheld")
        if conversation is None and withheld == (caller is not None):
            raise ValidationError(
                "give the number, or withheld: true (not both)",
                field="withheld" if withheld else "number",
            )
        callback = None
        if follow_up is not None and caller is not None and conversation is None:
            callback = OpenCallback(due_at=datetime.combine(follow_up, FOLLOW_UP_AT, self._tz))
        return NewCall(
            direction=direction,
            started_at=started_at,
            duration_s=duration_s,
            outcome=outcome,
            reached=any(o.reached for o in self._phone.outcomes if o.id == outcome),
            staff_id=staff,
            withheld=withheld,
            caller=caller,
            conversation_id=conversation,
            note=note,
            referrals=referrals,
            follow_up=follow_up,
            callback=callback,
            any_callback=any_callback,
        )

    def retry_rule(self, now: datetime, follow_up: date | None = None) -> RetryRuleFn:
        """[phone].retry over her window within the desk's phone hours, as the store calls it
        inside the transaction that logged the try. A follow-up date the try gave: a retry is
        not before that morning, and a callback the try ends opens a new one due then."""
        follow_up_at = self.follow_up_at(follow_up)

        def decide(tries: Sequence[PastTry], window_json: str | None) -> TryDecision:
            attempts = [Attempt(at=t.at, outcome=t.outcome) for t in tries]
            window = self.window_hours(window_json)
            found = next_try(self._phone.retry, attempts, window, now, self._phone.outcomes)
            if isinstance(found, NextTry):
                if follow_up_at is not None and follow_up_at > found.at:
                    return RetryAt(at=follow_up_at)
                return RetryAt(at=found.at)
            return CloseCallback(
                reason=found.reason.value, outcome=found.outcome, follow_up_at=follow_up_at
            )

        return decide

    def window_hours(self, window_json: str | None) -> ServiceHours:
        """When the desk may call her: her stored window within the desk's phone hours (both
        open, as the router applies both); the desk's phone hours without one."""
        if window_json is None:
            return self._hours
        try:
            return self._allowed(
                parse_call_window(json.loads(window_json), "call_window", self._tz)
            )
        except (ValueError, ConfigError):
            # stored by request_callback after the same check; never seen, but never fatal
            log.warning("unreadable call window", extra={"action": "call_window_unreadable"})
            return self._hours

    async def log_call(self, entry: NewCall) -> LoggedCall:
        """Store the call; on a callback, its next try or its end (storage: log_call)."""
        now = self._clock()
        async with self._committing() as commit:
            logged = await commit(
                self._store.log_call, entry, now=now, retry=self.retry_rule(now, entry.follow_up)
            )
        log.info(
            "call logged",
            extra={
                "action": "call_logged",
                "call_id": logged.call.id,
                "conversation_id": logged.call.conversation_id,
            },
        )
        return logged

    async def request_callback(
        self, conversation_id: ConversationId, data: Mapping[str, Any], *, actor: UserId
    ) -> CallbackRequest:
        """A callback asked for from this conversation: `number`, `window` (or null), `note`."""
        caller = self.caller(data.get("number"))
        window = self.window(data.get("window"))
        note = _text(data, "note", max_chars=MAX_CALL_NOTE_CHARS)
        async with self._committing() as commit:
            found = await commit(
                self._store.request_callback,
                conversation_id,
                caller,
                window_json=window,
                note=note,
                actor_id=actor,
                now=self._clock(),
            )
        log.info(
            "callback requested",
            extra={
                "action": "callback_requested",
                "conversation_id": found.conversation_id,
                "new_conversation": found.created,
            },
        )
        return found
