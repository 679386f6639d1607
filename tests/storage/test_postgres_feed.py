"""PostgreSQL only: the live feed's tail when writers commit out of id order (issue 11: 28 of
17,450 events never reached a screen at 700 msg/s, read by `id > last_id`)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import asyncpg
import pytest
from aiohttp import web

from inbox.feed import EventFeed
from inbox.resilience import Outages
from inbox.web.hub import STAFF, Hub
from storage.postgres.store import PostgresStore
from tests import pgutil
from tests.factories import at, inbound
from tests.staff_frames import queued_events
from tests.storage.conftest import Stores
from tests.storage.test_contract_feed import read_tail

pytestmark = pytest.mark.postgres

INSERT = "INSERT INTO events (at, kind) VALUES (now(), $1) RETURNING id"


async def test_an_event_committed_after_a_newer_id_is_not_skipped(
    stores: Stores, db_url: str
) -> None:
    store, _ = stores
    cursor = await store.feed_start()
    a, b = await asyncpg.connect(db_url), await asyncpg.connect(db_url)
    try:
        tx_a, tx_b = a.transaction(), b.transaction()
        await tx_a.start()
        await tx_b.start()
        early = [await a.fetchval(INSERT, "early_id_late_commit") for _ in range(4)]
        late = await b.fetchval(INSERT, "late_id_early_commit")
        assert max(early) < late
        await tx_b.commit()
        # What the old tail read (id > last_id) already shows `late`; it then never saw `early`.
        assert [e.id for e in await store.list_events()] == [late]
        events, cursor = await read_tail(store, cursor)
        assert [e.id for e in events] == [late]
        await tx_a.commit()
    finally:
        await a.close()
        await b.close()
    events, cursor = await read_tail(store, cursor)  # pages of 3: A's 4 events take two
    assert [e.id for e in events] == early
    assert (await read_tail(store, cursor))[0] == []


async def test_a_transaction_that_began_first_but_wrote_later_is_not_skipped(
    stores: Stores, db_url: str
) -> None:
    """Ids and transaction ids disagree here: A has the older transaction and the newer id."""
    store, _ = stores
    cursor = await store.feed_start()
    a, b = await asyncpg.connect(db_url), await asyncpg.connect(db_url)
    try:
        tx_a, tx_b = a.transaction(), b.transaction()
        await tx_a.start()
        await tx_b.start()
        await a.fetchval("SELECT pg_current_xact_id()")  # A takes its transaction id first
        older = await b.fetchval(INSERT, "b")
        newer = await a.fetchval(INSERT, "a")
        await tx_a.commit()
        events, cursor = await read_tail(store, cursor)
        assert [e.id for e in events] == [newer]
        await tx_b.commit()  # the old tail had passed `older` (id > newer) by now
    finally:
        await a.close()
        await b.close()
    events, cursor = await read_tail(store, cursor)
    assert [e.id for e in events] == [older]


async def test_the_feed_sees_every_event_of_concurrent_writers(stores: Stores) -> None:
    """Two instances, several writers each, through the real store operations, while the feed
    runs: every event reaches the staff socket exactly once."""
    a, b = stores
    hub = Hub(client_queue=100_000)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(a, hub)
    await feed.round()  # where the log ends; nothing to publish yet
    assert socket.queue.empty()

    async def writer(store: PostgresStore, n: int) -> None:
        for k in range(12):
            batch = [
                inbound(f"+8190{n:02d}{k % 4:06d}", external_id=f"w{n}-{k}-{i}")
                for i in range(1 + k % 3)
            ]
            await store.save_inbound_batch(batch)
            await store.record_event("signed_in", now=at(k))
            feed.poke()

    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(feed.run(), name="event-feed")
        writers = [tg.create_task(writer(store, n)) for n, store in enumerate([a, b] * 4)]
        await asyncio.gather(*writers)
        expected = [e.id for e in await a.list_events(limit=100_000)]
        seen: list[int] = []
        async with asyncio.timeout(20):
            while len(seen) < len(expected):
                seen += [event["id"] for event in await queued_events(socket)]
        running.cancel()
    await feed.round()
    assert socket.queue.empty()  # nothing comes twice
    assert Counter(seen) == Counter(expected)
    assert len(expected) == len(set(expected)) > 8 * 12 * 2


async def test_paging_finishes_a_step_before_the_news_that_came_meanwhile(
    stores: Stores, db_url: str
) -> None:
    store, _ = stores
    cursor = await store.feed_start()
    writer = await asyncpg.connect(db_url)
    try:
        first = [await writer.fetchval(INSERT, f"e{i}") for i in range(5)]
        page = await store.feed_events(cursor, limit=2)
        meanwhile = await writer.fetchval(INSERT, "meanwhile")
        pages = [page.events]
        while page.events:
            page = await store.feed_events(page.cursor, limit=2)
            pages.append(page.events)
    finally:
        await writer.close()
    assert [[e.id for e in p] for p in pages] == [
        first[:2],
        first[2:4],
        [first[4]],
        [meanwhile],
        [],
    ]


class ActionSeen(logging.Handler):
    """Sets `seen` once a record with this action is logged."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "action", None) == self.action:
            self.seen.set()


async def test_the_feed_survives_its_database_going_away(
    stores: Stores, other: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    """A real outage for the feed's instance: the server ends its connections and refuses new
    ones for a while; events written meanwhile (by the other instance) come out afterwards."""
    caplog.set_level(logging.INFO, logger="inbox.resilience")
    a, b = stores
    hub = Hub(client_queue=100)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(a, hub, outages=Outages(first_delay_s=0.01, max_delay_s=0.05))
    await feed.round()
    database = await other.fetchval("SELECT current_database()")

    def logged(action: str) -> int:
        return [getattr(r, "action", None) for r in caplog.records].count(action)

    async def next_kind() -> str:
        async with asyncio.timeout(10):
            [event] = await queued_events(socket)  # one event written, one event in the frame
            return str(event["kind"])

    failing = ActionSeen("worker_db_unavailable")
    logging.getLogger("inbox.resilience").addHandler(failing)
    admin = await asyncpg.connect(pgutil.pg_admin_url())  # not the database it closes
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(feed.run(), name="event-feed")
        await b.record_event("before", now=at(1))
        feed.poke()
        assert await next_kind() == "before"
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            await other.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                a.instance,
            )
            await b.record_event("during", now=at(2))  # b's open connection is spared
            feed.poke()
            async with asyncio.timeout(10):
                await failing.seen.wait()
        finally:
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            await admin.close()
            logging.getLogger("inbox.resilience").removeHandler(failing)
        assert await next_kind() == "during"  # no poke needed: the backoff retries
        running.cancel()
    await feed.round()
    assert socket.queue.empty()
    assert (logged("worker_db_unavailable"), logged("worker_db_recovered")) == (1, 1)
