"""PostgreSQL only: a conversation another writer opened for the same sender, raced by
INSERT_CONVERSATIONS' ON CONFLICT (its assignment at intake dropped; closed before the look-up
that follows the race: the batch is retried)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from inbox.core.model import ConversationStatus
from storage.postgres import routing as postgres_routing
from tests.factories import ROUTED_AT, at, inbound, new_user, router_for
from tests.storage.conftest import Stores

pytestmark = pytest.mark.postgres
NOW = ROUTED_AT

OPEN_ONE = """
INSERT INTO conversations (contact_id, identity_id, channel, status, created_at, updated_at,
                           queued_at)
SELECT contact_id, identity_id, channel, 'queued', $1, $1, $1 FROM conversations WHERE id = $2
RETURNING id
"""
WAITING_ON_INSERT = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
  AND query LIKE '%INSERT INTO conversations%'
"""
BLOCKED = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'
"""


async def test_a_raced_conversation_closed_before_the_look_up_does_not_break_the_batch(
    stores: Stores, other: asyncpg.Connection, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the ON CONFLICT race is lost and the winner's conversation is closed before the
    second JOIN_OPEN_CONVERSATIONS (FOR UPDATE waits, then re-checks status <> 'closed'), the
    sender has no open conversation: the batch is rolled back and retried (it used to die with
    a KeyError, and the intake writer with it; seen once in a 20 s stress run of two instances'
    intakes, two routers and a closer, made deterministic here)."""
    store, _ = stores
    sato = (await store.create_user(new_user("sato"), now=at(0))).id
    (first,) = await store.save_inbound_batch([inbound("a")])
    await store.close(first.conversation_id, actor_id=sato, now=at(50))
    closer = await asyncpg.connect(db_url)
    original = postgres_routing.route_at_intake
    closing: list[asyncio.Future[None]] = []

    async def racing(conn: Any, *args: Any) -> Any:
        # Another writer opens her conversation and commits; a third transaction (a supervisor
        # closing it) holds its row; it closes once the intake waits for that row. Only once:
        # a fix that retries the batch must then succeed.
        if closing:
            return await original(conn, *args)
        raced = await other.fetchval(OPEN_ONE, at(60), first.conversation_id)
        tx = closer.transaction()
        await tx.start()
        await closer.execute("SELECT id FROM conversations WHERE id = $1 FOR UPDATE", raced)

        async def close_when_waited_for() -> None:
            # Another server process's state: there is no event to wait on, only the view.
            while not await other.fetchval(BLOCKED):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await closer.execute("UPDATE conversations SET status = 'closed' WHERE id = $1", raced)
            await tx.commit()

        closing.append(asyncio.ensure_future(close_when_waited_for()))
        return await original(conn, *args)

    monkeypatch.setattr("storage.postgres.threads.route_at_intake", racing)
    try:
        (again,) = await asyncio.wait_for(
            store.save_inbound_batch([inbound("a")], router=router_for(store)),
            timeout=10,
        )
    finally:
        await asyncio.gather(*closing, return_exceptions=True)
        await closer.close()
    conv = await store.get_conversation(again.conversation_id)
    assert conv.status is not ConversationStatus.CLOSED


async def waiting_on_insert(conn: asyncpg.Connection) -> bool:
    await conn.execute("SELECT pg_stat_clear_snapshot()")  # the view is frozen in a transaction
    return bool(await conn.fetchval(WAITING_ON_INSERT))


async def test_an_assignment_made_for_a_conversation_that_lost_the_race_is_dropped(
    stores: Stores, other: asyncpg.Connection
) -> None:
    """The intake routed the conversation it drew an id for, but another writer's
    conversation for the same sender won the ON CONFLICT race. Its
    assignment must leave no trace (no conversation_assigned event, no last_assigned_at, no
    load), and the answer must say queued since the winner's conversation waits unassigned."""
    store, _ = stores
    sato = (await store.create_user(new_user("sato"), now=at(0))).id
    (first,) = await store.save_inbound_batch([inbound("a")])
    await store.close(first.conversation_id, actor_id=sato, now=at(50))
    async with other.transaction():
        winner = await other.fetchval(OPEN_ONE, at(60), first.conversation_id)
        saving = asyncio.ensure_future(
            store.save_inbound_batch([inbound("a")], router=router_for(store))
        )
        while not await waiting_on_insert(other):
            assert not saving.done(), saving
            await asyncio.sleep(0.01)
    (answer,) = await asyncio.wait_for(saving, timeout=10)
    assert answer.conversation_id == winner
    assert (answer.assigned_to, answer.queued) == (None, True)
    kinds = [e.kind for e in await store.list_events()]
    assert "conversation_assigned" not in kinds
    assert kinds.count("conversation_opened") == 1  # the first one only: the winner wrote none
    (agent,) = (await store.routing_snapshot()).agents
    assert (agent.load, agent.idle_since) == (0, None)
