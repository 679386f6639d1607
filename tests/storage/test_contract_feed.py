"""Contract: the event log read as a tail (feed_start, feed_events), on both stores."""

from __future__ import annotations

from inbox.core.model import Event
from storage.base import EventTail, FeedCursor, Store
from tests.factories import at, inbound


async def read_tail(tail: EventTail, cursor: FeedCursor) -> tuple[list[Event], FeedCursor]:
    """Every event the tail gives from `cursor` until it has nothing more."""
    events: list[Event] = []
    while True:
        page = await tail.feed_events(cursor, limit=3)  # small pages: paging is tested too
        events += page.events
        cursor = page.cursor
        if not page.events:
            return events, cursor


async def test_a_tail_starts_after_the_history_and_gives_each_event_once(store: Store) -> None:
    await store.save_inbound_batch([inbound("history")])
    history = await store.list_events()
    cursor = await store.feed_start()
    assert (await read_tail(store, cursor))[0] == []

    await store.save_inbound_batch([inbound(s) for s in "abc"])
    await store.record_event("signed_in", now=at(1))
    events, cursor = await read_tail(store, cursor)
    news = await store.list_events(after_id=history[-1].id)
    assert [e.id for e in events] == [e.id for e in news]  # one writer here: id order
    assert len(news) == 7  # three conversation_opened, three message_received, signed_in
    assert events == news
    assert (await read_tail(store, cursor))[0] == []

    await store.record_event("signed_out", now=at(2))
    (last,), _ = await read_tail(store, cursor)
    assert last.kind == "signed_out"


async def test_a_tail_on_an_empty_log(store: Store) -> None:
    cursor = await store.feed_start()
    assert (await store.feed_events(cursor)).events == []
    await store.record_event("signed_in", now=at(1))
    assert [e.kind for e in (await read_tail(store, cursor))[0]] == ["signed_in"]
