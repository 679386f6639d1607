"""How a staff command writes: every store write through one call that knows which kinds of events
that write commits, so the command's wake-ups follow from its writes and none can be forgotten.

STORE_WRITES lists, per store operation a command may call, the kinds of events it may commit
(in the same transaction as its change: storage writes each event with its change). A write
through an operation missing from it raises KeyError at once, in the first test that runs it;
tests/core/test_commands.py checks the list against what the store really writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from inbox.commands.signals import Listener
from inbox.core.model import ConversationId, UserId
from storage.base import EventLog, Store

P = ParamSpec("P")
T = TypeVar("T")
Clock = Callable[[], datetime]

STORE_WRITES: dict[str, frozenset[str]] = {
    "add_reply": frozenset({"reply_queued"}),
    "add_note": frozenset({"note_added"}),
    "assign": frozenset({"conversation_assigned"}),
    "close": frozenset({"conversation_closed"}),
    # the satisfaction survey's question, queued after a close (storage.surveys)
    "ask_survey": frozenset({"survey_sent"}),
    "mark_opened": frozenset({"offer_opened"}),
    "requeue": frozenset({"conversation_requeued"}),
    "update_counselor": frozenset({"counselor_updated"}),
    "set_channel_paused": frozenset({"channel_paused", "channel_resumed"}),
    "set_discretion": frozenset({"discretion_set", "discretion_cleared"}),
    "set_anonymity": frozenset({"anonymity_set"}),
    # --- link: one consulter across channels
    "link_contacts": frozenset({"contacts_linked"}),
    "create_user": frozenset({"user_created"}),
    # disabling also puts her open conversations back in the queue
    "set_user_disabled": frozenset({"user_disabled", "user_enabled", "conversation_requeued"}),
    "update_account": frozenset({"user_updated", "conversation_requeued"}),
    "reset_password": frozenset({"password_reset"}),
    "change_password": frozenset({"password_changed"}),
    "set_password_hash": frozenset(),
    "create_session": frozenset(),
    "delete_session": frozenset(),
    "create_api_token": frozenset(),
    # --- desk: tags and canned replies
    "set_tags": frozenset({"tags_set"}),
    "create_canned_reply": frozenset({"canned_reply_created"}),
    "update_canned_reply": frozenset({"canned_reply_updated"}),
    "delete_canned_reply": frozenset({"canned_reply_deleted"}),
    # presence that follows her staff sockets (inbox.presence): the reason is in the event
    "staff_connected": frozenset({"counselor_updated"}),
    "staff_seen": frozenset(),
    "away_disconnected": frozenset({"counselor_updated"}),
    # --- board: a supervisor acknowledges an alert
    "acknowledge_alert": frozenset({"alert_acknowledged"}),
    # --- audit: staff reads of a conversation (one per open: inbox.core.audit.READ_COALESCE)
    "record_read": frozenset({"conversation_read"}),
    # --- the phone desk: calls logged, callbacks worked and requested (storage.calls)
    "log_call": frozenset(
        {
            "call_logged",
            "callback_requested",
            "callback_retry_scheduled",
            "callback_closed",
            "conversation_closed",
            "conversation_assigned",  # phone staff working a queued callback take it
        }
    ),
    "request_callback": frozenset({"callback_requested", "note_added"}),
    # --- follow-ups (近況確認, storage.follow_ups); becoming due is the watcher's, no command's
    "set_follow_up": frozenset({"follow_up_set"}),
    "cancel_follow_up": frozenset({"follow_up_cancelled"}),
    "resolve_follow_up": frozenset({"follow_up_resolved"}),
    # --- casework: the directory of partner agencies, and referrals to them (storage.agencies,
    # storage.referrals)
    "create_agency": frozenset({"agency_created"}),
    "update_agency": frozenset({"agency_updated"}),
    "set_agency_archived": frozenset({"agency_archived", "agency_restored"}),
    "import_agencies": frozenset({"agencies_imported"}),
    "record_referral": frozenset({"referral_recorded"}),
    "delete_referral": frozenset({"referral_deleted"}),
    # --- Twilio Voice (storage.voice): its webhooks, the desk's calls out, outcomes given later
    "call_arrived": frozenset({"call_started"}),
    "advance_call": frozenset(
        {
            "call_updated",
            "call_logged",
            "callback_requested",
            "callback_withdrawn",
            "conversation_closed",
        }
    ),
    "bridge_call": frozenset({"call_updated"}),
    "start_call": frozenset({"call_started"}),
    "call_placed": frozenset({"call_updated", "call_logged"}),
    # --- the grant report: the retention rule empties bodies (storage.retention)
    "purge_bodies": frozenset({"bodies_purged"}),
    "log_outcome": frozenset(
        {
            "call_outcome_logged",
            "callback_retry_scheduled",
            "callback_closed",
            "conversation_closed",
            "callback_requested",  # a follow-up date on a try that ended the callback
        }
    ),
    # --- casework (issue 17): topics and age group, activities outside conversations
    "set_conversation_topics": frozenset({"topics_set"}),
    "set_call_topics": frozenset({"topics_set"}),
    "set_age_group": frozenset({"age_group_set"}),
    "add_activity": frozenset({"activity_logged"}),
    "update_activity": frozenset({"activity_updated"}),
    "delete_activity": frozenset({"activity_deleted"}),
}


class Commit:
    """One command's writes so far, and the kinds of events they committed."""

    def __init__(self, log: EventLog) -> None:
        self._log = log
        self.kinds: set[str] = set()

    async def __call__(self, op: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one store write (a bound method of the store) and note what it committed."""
        kinds = STORE_WRITES[op.__name__]
        result = await op(*args, **kwargs)
        self.kinds |= kinds
        return result

    async def maybe(self, op: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """A write that often finds nothing to do (a sweep): its kinds count only when it
        returns something true, so an idle sweep wakes nobody."""
        kinds = STORE_WRITES[op.__name__]
        result = await op(*args, **kwargs)
        if result:
            self.kinds |= kinds
        return result

    async def event(
        self,
        kind: str,
        *,
        now: datetime,
        actor_id: UserId | None = None,
        conversation_id: ConversationId | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Write one event of the command's own (an audit record, a sign-in)."""
        await self._log.record_event(
            kind, now=now, actor_id=actor_id, conversation_id=conversation_id, data=data
        )
        self.kinds.add(kind)


class Commands:
    """What every group of staff commands shares: the store, the clock and the wake-up calls."""

    def __init__(self, store: Store, *, clock: Clock, signals: Listener) -> None:
        self._store = store
        self._clock = clock
        self._signals = signals

    @asynccontextmanager
    async def _committing(self) -> AsyncIterator[Commit]:
        """Yield the command's Commit; on the way out, also when a later write failed, wake
        whoever must hear of what was committed."""
        commit = Commit(self._store)
        try:
            yield commit
        finally:
            self._signals.after(commit.kinds)
