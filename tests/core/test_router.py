"""The router service over a real store: the pure decisions applied end to end, with offers
that lapse to the next counselor. On SQLite: the contract suite holds the store's part on both."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, time, timedelta
from typing import cast

from inbox.assembly import tell_router
from inbox.core.model import (
    ChannelKind,
    ConversationId,
    ConversationStatus,
    CounselorUpdate,
    IntakeLabels,
    MessageId,
    Role,
    Shift,
    StoredInbound,
    User,
    UserId,
)
from inbox.router import Router
from routing.assign import RoutingPolicy
from storage.base import KeyedInbound, Store
from tests.factories import T0, at, inbound, new_user


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def counselor(
    store: Store, name: str, roles: frozenset[Role] = frozenset({Role.COUNSELOR}), **change: object
) -> User:
    user = await store.create_user(new_user(name, roles=roles), now=at(0))
    if change:
        update = CounselorUpdate(**change)  # type: ignore[arg-type]
        user = await store.update_counselor(user.id, update, actor_id=user.id, now=at(0))
    return user


def labelled(item: KeyedInbound, **labels: object) -> KeyedInbound:
    return dataclasses.replace(item, labels=IntakeLabels(**labels))  # type: ignore[arg-type]


async def test_unopened_offer_lapses_to_the_next_counselor(store: Store) -> None:
    clock = Clock(at(100))
    lapsed_seen: list[object] = []
    router = Router(store, clock=clock, offer_timeout_s=60, on_lapsed=lapsed_seen.extend)
    sato = await counselor(store, "sato")
    suzuki = await counselor(store, "suzuki")
    (s,) = await store.save_inbound_batch([inbound("a")])
    (first,) = await router.route_once()
    assert first.user_id == sato.id  # equal load, never assigned: lowest id
    clock.now += timedelta(seconds=59)
    assert await router.requeue_lapsed() == []
    clock.now += timedelta(seconds=2)
    assert await router.requeue_lapsed() == [(s.conversation_id, sato.id)]
    assert lapsed_seen == [(s.conversation_id, sato.id)]
    (second,) = await router.route_once()
    assert second.user_id == suzuki.id  # not back to the one who let it lapse
    # Opened in time: it stays.
    assert await store.mark_opened(s.conversation_id, suzuki.id, now=clock.now)
    clock.now += timedelta(hours=1)
    assert await router.requeue_lapsed() == []
    conv = await store.get_conversation(s.conversation_id)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.ASSIGNED, suzuki.id)


async def test_no_offer_timeout_when_set_to_zero(store: Store) -> None:
    clock = Clock(at(100))
    router = Router(store, clock=clock, offer_timeout_s=0)
    await counselor(store, "sato")
    await store.save_inbound_batch([inbound("a")])
    await router.route_once()
    clock.now += timedelta(days=1)
    assert await router.requeue_lapsed() == []


async def test_skill_channel_capacity_and_shift_decide_who_answers(store: Store) -> None:
    clock = Clock(T0)  # 2026-11-22 10:00 in Tokyo, a Sunday
    router = Router(store, clock=clock)
    sunday_off = Shift(weekly=(((time(9), time(17)),),) * 6 + ((),))
    await counselor(store, "off", skills=frozenset({"dv"}), shift=sunday_off)
    both = frozenset({Role.COUNSELOR, Role.PHONE_STAFF})  # calls go to phone staff only
    dv = await counselor(store, "dv", both, skills=frozenset({"dv"}))
    phone = await counselor(store, "phone", both, channel_capacity=((ChannelKind.PHONE, 1),))
    stored = await store.save_inbound_batch(
        [
            labelled(inbound("v"), skill="dv", priority=100),
            inbound("p1", channel=ChannelKind.PHONE),
            inbound("p2", channel=ChannelKind.PHONE),
        ]
    )
    applied = await router.route_once()
    owner = {a.conversation_id: a.user_id for a in applied}
    assert owner[stored[0].conversation_id] == dv.id
    # dv has room for a call too, so the two calls split; phone takes at most one.
    assert sorted(owner[s.conversation_id] for s in stored[1:]) == sorted([dv.id, phone.id])
    (agent,) = [a for a in (await store.routing_snapshot()).agents if a.user_id == phone.id]
    assert dict(agent.channel_load) == {ChannelKind.PHONE: 1}


async def test_returning_consulter_goes_back_to_her_counselor(store: Store) -> None:
    clock = Clock(at(1000))
    router = Router(store, clock=clock, policy=RoutingPolicy(continuity_days=30))
    sato = await counselor(store, "sato")
    await counselor(store, "suzuki")
    (s,) = await store.save_inbound_batch([inbound("a@x.jp")])
    await store.assign(s.conversation_id, sato.id, actor_id=sato.id, now=at(10), capacity=3)
    await store.close(s.conversation_id, actor_id=sato.id, now=at(20))
    # sato is the busier one now, yet the returning consulter goes back to her.
    await store.save_inbound_batch([inbound("other")])
    await router.route_once()
    (again,) = await store.save_inbound_batch([inbound("a@x.jp")])
    (assigned,) = await router.route_once()
    assert (assigned.conversation_id, assigned.user_id) == (again.conversation_id, sato.id)


async def test_urgent_conversation_nobody_can_take_goes_to_the_on_call_supervisor(
    store: Store,
) -> None:
    from inbox.core.model import Presence, Role

    night = await counselor(store, "night-duty", presence=Presence.OFFLINE)
    boss = await store.create_user(
        new_user("boss", roles=frozenset({Role.SUPERVISOR, Role.COUNSELOR}), capacity=0),
        now=at(0),
    )
    given: list[object] = []
    router = Router(
        store, clock=lambda: at(100), on_call=lambda _: boss.id, on_call_given=given.extend
    )
    urgent, normal = await store.save_inbound_batch(
        [labelled(inbound("a"), priority=100), inbound("b")]
    )
    assert await router.route_once() == []  # nobody on duty
    assert given == [urgent.conversation_id]
    conv = await store.get_conversation(urgent.conversation_id)
    assert conv.assignee_id == boss.id  # whatever her capacity (0) and shift
    assert (await store.get_conversation(normal.conversation_id)).assignee_id is None
    await router.route_once()
    assert given == [urgent.conversation_id]  # given once
    assert night.id != boss.id


async def test_next_round_waits_for_a_round_that_began_after_the_call(store: Store) -> None:
    router = Router(store, clock=lambda: at(100))
    assert await router.next_round(timeout_s=0.05) is False  # not running: no round comes
    sato = await store.create_user(new_user("sato"), now=at(0))
    (stored,) = await store.save_inbound_batch([inbound("a")])
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(router.run())
        assert await router.next_round(timeout_s=5) is True
        # The round it waited for saw the message: she is assigned by now.
        assert (await store.get_conversation(stored.conversation_id)).assignee_id == sato.id
        running.cancel()


def test_the_intake_tells_the_router_what_it_left_waiting() -> None:
    """An answer left waiting is an arrival (its priority and time: a full desk's queue is not
    read again for it); one routed at intake changed a load (the next round reads again); one
    back in the queue from waiting on her is a change (its own priority may be higher)."""
    told: list[tuple[object, ...]] = []

    class Told(Router):
        def arrived(
            self, priority: int, queued_at: datetime, conversation: ConversationId | None = None
        ) -> None:
            told.append(("arrived", conversation, priority, queued_at))

        def changed(self) -> None:
            told.append(("changed",))

        def wake(self) -> None:
            told.append(("wake",))

    router = Told(cast(Store, None), clock=lambda: at(0))
    waiting = labelled(inbound("a", received_at=at(5)), priority=7)
    given = inbound("b")
    tell_router(
        router,
        [
            (
                waiting,
                StoredInbound(
                    message_id=MessageId(1),
                    conversation_id=ConversationId(3),
                    duplicate=False,
                    queued=True,
                ),
            ),
            (
                given,
                StoredInbound(
                    message_id=MessageId(2),
                    conversation_id=ConversationId(4),
                    duplicate=False,
                    assigned_to=UserId(9),
                ),
            ),
            (
                inbound("c"),
                StoredInbound(
                    message_id=MessageId(3),
                    conversation_id=ConversationId(5),
                    duplicate=False,
                    queued=True,
                    requeued=True,
                ),
            ),
        ],
    )
    assert told == [("arrived", 3, 7, at(5)), ("changed",), ("wake",)]
