"""EventFeed on the real SQLite store, behind a tail that fails on cue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from inbox.core.errors import DatabaseUnavailable
from inbox.feed import MIN_GAP_S, EventFeed
from inbox.resilience import Outages
from inbox.web.hub import STAFF, Hub, Subscriber
from storage.base import EventTail, FeedCursor, FeedPage
from storage.sqlite.store import SqliteStore
from tests.factories import at
from tests.staff_frames import queued_events


class ScriptedTail:
    """The store's tail, down (raising DatabaseUnavailable) while told to; each call it refuses
    sets `refused`, so a test can wait for the feed's retries."""

    def __init__(self, store: EventTail) -> None:
        self.store = store
        self.down = False
        self.refusals = 0
        self.refused = asyncio.Event()
        self.started = asyncio.Event()

    async def feed_start(self) -> FeedCursor:
        self._check_up()
        cursor = await self.store.feed_start()
        self.started.set()
        return cursor

    async def feed_events(self, after: FeedCursor, *, limit: int = 500) -> FeedPage:
        self._check_up()
        return await self.store.feed_events(after, limit=limit)

    def _check_up(self) -> None:
        if self.down:
            self._refuse()
            raise DatabaseUnavailable("PostgreSQL connection lost: ConnectionResetError()")

    def _refuse(self) -> None:
        self.refusals += 1
        self.refused.set()

    async def refusing(self, times: int) -> None:
        """Until `times` more calls have been refused."""
        target = self.refusals + times
        while self.refusals < target:
            self.refused.clear()
            await self.refused.wait()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "inbox.db") as s:
        await s.migrate()
        yield s


async def _next_kinds(socket: Subscriber, n: int) -> list[str]:
    kinds: list[str] = []
    async with asyncio.timeout(5):
        while len(kinds) < n:
            kinds += [event["kind"] for event in await queued_events(socket)]
    return kinds


async def test_the_feed_survives_an_outage_and_resumes_from_its_cursor(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="inbox.resilience")
    tail = ScriptedTail(store)
    hub = Hub(client_queue=100)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(tail, hub, outages=Outages(first_delay_s=0.001, max_delay_s=0.002))
    await store.record_event("history", now=at(0))
    await feed.round()  # the feed's start: what is written next is news
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(feed.run(), name="event-feed")
        await store.record_event("before", now=at(1))
        feed.poke()
        assert await _next_kinds(socket, 1) == ["before"]

        tail.down = True
        await store.record_event("during-1", now=at(2))
        await store.record_event("during-2", now=at(3))
        feed.poke()
        await tail.refusing(5)  # five retries, without a poke: the backoff runs on its own
        assert socket.queue.empty()
        tail.down = False
        assert await _next_kinds(socket, 2) == ["during-1", "during-2"]
        running.cancel()
    await feed.round()
    assert socket.queue.empty()  # nothing twice
    actions = [getattr(r, "action", None) for r in caplog.records]
    assert actions.count("worker_db_unavailable") == 1  # logged once, not per retry
    assert actions.count("worker_db_recovered") == 1


async def test_the_feed_retries_its_start_when_the_database_is_down(store: SqliteStore) -> None:
    tail = ScriptedTail(store)
    hub = Hub(client_queue=100)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(tail, hub, outages=Outages(first_delay_s=0.001, max_delay_s=0.002))
    tail.down = True
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(feed.run(), name="event-feed")
        await tail.refusing(2)
        tail.down = False
        await tail.started.wait()  # what was written before the feed started is history
        await store.record_event("news", now=at(1))
        feed.poke()
        assert await _next_kinds(socket, 1) == ["news"]
        running.cancel()


async def test_what_is_committed_after_the_start_is_news_before_the_first_round(
    store: SqliteStore,
) -> None:
    """The server starts the feed before it listens: a request that ends a session before the
    feed's first round (CI's flaky password-change test on PostgreSQL) is still news to the
    sockets; what came before the start is history."""
    hub = Hub(client_queue=100)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(store, hub)
    await store.record_event("history", now=at(1))
    await feed.start()
    await store.record_event("password_changed", now=at(2))
    await feed.round()
    assert await _next_kinds(socket, 1) == ["password_changed"]
    assert socket.queue.empty()


async def test_the_feed_finds_what_another_process_wrote_without_a_poke(
    store: SqliteStore,
) -> None:
    """The CLI disabling a user on SQLite tells this process nothing: the feed's idle look
    finds the event all the same."""
    hub = Hub(client_queue=100)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(store, hub, idle_poll_s=0.01)
    await feed.round()
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(feed.run(), name="event-feed")
        await store.record_event("written_elsewhere", now=at(1))  # no poke
        assert await _next_kinds(socket, 1) == ["written_elsewhere"]
        running.cancel()


async def test_a_round_is_one_frame_per_page_for_every_staff_socket(store: SqliteStore) -> None:
    """600 events fit two frames (a page is 500), so sockets with room for two frames keep up;
    one frame per event overflowed every staff socket's queue at once."""
    hub = Hub(client_queue=2)
    sockets = [hub.add(STAFF, web.WebSocketResponse()) for _ in range(3)]
    feed = EventFeed(store, hub)
    await feed.round()
    for i in range(600):
        await store.record_event(f"news-{i}", now=at(i))
    await feed.round()
    assert hub.count(STAFF) == 3  # none dropped
    for socket in sockets:
        pages = [await queued_events(socket), await queued_events(socket)]
        assert [len(page) for page in pages] == [500, 100]
        assert [e["kind"] for page in pages for e in page] == [f"news-{i}" for i in range(600)]
        assert socket.queue.empty()


async def test_a_staff_members_read_is_no_news_for_the_screens(store: SqliteStore) -> None:
    """Every open of a conversation writes conversation_read for the audit log; sent to every
    staff socket, it would make every console refetch its queue. A round of only reads sends
    nothing; reads among news are left out of the frame."""
    hub = Hub(client_queue=10)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(store, hub)
    await feed.round()
    await store.record_event("conversation_read", now=at(1))
    await feed.round()
    assert socket.queue.empty()
    await store.record_event("conversation_read", now=at(2))
    await store.record_event("news", now=at(3))
    await feed.round()
    assert [e["kind"] for e in await queued_events(socket)] == ["news"]
    assert socket.queue.empty()


async def test_news_moves_at_a_poke_and_before_the_sockets_hear(store: SqliteStore) -> None:
    """The queue page is keyed by `news` (inbox.web.queue_page): a console that refetches on
    a frame must find it moved already, and a write committed here moves it at its poke."""
    hub = Hub(client_queue=100)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(store, hub)
    await feed.round()
    at_push: list[int] = []
    push = hub.push

    def recording(key: object, payload: dict[str, object]) -> int:
        at_push.append(feed.news)
        return push(key, payload)

    hub.push = recording  # type: ignore[method-assign]
    before = feed.news
    feed.poke()  # a write committed here
    assert feed.news > before
    poked = feed.news
    await store.record_event("conversation_read", now=at(1))  # audit only: no news
    await feed.round()
    assert feed.news == poked and at_push == [] and socket.queue.empty()
    await store.record_event("conversation_assigned", now=at(2))
    await feed.round()
    assert at_push == [poked + 1] and feed.news == poked + 1
    assert await _next_kinds(socket, 1) == ["conversation_assigned"]


async def test_a_flood_of_pokes_is_a_few_frames_each_with_all_that_came(
    store: SqliteStore,
) -> None:
    """An event and a poke every 2 ms for some 0.2 s (an intake batch's at 1,000 msg/s):
    rounds begin MIN_GAP_S apart, so each socket gets about one frame per gap, carrying every
    event that came meanwhile, each once and in order."""
    hub = Hub(client_queue=1000)
    socket = hub.add(STAFF, web.WebSocketResponse())
    feed = EventFeed(store, hub)
    loop = asyncio.get_running_loop()
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(feed.run(), name="event-feed")
        await asyncio.sleep(0.05)  # its first round finds where the log ends
        start = loop.time()
        for i in range(100):
            await store.record_event(f"news-{i}", now=at(i))
            feed.poke()
            await asyncio.sleep(0.002)
        kinds: list[str] = []
        frames = 0
        async with asyncio.timeout(5):
            while len(kinds) < 100:
                kinds += [event["kind"] for event in await queued_events(socket)]
                frames += 1
        took = loop.time() - start
        running.cancel()
    assert kinds == [f"news-{i}" for i in range(100)]
    assert frames <= took / MIN_GAP_S + 2 < 100
