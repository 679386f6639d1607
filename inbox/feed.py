"""EventFeed: tails the event log and pushes each new event's ids to the staff's sockets.

Every event reaches the sockets exactly once, in the store's tail order (storage.base.EventTail):
on PostgreSQL writers commit out of id order, so the feed follows the store's cursor rather than
the last id it saw. It survives a database outage: it logs once, retries with capped backoff and
resumes from its cursor, skipping and repeating nothing.
"""

from __future__ import annotations

import asyncio
import logging

from inbox.errors import StorageError
from inbox.model import Event
from inbox.web.api import event_json
from inbox.web.hub import Hub
from inbox.web.sockets import STAFF
from storage.base import EventTail, FeedCursor

log = logging.getLogger(__name__)

PAGE = 500


def backoff_s(failures: int, *, first_s: float, max_s: float) -> float:
    """The wait after `failures` failed attempts in a row: doubling from first_s, capped."""
    return min(max_s, first_s * 2.0 ** min(failures, 32))


class EventFeed:
    """Pushes each new event's ids (never bodies) to staff sockets, woken by poke()."""

    def __init__(
        self,
        store: EventTail,
        hub: Hub,
        *,
        backoff_first_s: float = 0.5,
        backoff_max_s: float = 10.0,
    ) -> None:
        self._store = store
        self._hub = hub
        self._wake = asyncio.Event()
        self._cursor: FeedCursor | None = None
        self._backoff_first_s = backoff_first_s
        self._backoff_max_s = backoff_max_s

    def poke(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled. The first round only finds where the log ends: sockets get news,
        not history."""
        while True:
            await self._round_surviving_outages()
            await self._wake.wait()
            self._wake.clear()

    async def round(self) -> None:
        """Publish every event committed since the last round. Raises StorageError, with the
        cursor where the last published event left it."""
        if self._cursor is None:
            self._cursor = await self._store.feed_start()
        while True:
            page = await self._store.feed_events(self._cursor, limit=PAGE)
            for event in page.events:
                self._publish(event)
            self._cursor = page.cursor
            if len(page.events) < PAGE:
                return

    def _publish(self, event: Event) -> None:
        self._hub.push(STAFF, {"type": "event", "event": event_json(event)})

    async def _round_surviving_outages(self) -> None:
        """round(), retried with capped backoff while the database fails: logged once when it
        starts failing and once when it is back."""
        failures = 0
        while True:
            try:
                await self.round()
            except StorageError:
                if failures == 0:
                    log.error(
                        "event feed cannot read the event log; retrying with backoff",
                        exc_info=True,
                        extra={"action": "event_feed_unavailable"},
                    )
                delay_s = backoff_s(
                    failures, first_s=self._backoff_first_s, max_s=self._backoff_max_s
                )
                failures += 1
                # A poke does not cut the wait short: while the database is down, every
                # writer's failure would otherwise turn into a retry here.
                await asyncio.sleep(delay_s)
                continue
            if failures:
                log.info(
                    "event feed reads the event log again",
                    extra={"action": "event_feed_resumed", "failures": failures},
                )
            return
