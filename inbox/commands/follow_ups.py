"""Staff commands on follow-ups (近況確認): set one from a conversation, cancel it before its
day, resolve it (done, skipped, unreachable). The form is read and checked here for the API and
any other caller: the day in the program's zone (from today to MAX_FOLLOW_UP_DAYS ahead), the
note's length, the identity's and the counselor's ids. Who may is checked before
(inbox.web.follow_ups)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inbox.commands.signals import Listener
from inbox.commands.writes import Clock, Commands
from inbox.core.errors import ValidationError
from inbox.core.follow_ups import (
    MAX_FOLLOW_UP_DAYS,
    MAX_FOLLOW_UP_NOTE_CHARS,
    OUTCOME_IDS,
    FollowUp,
    NewFollowUp,
)
from inbox.core.model import ConversationId, UserId
from routing.hours import TOKYO
from storage.base import Store


def _day(data: Mapping[str, Any], today: date) -> date:
    raw = data.get("due_on")
    found: date | None = None
    if isinstance(raw, str) and len(raw) == 10:
        try:
            found = date.fromisoformat(raw)
        except ValueError:
            found = None
    if found is None:
        raise ValidationError("required, a day as YYYY-MM-DD", field="due_on")
    if not today <= found <= today + timedelta(days=MAX_FOLLOW_UP_DAYS):
        raise ValidationError(
            f"from today to {MAX_FOLLOW_UP_DAYS} days ahead, in the program's time zone",
            field="due_on",
        )
    return found


def _note(data: Mapping[str, Any]) -> str:
    value = data.get("note", "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("a string", field="note")
    value = value.strip()
    if len(value) > MAX_FOLLOW_UP_NOTE_CHARS:
        raise ValidationError(f"at most {MAX_FOLLOW_UP_NOTE_CHARS} characters", field="note")
    return value


def _optional_id(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ValidationError("an id, or null", field=name)
    return value


class FollowUpCommands(Commands):
    def __init__(
        self, store: Store, *, clock: Clock, signals: Listener, timezone: ZoneInfo = TOKYO
    ) -> None:
        super().__init__(store, clock=clock, signals=signals)
        self._tz = timezone

    def read(self, conversation_id: ConversationId, data: Mapping[str, Any]) -> NewFollowUp:
        """The form {due_on, note?, identity?} as a NewFollowUp; ValidationError names the
        field."""
        today = self._clock().astimezone(self._tz).date()
        identity = _optional_id(data, "identity")
        return NewFollowUp(
            from_conversation_id=conversation_id,
            due_on=_day(data, today),
            note=_note(data),
            identity_id=identity,
        )

    async def set(self, new: NewFollowUp, *, actor: UserId) -> FollowUp:
        async with self._committing() as commit:
            return await commit(self._store.set_follow_up, new, actor_id=actor, now=self._clock())

    async def cancel(self, follow_up_id: int, *, actor: UserId) -> FollowUp:
        async with self._committing() as commit:
            return await commit(
                self._store.cancel_follow_up, follow_up_id, actor_id=actor, now=self._clock()
            )

    async def resolve(
        self, follow_up_id: int, data: Mapping[str, Any], *, actor: UserId
    ) -> FollowUp:
        outcome = data.get("outcome")
        if not isinstance(outcome, str) or outcome not in OUTCOME_IDS:
            raise ValidationError(f"one of {', '.join(sorted(OUTCOME_IDS))}", field="outcome")
        async with self._committing() as commit:
            return await commit(
                self._store.resolve_follow_up,
                follow_up_id,
                outcome,
                actor_id=actor,
                now=self._clock(),
            )
