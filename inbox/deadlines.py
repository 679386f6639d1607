"""The deadline watcher: keeps each waiting conversation's due time current, warns supervisors
at the configured fraction, and escalates on breach. Decisions are routing.deadlines (pure);
the store records each alarm once, so several instances may watch side by side.

No pass rescans the waiting conversations. The first (and the first after a database outage)
reads them all, page by page; later passes read only those the event log says changed since
(every write that changes a deadline's inputs records an event on the conversation: a message,
a reply, a close, an alarm; other instances' and the CLI's too), and those whose alarm time
has come. Between passes the watcher sleeps until the earliest alarm time in its heap, a wake,
or the idle poll that finds what another process wrote without telling it.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from inbox.core.decisions import AwaitingAnswer, DeadlineChange
from inbox.core.errors import StorageError
from inbox.core.model import ChannelKind, ConversationId
from inbox.resilience import Outages
from inbox.wakeup import woken
from routing.deadlines import Deadline, ResponseTargets, alarm, deadline, due_columns, next_alarm_at
from routing.hours import ServiceHours
from storage.base import EventTail, FeedCursor
from storage.roles import PolicyStore

log = logging.getLogger(__name__)


MIN_GAP_S = 1.0
LOAD_PAGE = 1000  # waiting conversations per read of the first pass
EVENT_PAGE = 1000  # events per read of the log's tail
# Changes per write: SQLite's single writer (the intake's acks) waits for each whole write. A
# restart with thousands of waiting conversations past due wrote 1,000 due times and alarms in
# 60-120 ms, then the 5,900 that the alarms' events brought back in one write of 95 ms.
WRITE_PAGE = 200


class DeadlineStore(PolicyStore, EventTail, Protocol):
    """The watcher's reads and writes: the conversations' deadlines, and the event log's tail."""


@dataclass(frozen=True, slots=True)
class Tracked:
    """A waiting conversation as the last pass read it: its inputs, its deadline, and when its
    next alarm is due (None: none will be: escalated, or the service never opens)."""

    conv: AwaitingAnswer
    deadline: Deadline | None
    next_alarm: datetime | None


class DeadlineWatcher:
    def __init__(
        self,
        store: DeadlineStore,
        *,
        targets: ResponseTargets,
        hours_for: Callable[[ChannelKind], ServiceHours],
        clock: Callable[[], datetime],
        interval_s: float = 15.0,
        on_alarm: Callable[[Sequence[DeadlineChange]], None] = lambda _: None,
        outages: Outages | None = None,
        leading: asyncio.Event | None = None,
    ) -> None:
        self._store = store
        # Set while this instance watches (the router's lease: inbox.router.Router.leading).
        # Every instance watching wrote the same due times and alarms, each in transactions
        # that lock the rows the intake writes: with two instances, twice the passes.
        self._leading = leading
        self._outages = outages or Outages()
        self._targets = targets
        self._hours_for = hours_for
        self._clock = clock
        self._interval_s = interval_s  # the idle poll: what others wrote without a wake
        self._on_alarm = on_alarm
        self._wake = asyncio.Event()
        self._cursor: FeedCursor | None = None  # None: the next pass reads them all
        self._tracked: dict[ConversationId, Tracked] = {}
        # (alarm time, conversation): stale entries (an answered conversation, a moved
        # deadline) stay until they come up and are skipped, or until compacted.
        self._alarms: list[tuple[datetime, ConversationId]] = []

    def wake(self) -> None:
        """Something was written (new messages, another instance's events): read what changed
        soon, not only at the next interval."""
        self._wake.set()

    @property
    def tracked(self) -> dict[ConversationId, Tracked]:
        """The waiting conversations as the last pass left them (for tests and benchmarks)."""
        return dict(self._tracked)

    def next_alarm(self) -> datetime | None:
        """The earliest alarm time of the conversations tracked, if any."""
        self._drop_stale()
        return self._alarms[0][0] if self._alarms else None

    async def run(self) -> None:
        """A pass at start, then after each wake, at the earliest alarm time, and every
        interval_s; at most one per MIN_GAP_S (at an alarm time too: a clock set back cannot
        make it spin), so that a burst of messages costs a few passes, each proportional to
        what changed, not one per batch."""
        loop = asyncio.get_running_loop()
        while True:
            if self._leading is not None and not self._leading.is_set():
                self._cursor = None  # another instance watched meanwhile: read all again
                await self._leading.wait()
            started = loop.time()
            self._wake.clear()
            await self._outages.retrying("deadlines", self._pass)
            await woken(self._wake, self._sleep_s())
            await asyncio.sleep(max(0.0, MIN_GAP_S - (loop.time() - started)))

    def _sleep_s(self) -> float:
        due = self.next_alarm()
        if due is None:
            return self._interval_s
        return min(self._interval_s, max(0.0, (due - self._clock()).total_seconds()))

    async def _pass(self) -> list[DeadlineChange]:
        try:
            return await self.check_once()
        except StorageError:
            # What changed while the database was away is read again in full, once.
            self._cursor = None
            raise

    async def check_once(self) -> list[DeadlineChange]:
        """One pass; returns the alarms recorded by it."""
        now = self._clock()
        recorded: list[DeadlineChange] = []
        if self._cursor is None:
            self._cursor = await self._store.feed_start()  # before the reads: nothing is lost
            self._tracked.clear()
            self._alarms.clear()
            # Read page by page, each written in pages of WRITE_PAGE (_apply).
            after = 0
            while True:
                page = await self._store.awaiting_answers(after=after, limit=LOAD_PAGE)
                recorded += await self._apply(page, now)
                if len(page) < LOAD_PAGE:
                    break
                after = page[-1].id
        else:
            self._cursor, changed = await self._changed(self._cursor)
            looked = changed | self._due(now)
            read = await self._store.awaiting_among(sorted(looked))
            for conv_id in looked - {c.id for c in read}:  # answered, closed: no deadline runs
                self._tracked.pop(conv_id, None)
            recorded = await self._apply(read, now)
        if recorded:
            self._on_alarm(recorded)
        self._compact()
        return recorded

    async def _apply(self, read: Sequence[AwaitingAnswer], now: datetime) -> list[DeadlineChange]:
        """Track what was read; write the due times that differ and the alarms due."""
        changes = [c for conv in read if (c := self._decide(conv, now)) is not None]
        recorded: list[DeadlineChange] = []
        for start in range(0, len(changes), WRITE_PAGE):
            recorded += await self._store.apply_deadlines(
                changes[start : start + WRITE_PAGE],
                urgent_priority=self._targets.urgent_priority,
                now=now,
            )
        for c in recorded:
            log.warning(
                "response deadline " + ("breached" if c.alarm == "breach" else "near"),
                extra={"action": f"deadline_{c.alarm}", "conversation_id": c.conversation_id},
            )
        if any(c.alarm is not None for c in changes):
            # The alarm changed its row (a breach raises the priority, so the due time too);
            # its event brings it back to the next pass, here or wherever it was recorded.
            self._wake.set()
        return recorded

    def _decide(self, conv: AwaitingAnswer, now: datetime) -> DeadlineChange | None:
        """Track `conv` and say what to write for it: its due times where they differ from
        those shown, and the alarm newly due."""
        d = deadline(self._targets, self._hours_for(conv.channel), conv)
        first_due, next_due = due_columns(d)
        raised = None if d is None else alarm(d, conv, now)
        # Raised: not tracked until its event brings the changed row back.
        at = None if d is None or raised is not None else next_alarm_at(d, conv)
        before = self._tracked.get(conv.id)
        self._tracked[conv.id] = Tracked(conv, d, at)
        if at is not None and (before is None or before.next_alarm != at):
            heapq.heappush(self._alarms, (at, conv.id))  # else its entry is in the heap already
        if raised is None and (conv.first_response_due, conv.next_response_due) == (
            first_due,
            next_due,
        ):
            return None
        return DeadlineChange(
            conversation_id=conv.id,
            first_response_due=first_due,
            next_response_due=next_due,
            alarm=None if raised is None else raised.value,
        )

    async def _changed(self, cursor: FeedCursor) -> tuple[FeedCursor, set[ConversationId]]:
        """The conversations of the events committed since `cursor`, and the cursor past them."""
        changed: set[ConversationId] = set()
        while True:
            page = await self._store.feed_events(cursor, limit=EVENT_PAGE)
            changed.update(e.conversation_id for e in page.events if e.conversation_id)
            cursor = page.cursor
            if len(page.events) < EVENT_PAGE:
                return cursor, changed

    def _due(self, now: datetime) -> set[ConversationId]:
        """Those whose alarm time has come: read again before anything is raised, so that a
        change no event told of yet cannot raise an alarm that is no longer due."""
        due: set[ConversationId] = set()
        while self._alarms and self._alarms[0][0] <= now:
            at, conv_id = heapq.heappop(self._alarms)
            if self._current(at, conv_id):
                due.add(conv_id)
                self._tracked[conv_id] = replace(self._tracked[conv_id], next_alarm=None)
        return due

    def _current(self, at: datetime, conv_id: ConversationId) -> bool:
        tracked = self._tracked.get(conv_id)
        return tracked is not None and tracked.next_alarm == at

    def _drop_stale(self) -> None:
        while self._alarms and not self._current(*self._alarms[0]):
            heapq.heappop(self._alarms)

    def _compact(self) -> None:
        """Stale entries at most as many as the current ones (plus a few)."""
        if len(self._alarms) > 2 * len(self._tracked) + 64:
            self._alarms = [e for e in self._alarms if self._current(*e)]
            heapq.heapify(self._alarms)
