"""PostgreSQL only: routing at intake among several instances and a router holding locks."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import pytest

from storage.postgres.routing import LOCK_COUNSELORS
from tests.factories import ROUTED_AT, at, inbound, new_user, router_for
from tests.storage.conftest import Stores

pytestmark = pytest.mark.postgres
NOW = ROUTED_AT


async def test_a_counselor_whose_row_is_held_is_passed_over_without_waiting(
    stores: Stores, other: asyncpg.Connection
) -> None:
    """Another transaction (a router, a supervisor) holds sato's row: the intake neither waits
    for it nor gives her anything; the conversation is left to the router, which assigns it
    once the row is free."""
    store, _ = stores
    sato = (await store.create_user(new_user("sato"), now=at(0))).id
    async with other.transaction():
        assert await other.fetchval(LOCK_COUNSELORS, [sato]) == sato
        (held,) = await asyncio.wait_for(
            store.save_inbound_batch([inbound("a")], router=router_for(store)), timeout=10
        )
        assert (held.assigned_to, held.queued) == (None, True)
    assert (await store.get_conversation(held.conversation_id)).assignee_id is None
    done = await router_for(store).route_once()
    assert [(a.conversation_id, a.user_id) for a in done] == [(held.conversation_id, sato)]


async def test_two_instances_routing_at_intake_never_exceed_capacity(stores: Stores) -> None:
    a, b = stores
    users = [(await a.create_user(new_user(f"c{i}", capacity=2), now=at(0))).id for i in range(2)]
    given = []
    for round_ in range(3):  # the first round fills both; later ones find them full
        answers = await asyncio.gather(
            a.save_inbound_batch(
                [inbound(f"a{round_}-{i}") for i in range(3)], router=router_for(a)
            ),
            b.save_inbound_batch(
                [inbound(f"b{round_}-{i}") for i in range(3)], router=router_for(b)
            ),
        )
        given += [x for batch in answers for x in batch if x.assigned_to is not None]
        loads = {g.user_id: g.load for g in (await a.routing_snapshot()).agents}
        assert all(loads[u] <= 2 for u in users), loads
    for x in given:
        assert (await a.get_conversation(x.conversation_id)).assignee_id == x.assigned_to
    assert len({x.conversation_id for x in given}) == len(given) == sum(loads.values())
    kinds = Counter(e.kind for e in await a.list_events(limit=10_000))
    assert kinds["conversation_assigned"] == len(given)
    assert len(given) >= 2  # at least one instance routed; the other may have been passed over
