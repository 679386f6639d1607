"""The placeholder router as a pure function: tables and invariants."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from inbox.model import (
    AgentLoad,
    Assign,
    ChannelKind,
    ConversationId,
    RoutingSnapshot,
    UserId,
    Wait,
    WaitingConversation,
)
from routing.assign import NO_COUNSELOR, decide
from tests.factories import at


def _waiting(n: int) -> tuple[WaitingConversation, ...]:
    return tuple(
        WaitingConversation(
            id=ConversationId(i), channel=ChannelKind.WEBCHAT, priority=0, waiting_since=at(i)
        )
        for i in range(1, n + 1)
    )


def _agent(uid: int, capacity: int, load: int = 0) -> AgentLoad:
    return AgentLoad(user_id=UserId(uid), capacity=capacity, load=load)


def test_least_loaded_first_and_ties_to_lowest_id() -> None:
    snap = RoutingSnapshot(
        waiting=_waiting(3), agents=(_agent(2, 3, load=1), _agent(1, 3, 1), _agent(3, 3, 0))
    )
    got = decide(snap, now=at(0))
    assert [(d.conversation_id, d.user_id) for d in got if isinstance(d, Assign)] == [
        (1, 3),
        (2, 1),
        (3, 2),
    ]


def test_waits_when_everyone_is_full() -> None:
    snap = RoutingSnapshot(waiting=_waiting(2), agents=(_agent(1, 1, 0),))
    got = decide(snap, now=at(0))
    assert got[0] == Assign(conversation_id=ConversationId(1), user_id=UserId(1), capacity=1)
    assert got[1] == Wait(conversation_id=ConversationId(2), reason=NO_COUNSELOR)


def test_no_counselors_at_all() -> None:
    assert decide(RoutingSnapshot(waiting=_waiting(1), agents=()), now=at(0)) == [
        Wait(conversation_id=ConversationId(1), reason=NO_COUNSELOR)
    ]


agents = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=6).map(
    lambda pairs: tuple(_agent(i + 1, cap, min(load, cap)) for i, (cap, load) in enumerate(pairs))
)


@given(n=st.integers(0, 40), team=agents)
def test_never_over_capacity_and_every_conversation_decided(
    n: int, team: tuple[AgentLoad, ...]
) -> None:
    snap = RoutingSnapshot(waiting=_waiting(n), agents=team)
    got = decide(snap, now=at(0))
    assert [d.conversation_id for d in got] == [w.id for w in snap.waiting]
    taken = Counter(d.user_id for d in got if isinstance(d, Assign))
    room = sum(a.capacity - a.load for a in team)
    for a in team:
        assert a.load + taken[a.user_id] <= a.capacity
    # nobody waits while someone has room
    assert sum(taken.values()) == min(n, room)
    assert decide(snap, now=at(0)) == got
