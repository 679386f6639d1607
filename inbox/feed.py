"""EventFeed: tails the event log and pushes each new event's ids to the staff's sockets.

One frame per page of the tail, `{"type": "events", "events": [...]}`, encoded once for every
staff socket: every staff member gets the same ids (the log's data stays out), so the staff
sockets are one audience. A round of up to PAGE events is one frame in each socket's queue, not
PAGE frames that would overflow it and drop every staff socket at once.

Every event reaches the sockets exactly once, in the store's tail order (storage.base.EventTail):
on PostgreSQL writers commit out of id order, so the feed follows the store's cursor rather than
the last id it saw. It survives a database outage as every worker does (inbox.resilience):
logged once, capped backoff, then on from its cursor, skipping and repeating nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from inbox.commands.signals import AUDIT_ONLY_KINDS
from inbox.core.model import Event
from inbox.resilience import Outages
from inbox.wakeup import woken
from inbox.web.api import event_json
from inbox.web.hub import STAFF, Hub
from inbox.web.sockets import close_revoked_staff
from storage.base import EventTail, FeedCursor

log = logging.getLogger(__name__)

PAGE = 500
# Without a poke, the feed still looks every few seconds: on SQLite another process (the CLI
# disabling a user) writes events that nothing here is told of, and her sockets must close.
IDLE_POLL_S = 5.0
# Rounds begin at least this far apart: under a flood (a poke after every intake batch, every
# few milliseconds) a frame to every staff socket per batch cost more than the messages; this
# way each socket gets at most 1 / MIN_GAP_S frames a second, each with all that came meanwhile.
MIN_GAP_S = 0.025


class EventFeed:
    """Pushes each new event's ids (never bodies) to staff sockets, woken by poke()."""

    def __init__(
        self,
        store: EventTail,
        hub: Hub,
        *,
        outages: Outages | None = None,
        idle_poll_s: float = IDLE_POLL_S,
        published: Callable[[Sequence[Event]], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._hub = hub
        self._wake = asyncio.Event()
        self._cursor: FeedCursor | None = None
        self._outages = outages or Outages()
        self._idle_poll_s = idle_poll_s
        self._published = published  # told of each page once it is out (inbox.web.chat_news)
        self._news = 0

    @property
    def news(self) -> int:
        """A count that moves whenever the staff's screens may have something new to show: at
        each poke (this process committed a write, or another instance says it did) and before
        each page of news goes out. A page built after reading it shows every change committed
        before it moved (inbox.web.queue_page keys the queue page with it)."""
        return self._news

    def poke(self) -> None:
        self._news += 1
        self._wake.set()

    async def start(self) -> None:
        """Find where the log ends now: what is committed later is news. The server does this
        before it listens, so that a change a request commits before the feed's first round
        (ending a session whose socket is open, say) still reaches the sockets; without it,
        the first round only finds where the log ends then, and such news was history."""
        self._cursor = await self._store.feed_start()

    async def run(self) -> None:
        """Until cancelled. Unless started, the first round only finds where the log ends:
        sockets get news, not history."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            # While the database is away: logged once, capped backoff, then on from the cursor.
            # A poke does not cut the wait short (every writer's failure would be a retry).
            await self._outages.retrying("event-feed", self.round)
            await woken(self._wake, self._idle_poll_s)
            await asyncio.sleep(max(0.0, started + MIN_GAP_S - loop.time()))
            self._wake.clear()

    async def round(self) -> None:
        """Publish every event committed since the last round. Raises StorageError, with the
        cursor where the last published event left it."""
        if self._cursor is None:
            self._cursor = await self._store.feed_start()
        while True:
            page = await self._store.feed_events(self._cursor, limit=PAGE)
            self._publish(page.events)
            self._cursor = page.cursor
            if self._published is not None and page.events:
                await self._published(page.events)
            if len(page.events) < PAGE:
                return

    def _publish(self, events: Sequence[Event]) -> None:
        for event in events:
            close_revoked_staff(self._hub, event)  # before her socket gets the news
        # A staff member's read is for the audit log, not news: every console would refetch.
        events = [e for e in events if e.kind not in AUDIT_ONLY_KINDS]
        if not events:
            return
        self._news += 1  # before the sockets hear: a screen that refetches then must not get
        # a page built before these events were published
        self._hub.push(STAFF, {"type": "events", "events": [event_json(e) for e in events]})
