"""PostgreSQL only: one router at a time among instances, and another takes over when it stops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from inbox.router import Router
from tests.factories import ROUTED_AT, at, inbound, new_user
from tests.storage.conftest import Stores

pytestmark = pytest.mark.postgres


async def until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Poll `condition` until it holds, within a deadline (the lease is retried every 2 s)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.05)


async def test_one_instance_routes_and_another_takes_over_when_it_stops(stores: Stores) -> None:
    a, b = stores
    routers = [Router(store, clock=lambda: ROUTED_AT) for store in (a, b)]
    for router in routers:
        router.leading.clear()
    leases = [
        asyncio.create_task(store.lead_router(router.leading))
        for store, router in zip((a, b), routers, strict=True)
    ]
    runs = [asyncio.create_task(router.run()) for router in routers]
    try:
        await until(lambda: any(r.leading.is_set() for r in routers))
        await asyncio.sleep(2.5)  # a standby's retry: it still does not lead
        leader = 0 if routers[0].leading.is_set() else 1
        standby = 1 - leader
        assert not routers[standby].leading.is_set()
        assert not await routers[standby].next_round(timeout_s=5)  # no waiting for nothing
        assert routers[standby].rounds_done == 0  # it ran none while standing by
        assert routers[leader].rounds_done >= 1
        # the leader stops (its lease connection ends): the standby leads within seconds
        leases[leader].cancel()
        await asyncio.gather(leases[leader], return_exceptions=True)
        assert not routers[leader].leading.is_set()
        await until(lambda: routers[standby].leading.is_set())
        rounds = routers[standby].rounds_done
        # ... and routes what any instance took in
        sato = await a.create_user(new_user("sato"), now=at(0))
        (stored,) = await (a, b)[leader].save_inbound_batch([inbound("x@example.jp")])
        routers[standby].wake()
        await until(lambda: routers[standby].rounds_done > rounds)
        assert await routers[standby].next_round(timeout_s=5)
        conv = await a.get_conversation(stored.conversation_id)
        assert conv.assignee_id == sato.id
    finally:
        for task in (*leases, *runs):
            task.cancel()
        await asyncio.gather(*leases, *runs, return_exceptions=True)
