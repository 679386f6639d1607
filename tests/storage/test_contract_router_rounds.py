"""Router rounds follow what changed: a burst of wakes is a few rounds, and a full desk's queue
is not read again for arrivals nobody can take, with the same decisions as a fresh read."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

from inbox.assembly import tell_router
from inbox.core.decisions import Decision, RoutingSnapshot
from inbox.core.model import ConversationId, IntakeLabels
from inbox.router import SWEEP_MAX_S, Router
from storage.base import KeyedInbound, Store
from tests.factories import ROUTED_AT, at, inbound, new_user, router_for
from tests.storage.test_contract_routing_phone import write

PAGE = 1000  # the stores' routing page (ROUTING_PAGE)


class Rounds:
    """What each round decided, as its on_round saw it."""

    def __init__(self) -> None:
        self.decided: list[list[tuple[int, str]]] = []

    def __call__(
        self, _s: RoutingSnapshot, decisions: Sequence[Decision], _g: Sequence[ConversationId]
    ) -> None:
        self.decided.append([(d.conversation_id, repr(d)) for d in decisions])


async def full_desk(store: Store, waiting: int) -> None:
    """One counselor with her one conversation, and `waiting` more queued behind her."""
    await store.create_user(new_user("sato", capacity=1), now=at(0))
    items = [inbound(f"s{i}@example.jp", received_at=at(i)) for i in range(waiting + 1)]
    for start in range(0, len(items), 500):
        await store.save_inbound_batch(items[start : start + 500])
    assert len(await router_for(store).route_once()) == 1


def arrival(sender: str, received_at: datetime = ROUTED_AT, priority: int = 0) -> KeyedInbound:
    item = inbound(sender, received_at=received_at)
    return dataclasses.replace(item, labels=IntakeLabels(priority=priority))


async def arrive(store: Store, router: Router, item: KeyedInbound) -> None:
    (stored,) = await store.save_inbound_batch([item])
    assert stored.queued
    router.arrived(item.labels.priority, item.message.received_at, stored.conversation_id)


async def test_a_full_desk_is_not_read_again_for_arrivals_behind_its_page(store: Store) -> None:
    await full_desk(store, PAGE + 5)
    rounds = Rounds()
    router = Router(store, clock=lambda: ROUTED_AT, on_round=rounds)
    assert await router.route_once() == []
    assert router.snapshots_read == 1
    await arrive(store, router, arrival("new@example.jp"))
    assert await router.route_once() == []
    assert router.snapshots_read == 1  # the page was decided again as read
    # ... and decided as a fresh read of the queue decides it
    fresh = Rounds()
    await Router(store, clock=lambda: ROUTED_AT, on_round=fresh).route_once()
    assert rounds.decided[-1] == fresh.decided[-1] == rounds.decided[0]


async def test_what_may_change_a_decision_reads_the_queue_again(store: Store) -> None:
    await full_desk(store, PAGE + 5)
    router = Router(store, clock=lambda: ROUTED_AT)
    await router.route_once()
    router.wake()  # a conversation closed, a counselor changed...
    await router.route_once()
    assert router.snapshots_read == 2
    await arrive(store, router, arrival("ahead@example.jp", priority=5))  # ahead of the page end
    await router.route_once()
    assert router.snapshots_read == 3
    await arrive(store, router, arrival("urgent@example.jp", priority=100))  # on-call's
    await router.route_once()
    assert router.snapshots_read == 4
    # a new message in a conversation of the page (its needs may change)
    router.arrived(0, ROUTED_AT, ConversationId(2))
    await router.route_once()
    assert router.snapshots_read == 5


async def test_a_short_queue_is_read_again_for_every_arrival(store: Store) -> None:
    """The whole queue fit in the page: any arrival enters it, and is decided from the store."""
    await full_desk(store, 3)
    router = Router(store, clock=lambda: ROUTED_AT)
    await router.route_once()
    await arrive(store, router, arrival("new@example.jp"))
    await router.route_once()
    assert router.snapshots_read == 2


async def test_a_burst_of_wakes_runs_few_rounds_and_next_round_still_answers(
    store: Store,
) -> None:
    await full_desk(store, 3)
    router = Router(store, clock=lambda: ROUTED_AT, round_min_gap_s=0.05)
    task = asyncio.create_task(router.run())
    try:
        assert await router.next_round(timeout_s=5)
        before = router.rounds_done
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(200):
            router.wake()
            await asyncio.sleep(0.001)
        assert await router.next_round(timeout_s=5)
        spent = loop.time() - start
        # one round per gap at most, and the one next_round asked for
        assert router.rounds_done - before <= spent / 0.05 + 2
        assert router.rounds_done - before < 50
    finally:
        task.cancel()


async def test_a_kept_page_is_read_again_once_a_sweep_old(store: Store) -> None:
    """Writes that woke no router (another process's on SQLite) are seen as before: a page
    kept round after round is read again once it is a sweep old, whatever arrives meanwhile."""
    await full_desk(store, PAGE + 5)
    clock = [ROUTED_AT]
    router = Router(store, clock=lambda: clock[0])
    await router.route_once()
    for step_s in (30, 29):
        clock[0] += timedelta(seconds=step_s)
        router.arrived(0, clock[0], ConversationId(10**9 + step_s))
        await router.route_once()
    assert router.snapshots_read == 1
    clock[0] += timedelta(seconds=SWEEP_MAX_S - 59)
    router.arrived(0, clock[0], ConversationId(10**9))
    await router.route_once()
    assert router.snapshots_read == 2


async def test_kept_or_read_a_full_desk_decides_as_a_fresh_read(store: Store) -> None:
    """Arrivals of every kind on a full desk whose page ends at priority 5 (new conversations
    ahead of, level with and behind its end; messages raising a conversation behind the page
    into it, or not): after each, the round decides exactly as a fresh router reading the
    queue does, and some rounds did not read it."""
    await store.create_user(new_user("sato", capacity=1), now=at(0))
    old = [arrival(f"old{i}@example.jp", at(i), 0) for i in range(5)]  # oldest, lowest
    page = [arrival(f"p{i}@example.jp", at(10 + i), 5) for i in range(PAGE + 3)]
    for start in range(0, len(old + page), 500):
        await store.save_inbound_batch((old + page)[start : start + 500])
    assert len(await router_for(store).route_once()) == 1  # sato is full
    rounds = Rounds()
    router = Router(store, clock=lambda: ROUTED_AT, on_round=rounds)
    await router.route_once()
    steps = [
        arrival("new0@example.jp", at(2000), 0),  # behind: kept
        arrival("new3@example.jp", at(5), 3),  # below the end's priority: kept
        arrival("old1@example.jp", at(2001), 3),  # raises an old one, still behind: kept
        arrival("new5@example.jp", at(2002), 5),  # level with the end: read
        arrival("old2@example.jp", at(2003), 5),  # raises an old one into the page: read
        arrival("new9@example.jp", at(2004), 9),  # ahead of the end: read
        arrival("new1@example.jp", at(2005), 0),  # behind: kept
    ]
    for step in steps:
        stored = await store.save_inbound_batch([step])
        tell_router(router, list(zip([step], stored, strict=True)))
        await router.route_once()
        fresh = Rounds()
        await Router(store, clock=lambda: ROUTED_AT, on_round=fresh).route_once()
        assert rounds.decided[-1] == fresh.decided[-1], step.message.sender
    assert router.snapshots_read == 1 + 3  # the first round, and the three that had to


async def test_a_conversation_back_from_waiting_on_her_reads_the_queue_again(
    store: Store,
) -> None:
    """Her counselor gone while the conversation waited on her (unassigned, with the priority
    an escalation gave it): her next message puts it back in the queue with that priority, not
    her message's, so the store says so and the router reads the queue again for it."""
    await full_desk(store, PAGE + 5)
    router = Router(store, clock=lambda: ROUTED_AT)
    await router.route_once()
    (left,) = await store.save_inbound_batch([arrival("left@example.jp")])
    await write(
        store,
        "UPDATE conversations SET status = 'waiting', assignee_id = NULL, priority = 50"
        " WHERE id = $1",
        left.conversation_id,
    )
    again = arrival("left@example.jp")
    (stored,) = await store.save_inbound_batch([again])
    assert (stored.conversation_id, stored.queued, stored.requeued) == (
        left.conversation_id,
        True,
        True,
    )
    (queued,) = await store.save_inbound_batch([arrival("s7@example.jp")])  # in the queue
    assert queued.queued and not queued.requeued
    reads = router.snapshots_read
    tell_router(router, [(again, stored)])
    await router.route_once()
    assert router.snapshots_read == reads + 1
    assert left.conversation_id in {w.id for w in (await store.routing_snapshot()).waiting}
