"""Routing at intake: the pure steps both stores share (see storage.base.IntakeRouter).

The store draws the ids of the conversations a batch opens, reads who is free and what waited
before (after the batch's own changes to it), and asks the router to decide over all of it. When
the decision assigns only newcomers, their assignments are written with the conversations
themselves; otherwise, or while lapsed offers wait to be taken back, nothing is, and the router
decides for everyone: what waited before always keeps its place.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from inbox.core.decisions import AgentLoad, Assign, RoutingSnapshot, WaitingConversation
from inbox.core.model import ChannelKind, ConversationId, IntakeLabels, UserId
from storage.base import IntakeRouter
from storage.events import EventRow

log = logging.getLogger(__name__)
# (contact id, on the phone?) -> who last helped her on that side (the latest conversation with
# an assignee: phone conversations for a call, the others for a chat) and when that
# conversation last changed: the router's continuity, as the WAITING queries read it.
Previous = Mapping[tuple[int, bool], tuple[UserId, datetime]]
# contact id -> the window she allowed for calls (contacts.call_window, as stored): what the
# WAITING queries read for a phone conversation, so a callback opened at intake is held alike.
Windows = Mapping[int, str]


# A time as a store's intake carries it: a datetime (PostgreSQL), or SQLite's text form, made
# once per message.
Stamp = TypeVar("Stamp", datetime, str)


class Opening(NamedTuple):
    """A conversation the batch opens, under the id the store drew for it. A named tuple: a
    batch makes thousands, and it is the cheapest immutable record."""

    conversation_id: int
    contact_id: int
    identity_id: int
    channel: ChannelKind
    at: datetime  # the identity's first message in the batch: created_at and queued_at
    labels: IntakeLabels


class NewConversation(NamedTuple):
    """A conversation the batch opens, as both stores insert it: the columns of conversations,
    in the order of storage.sqlite.intake.INSERT_CONVERSATIONS."""

    id: int
    contact_id: int
    identity_id: int
    channel: str
    status: str
    created_at: Any  # a Stamp, like every time here
    updated_at: Any
    queued_at: Any
    last_inbound_at: Any
    priority: int
    skill: str | None
    team: str | None
    tags: str  # JSON array
    awaiting_since: Any
    language: str | None
    assignee_id: int | None
    offered_at: Any


def new_conversation(
    opening: Opening, *, at: Stamp, last: Stamp, given: Assign | None, now: Stamp, tags: str
) -> NewConversation:
    """The row of an opening: queued, or assigned at intake (`now`: when routing decided). Its
    first message `at` is when it was created and queued and since when she waits; updated_at
    is her latest message, or the assignment, as a router round's apply leaves it."""
    labels = opening.labels
    return NewConversation(
        *(opening.conversation_id, opening.contact_id, opening.identity_id),
        channel=str(opening.channel),
        status="queued" if given is None else "assigned",
        created_at=at,
        updated_at=last if given is None else max(last, now),
        queued_at=at,
        last_inbound_at=last,
        priority=labels.priority,
        skill=labels.skill,
        team=labels.team,
        tags=tags,
        awaiting_since=at,
        language=labels.language,
        assignee_id=None if given is None else given.user_id,
        offered_at=None if given is None else now,
    )


@dataclass(slots=True, kw_only=True)
class Threads:
    """Where a batch's messages go, and what routing at intake did with what it opened."""

    conversation_of: dict[int, int]  # identity id -> its open conversation
    opened: set[int]  # the identities whose conversation the batch opened
    assigned: dict[int, Assign]  # conversation id -> its assignment at intake
    unassigned: set[int]  # the batch's conversations left without an assignee
    opened_events: list[EventRow]
    assigned_events: list[EventRow]  # written after the messages' own events
    # the conversations that waited on her, unassigned, and are back in the queue with the
    # priority they had (the router reads the queue again for them: inbox.assembly.tell_router)
    requeued: set[int] = field(default_factory=set)


def opened_event(at: datetime | str, conversation_id: int) -> EventRow:
    return EventRow(at, "conversation_opened", conversation_id=conversation_id)


def assigned_event(at: datetime | str, conversation_id: int, user_id: int) -> EventRow:
    """The conversation_assigned event, the same from a router round and from intake."""
    return EventRow(
        at,
        "conversation_assigned",
        conversation_id=conversation_id,
        data=_ASSIGNED_DATA.format(user_id),
    )


_ASSIGNED_DATA = '{{"user_id":{},"by":"router"}}'


def newcomer(opening: Opening, previous: Previous, windows: Windows) -> WaitingConversation:
    """An opening as the router sees a queued conversation (a new one is due at once:
    callback_due_at is NULL)."""
    phone = opening.channel is ChannelKind.PHONE
    helper, helped_at = previous.get((opening.contact_id, phone), (None, None))
    return WaitingConversation(
        id=ConversationId(opening.conversation_id),
        channel=opening.channel,
        priority=opening.labels.priority,
        waiting_since=opening.at,
        skill=opening.labels.skill,
        team=opening.labels.team,
        language=opening.labels.language,
        previous_assignee=helper,
        previous_at=helped_at,
        call_window=windows.get(opening.contact_id) if phone else None,
    )


def phone_contacts(openings: Sequence[Opening]) -> list[int]:
    """The contacts whose call windows routing at intake needs: those of phone openings."""
    return sorted({o.contact_id for o in openings if o.channel is ChannelKind.PHONE})


def route_openings(
    router: IntakeRouter,
    *,
    agents: Sequence[AgentLoad],
    older: Sequence[WaitingConversation],
    openings: Sequence[Opening],
    previous: Previous,
    paused: Collection[str],
    now: datetime,
    windows: Windows | None = None,
) -> dict[int, Assign]:
    """conversation id -> its assignment, for the openings the router gives someone now.

    Openings on a paused channel are left out, as the router's queue leaves them out. When the
    decision gives someone a conversation that waited before (a continuity hold ran out, a shift
    began), nothing is assigned here: the batch's conversations then answer queued, and the
    router's round right after decides for all of them in queue order. So what is written here
    is always exactly what that round would write."""
    candidates = [o for o in openings if str(o.channel) not in paused]
    if not candidates:
        return {}
    windows = windows or {}
    waiting = (*older, *(newcomer(o, previous, windows) for o in candidates))
    decisions = router.decide(RoutingSnapshot(waiting=waiting, agents=tuple(agents)), now)
    new_ids = {o.conversation_id for o in candidates}
    given = [d for d in decisions if isinstance(d, Assign)]
    if any(d.conversation_id not in new_ids for d in given):
        return {}
    return {d.conversation_id: d for d in given}


def routing_failed(size: int) -> None:
    """Called in the except block of a routing at intake that failed other than by a database
    error (a bug in a rule, a stored shift that no longer parses): it costs only the shortcut,
    the batch is stored with its openings queued for the router."""
    log.error(
        "routing at intake failed; the batch's conversations wait for the router",
        exc_info=True,
        extra={"action": "intake_routing_failed", "size": size},
    )


def unassigned_after(
    openings: Sequence[Opening], assigned: Mapping[int, Assign], unassigned_before: Collection[int]
) -> set[int]:
    """The batch's conversations left without an assignee: the router's work."""
    return {o.conversation_id for o in openings if o.conversation_id not in assigned} | set(
        unassigned_before
    )
