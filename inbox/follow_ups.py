"""The follow-up watcher: on its day each follow-up (近況確認) becomes a task in the one queue.

It sleeps until the earliest moment a scheduled follow-up is due (routing.follow_ups: its day,
within the desk's hours for her channel) or the next midnight in the program's zone, whichever
comes first, and when a follow-up is set (wake). At start it looks at once, so one that fell
due while no instance ran is queued then. Making one due is a conditional update in the store
(scheduled -> due), so watchers on several instances never open two tasks for one follow-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from inbox.core.follow_ups import FollowUp
from inbox.resilience import Outages
from inbox.wakeup import woken
from routing.follow_ups import HoursFor, due_now, next_day_start
from routing.hours import TOKYO
from storage.roles import FollowUpStore

log = logging.getLogger(__name__)
MIN_SLEEP_S = 0.05  # the clock may read a hair early at wake-up
PAGE = 500


class FollowUpWatcher:
    def __init__(
        self,
        store: FollowUpStore,
        *,
        hours_for: HoursFor,
        clock: Callable[[], datetime],
        tz: ZoneInfo = TOKYO,
        on_due: Callable[[Sequence[FollowUp]], None] = lambda _: None,
        outages: Outages | None = None,
    ) -> None:
        self._store = store
        self._hours_for = hours_for
        self._clock = clock
        self._tz = tz
        self._on_due = on_due
        self._outages = outages or Outages()
        self._wake = asyncio.Event()
        self._next: datetime | None = None

    def wake(self) -> None:
        """A follow-up was set or cancelled: its day may be today."""
        self._wake.set()

    def next_look(self) -> datetime | None:
        """When the latest pass said to look again."""
        return self._next

    async def run(self) -> None:
        while True:
            self._wake.clear()
            await self._outages.retrying("follow-ups", self.check_once)
            at = self._next
            left_s = 0.0 if at is None else (at - self._clock()).total_seconds()
            await woken(self._wake, max(MIN_SLEEP_S, left_s))

    async def check_once(self) -> list[FollowUp]:
        """Queue every follow-up due now; returns those this pass made due."""
        made: list[FollowUp] = []
        after: tuple[date, int] | None = None
        soonest: datetime | None = None
        while True:
            now = self._clock()
            today = now.astimezone(self._tz).date()
            scheduled = await self._store.scheduled_follow_ups(
                through=today, limit=PAGE, after=after
            )
            due, later = due_now(scheduled, now, self._hours_for, self._tz)
            for follow_up_id in due:
                found = await self._store.make_follow_up_due(follow_up_id, now=now)
                if found is not None:
                    made.append(found)
            if later is not None:
                soonest = later if soonest is None else min(soonest, later)
            # every page is read: a page of ones not due yet (her call window opens later
            # today) must not hold back those after it
            if len(scheduled) < PAGE:
                break
            after = (scheduled[-1].due_on, scheduled[-1].id)
        tomorrow = next_day_start(now, self._tz)
        self._next = tomorrow if soonest is None else min(soonest, tomorrow)
        if made:
            log.info("follow-ups due", extra={"action": "follow_ups_due", "count": len(made)})
            self._on_due(made)
        return made
