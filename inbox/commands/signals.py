"""Who must hear of committed events: the one mapping from event kinds to the workers to wake.

A staff command never wakes a worker by hand. It reports the kinds of events its writes
committed (inbox.commands.writes), and `wakes_for` says who must look: the staff feed for every
event but the audit log's own (AUDIT_ONLY_KINDS), the router when someone may have room or a
conversation may wait, the outbox when a reply was queued. PostgreSQL's NOTIFY trigger
(storage/postgres/schema.py, its latest version in migration 17) makes the same decision for
other instances; its "route" kinds are ROUTING_KINDS (a test says so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Wake(StrEnum):
    ROUTER = "router"
    OUTBOX = "outbox"
    FEED = "feed"
    FOLLOW_UPS = "follow_ups"


# The kinds after which the router may have work: a conversation waits, or someone may have room.
ROUTING_KINDS = frozenset(
    {
        # what the routing instance is told of by the others (the NOTIFY trigger lists them
        # all: tests/core/test_commands.py)
        "message_received",
        "conversation_closed",
        "conversation_requeued",
        "offer_lapsed",
        "counselor_updated",
        "channel_resumed",
        "deadline_breached",
        "user_created",
        "user_enabled",
        # and what this instance has always routed after: a supervisor's assignment may free
        # the previous assignee; a disabled counselor's or a paused channel's queue changes
        "conversation_assigned",
        "user_disabled",
        "channel_paused",
        "user_updated",  # roles: she may be a counselor now, or no longer one
        # the phone desk: a callback waits (new, or back in the queue after a try), or one
        # ended and its phone staff has room
        "callback_requested",
        "callback_retry_scheduled",
        "callback_closed",
        # a follow-up became a task in the queue (on any instance: the trigger lists it too)
        "follow_up_due",
    }
)
# The kinds after which the follow-up watcher must look again (one set for today is due now).
FOLLOW_UP_KINDS = frozenset({"follow_up_set", "follow_up_cancelled"})
# The kinds that leave a reply in the outbox for the sender to claim.
OUTBOX_KINDS = frozenset({"reply_queued", "auto_reply_queued", "survey_sent"})
# The kinds written for the audit log only: news for no screen and no worker (a staff member's
# read would otherwise make every console refetch its queue; inbox.feed leaves them out too).
# An export of the grant report and a purge of bodies are records of who did what, nothing more.
AUDIT_ONLY_KINDS = frozenset({"conversation_read", "report_exported", "bodies_purged"})


def wakes_for(kinds: Iterable[str]) -> frozenset[Wake]:
    """Who must look after events of these kinds were committed; nobody for none. Pure."""
    found = frozenset(kinds) - AUDIT_ONLY_KINDS
    if not found:
        return frozenset()
    wakes = {Wake.FEED}  # every event but an audit record is news for the staff screens
    if found & ROUTING_KINDS:
        wakes.add(Wake.ROUTER)
    if found & OUTBOX_KINDS:
        wakes.add(Wake.OUTBOX)
    if found & FOLLOW_UP_KINDS:
        wakes.add(Wake.FOLLOW_UPS)
    return frozenset(wakes)


class Listener(Protocol):
    def after(self, kinds: Iterable[str]) -> None:
        """Called once as each command ends (also when it failed part-way) with the kinds of
        events it committed, possibly none; never raises."""


def _nobody() -> None:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Signals:
    """The wake-up calls of this process's workers. The CLI has none to call: the server hears
    of its writes through NOTIFY (PostgreSQL) or the feed's idle look (SQLite)."""

    router: Callable[[], None] = _nobody
    outbox: Callable[[], None] = _nobody
    feed: Callable[[], None] = _nobody
    follow_ups: Callable[[], None] = _nobody

    def after(self, kinds: Iterable[str]) -> None:
        """Wake whoever must look after events of these kinds were committed."""
        wakes = wakes_for(kinds)
        if Wake.ROUTER in wakes:
            self.router()
        if Wake.OUTBOX in wakes:
            self.outbox()
        if Wake.FEED in wakes:
            self.feed()
        if Wake.FOLLOW_UPS in wakes:
            self.follow_ups()
