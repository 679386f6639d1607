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
# An event held back behind an older transaction is released when that transaction ends, which
# nothing announces (it may write no event): look again this often until it is out.
HELD_BACK_RETRY_S = 0.05


def backoff_s(failures: int, *, first_s: float, max_s: float) -> float:
    """The wait after `failures` failed attempts in a row: doubling from first_s, capped."""
    return min(max_s, first_s * 2.0 ** min(failures, 32))


class HoldWatch:
    """Warns once when events stay held back with the cursor still for warn_s: a transaction
    left open anywhere on the PostgreSQL server then holds the whole feed up (nothing is lost;
    it all comes out when that transaction ends)."""

    def __init__(self, warn_s: float) -> None:
        self._warn_s = warn_s
        self._since = 0.0
        self._cursor: FeedCursor | None = None
        self._warned = False

    def saw(self, held_back: bool, cursor: FeedCursor | None, now: float) -> None:
        if held_back and cursor == self._cursor:
            if not self._warned and now - self._since >= self._warn_s:
                log.warning(
                    "live feed waits behind a database transaction open elsewhere on the "
                    "server; staff screens get no news until it ends (see pg_stat_activity)",
                    extra={"action": "event_feed_held_back", "held_s": round(now - self._since)},
                )
                self._warned = True
            return
        if self._warned:
            log.info("live feed moves again", extra={"action": "event_feed_released"})
        self._since, self._cursor, self._warned = now, cursor if held_back else None, False


class EventFeed:
    """Pushes each new event's ids (never bodies) to staff sockets, woken by poke()."""

    def __init__(
        self,
        store: EventTail,
        hub: Hub,
        *,
        backoff_first_s: float = 0.5,
        backoff_max_s: float = 10.0,
        held_back_warn_s: float = 30.0,
    ) -> None:
        self._store = store
        self._hub = hub
        self._wake = asyncio.Event()
        self._cursor: FeedCursor | None = None
        self._backoff_first_s = backoff_first_s
        self._backoff_max_s = backoff_max_s
        self._hold_watch = HoldWatch(held_back_warn_s)

    def poke(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled. The first round only finds where the log ends: sockets get news,
        not history."""
        loop = asyncio.get_running_loop()
        while True:
            held_back = await self._round_surviving_outages()
            self._hold_watch.saw(held_back, self._cursor, loop.time())
            if held_back:
                await self._wait(HELD_BACK_RETRY_S)
            else:
                await self._wake.wait()
            self._wake.clear()

    async def round(self) -> bool:
        """Publish every event committed since the last round; True when some are held back
        (the store will release them once older transactions end). Raises StorageError, with
        the cursor where the last published event left it."""
        if self._cursor is None:
            self._cursor = await self._store.feed_start()
        while True:
            page = await self._store.feed_events(self._cursor, limit=PAGE)
            for event in page.events:
                self._publish(event)
            self._cursor = page.cursor
            if len(page.events) < PAGE:
                return page.held_back

    def _publish(self, event: Event) -> None:
        self._hub.push(STAFF, {"type": "event", "event": event_json(event)})

    async def _round_surviving_outages(self) -> bool:
        """round(), retried with capped backoff while the database fails: logged once when it
        starts failing and once when it is back."""
        failures = 0
        while True:
            try:
                held_back = await self.round()
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
            return held_back

    async def _wait(self, timeout_s: float) -> None:
        """Until poked or timeout_s passes."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._wake.wait()
        except TimeoutError:
            pass
