"""PostgreSQL only: what another instance's intake batch tells the routing instance."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

import pytest

from inbox.core.model import IntakeLabels
from storage.postgres.listen import ARRIVED, Arrival, news_from
from tests.factories import at, inbound, new_user, router_for
from tests.storage.conftest import Stores

pytestmark = pytest.mark.postgres
News = bool | tuple[int, datetime]


async def heard_within(heard: asyncio.Queue[News], settle_s: float = 0.5) -> list[News]:
    await asyncio.sleep(settle_s)  # notices arrive after the commit
    found = []
    while not heard.empty():
        found.append(heard.get_nowait())
    return found


async def test_an_intake_batch_says_whether_it_only_left_new_conversations_waiting(
    stores: Stores,
) -> None:
    a, b = stores
    heard: asyncio.Queue[News] = asyncio.Queue()
    listening = asyncio.create_task(
        a.listen(heard.put_nowait, lambda p, t: heard.put_nowait((p, t)))
    )
    try:
        assert await asyncio.wait_for(heard.get(), 5) is True  # once at (re)connection
        urgent = dataclasses.replace(
            inbound("x@example.jp", received_at=at(3)), labels=IntakeLabels(priority=100)
        )
        later = inbound("y@example.jp", received_at=at(5))
        (x, _) = await b.save_inbound_batch([urgent, later])
        # new conversations left waiting, and nothing else: the highest priority, the earliest
        assert await heard_within(heard) == [(100, at(3))]
        # a message in a conversation already waiting may change its needs: route
        await b.save_inbound_batch([inbound("x@example.jp", received_at=at(6))])
        assert await heard_within(heard) == [True]
        sato = await b.create_user(new_user("sato", capacity=1), now=at(0))
        await router_for(b).route_once()  # sato takes x (urgent first)
        # she was created; the assignment (any assignment is news for the router: a
        # supervisor's may free the counselor who had it)
        assert await heard_within(heard) == [True, True]
        # her next message, in a conversation someone has: nothing for the router
        await b.save_inbound_batch([inbound("x@example.jp", received_at=at(7))])
        assert await heard_within(heard) == [False]
        assert (await b.get_conversation(x.conversation_id)).assignee_id == sato.id
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


async def test_routing_at_intake_is_a_change_of_load_for_the_router(stores: Stores) -> None:
    a, b = stores
    await b.create_user(new_user("sato", capacity=5), now=at(0))
    heard: asyncio.Queue[News] = asyncio.Queue()
    listening = asyncio.create_task(
        a.listen(heard.put_nowait, lambda p, t: heard.put_nowait((p, t)))
    )
    try:
        assert await asyncio.wait_for(heard.get(), 5) is True
        (given,) = await b.save_inbound_batch([inbound("z@example.jp")], router=router_for(b))
        assert given.assigned_to is not None
        assert await heard_within(heard) == [True]
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


def test_a_notice_cut_short_or_from_elsewhere_reads_as_route() -> None:
    own = "tsunagu-000000000000"
    assert news_from(f"{own}{ARRIVED}0:5 route", own) is None
    assert news_from(f"tsunagu-1{ARRIVED}0:5 route", own) == Arrival(
        0, at(0).replace(year=1970, month=1, day=1, hour=0, minute=0, second=0, microsecond=5)
    )
    assert news_from(f"tsunagu-1{ARRIVED}0 route", own) is True  # cut at 63 bytes
    assert news_from("tsunagu-1 route", own) is True
    assert news_from("tsunagu-1+quiet route", own) is False
    assert news_from("tsunagu-1 feed", own) is False


async def test_a_released_connection_keeps_no_tag_of_the_batch_it_wrote(
    stores: Stores,
) -> None:
    """Pooled connections are released without asyncpg's session reset (a round trip each,
    storage.postgres.pool): the intake's tag is the transaction's only, so whatever uses the
    connection next writes under the instance's own name."""
    _, b = stores
    own = await b._db.read(lambda tx: tx.fetchval("SELECT current_setting('application_name')"))
    for i in range(12):  # more than the pool's connections: each one wrote a tagged batch
        await b.save_inbound_batch([inbound(f"t{i}@example.jp", received_at=at(i))])
    names = {
        await b._db.read(lambda tx: tx.fetchval("SELECT current_setting('application_name')"))
        for _ in range(12)
    }
    assert names == {own} and "+" not in own
