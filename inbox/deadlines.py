"""The deadline watcher: keeps each waiting conversation's due time current, warns supervisors
at the configured fraction, and escalates on breach. Decisions are routing.deadlines (pure);
the store records each alarm once, so several instances may watch side by side."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from inbox.core.decisions import DeadlineChange
from inbox.core.model import ChannelKind
from inbox.resilience import Outages
from inbox.wakeup import woken
from routing.deadlines import ResponseTargets, alarm, deadline, due_columns
from routing.hours import ServiceHours
from storage.roles import PolicyStore

log = logging.getLogger(__name__)


MIN_GAP_S = 1.0


class DeadlineWatcher:
    def __init__(
        self,
        store: PolicyStore,
        *,
        targets: ResponseTargets,
        hours_for: Callable[[ChannelKind], ServiceHours],
        clock: Callable[[], datetime],
        interval_s: float = 15.0,
        on_alarm: Callable[[Sequence[DeadlineChange]], None] = lambda _: None,
        outages: Outages | None = None,
    ) -> None:
        self._store = store
        self._outages = outages or Outages()
        self._targets = targets
        self._hours_for = hours_for
        self._clock = clock
        self._interval_s = interval_s
        self._on_alarm = on_alarm
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New messages came in: show their due times soon, not only at the next interval."""
        self._wake.set()

    async def run(self) -> None:
        """A pass every interval_s, and soon after a wake; at most one per MIN_GAP_S, so that a
        burst of messages costs a few passes, not one per batch."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            self._wake.clear()
            await self._outages.retrying("deadlines", self.check_once)
            if not await woken(self._wake, self._interval_s):
                continue
            await asyncio.sleep(max(0.0, MIN_GAP_S - (loop.time() - started)))

    async def check_once(self) -> list[DeadlineChange]:
        """One pass; returns the alarms recorded by it."""
        now = self._clock()
        changes = []
        for conv in await self._store.awaiting_answers():
            d = deadline(self._targets, self._hours_for(conv.channel), conv)
            first_due, next_due = due_columns(d)
            raised = None if d is None else alarm(d, conv, now)
            shown = (conv.first_response_due, conv.next_response_due)
            if raised is not None or shown != (first_due, next_due):
                changes.append(
                    DeadlineChange(
                        conversation_id=conv.id,
                        first_response_due=first_due,
                        next_response_due=next_due,
                        alarm=None if raised is None else raised.value,
                    )
                )
        recorded = await self._store.apply_deadlines(
            changes, urgent_priority=self._targets.urgent_priority, now=now
        )
        for c in recorded:
            log.warning(
                "response deadline " + ("breached" if c.alarm == "breach" else "near"),
                extra={"action": f"deadline_{c.alarm}", "conversation_id": c.conversation_id},
            )
        if recorded:
            self._on_alarm(recorded)
        return recorded
