"""The router service: snapshot, pure decision, conditional apply, whenever something changed."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from inbox.core.decisions import Assign, Decision, RoutingSnapshot
from inbox.core.errors import Conflict, NotFound
from inbox.core.model import ChannelKind, ConversationId, UserId
from inbox.resilience import Outages
from inbox.wakeup import woken
from routing.assign import RoutingPolicy, decide
from routing.callbacks import next_callable, stored_window
from routing.hours import ALWAYS_OPEN, ServiceHours, is_open
from routing.rota import for_on_call
from storage.base import RoutingStore

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
SWEEP_MAX_S = 60.0
# The shortest sleep before a callback's due time: the clock may read a hair early at wake-up.
CALLBACK_WAKE_MIN_S = 0.05


class Router:
    def __init__(
        self,
        store: RoutingStore,
        *,
        clock: Clock,
        on_assigned: Callable[[Sequence[Assign]], None] = lambda _: None,
        page: int = 1000,
        policy: RoutingPolicy | None = None,
        offer_timeout_s: float = 0.0,
        on_lapsed: Callable[[Sequence[tuple[ConversationId, UserId]]], None] = lambda _: None,
        hours_for: Callable[[ChannelKind], ServiceHours] = lambda _: ALWAYS_OPEN,
        on_round: Callable[
            [RoutingSnapshot, Sequence[Decision], Sequence[ConversationId]], None
        ] = lambda _s, _d, _g: None,
        on_call: Callable[[datetime], UserId | None] = lambda _: None,
        on_call_given: Callable[[Sequence[ConversationId]], None] = lambda _: None,
        outages: Outages | None = None,
    ) -> None:
        self._store = store
        self._outages = outages or Outages()
        self._on_call = on_call
        self._on_call_given = on_call_given
        self._hours_for = hours_for
        self._on_round = on_round
        self._offer_timeout = timedelta(seconds=offer_timeout_s)
        self._on_lapsed = on_lapsed
        self._policy = policy or RoutingPolicy()
        self._clock = clock
        self._on_assigned = on_assigned
        self._page = page
        self._wake = asyncio.Event()
        self._rounds_started = 0
        self._rounds_done = 0
        self._round_ended = asyncio.Condition()
        # When a callback held back now (not due, or outside her window) may be offered: the
        # latest round's answer, which the run loop sleeps no longer than (no polling for it).
        self._next_callback: datetime | None = None
        self._unreadable_windows: set[str] = set()  # logged once each, never their text

    def clock(self) -> datetime:
        return self._clock()

    def decide(self, snapshot: RoutingSnapshot, now: datetime) -> list[Decision]:
        """A round's decisions over `snapshot` (storage.base.IntakeRouter: the intake asks this
        inside its transaction, for the conversations it opens)."""
        closed = frozenset(c for c in ChannelKind if not is_open(self._hours_for(c), now))
        self._note_unreadable_windows(snapshot)
        return decide(
            snapshot, now=now, policy=dataclasses.replace(self._policy, closed_channels=closed)
        )

    def _note_unreadable_windows(self, snapshot: RoutingSnapshot) -> None:
        """A stored call window that no longer parses reads as none (routing.callbacks.
        stored_window): the callback is still worked in the phone hours. Said once per window,
        with the conversation's id only: her window is hers, not the log's."""
        tz = self._policy.call_window_tz
        for conv in snapshot.waiting:
            text = conv.call_window
            if text is None or text in self._unreadable_windows:
                continue
            if stored_window(text, tz) is None:
                self._unreadable_windows.add(text)
                log.warning(
                    "a stored call window does not parse; the callback is offered without it",
                    extra={"action": "call_window_unreadable", "conversation_id": conv.id},
                )

    def next_callback_at(self) -> datetime | None:
        """When a callback held back in the latest round may be offered (None: none is)."""
        return self._next_callback

    def _sleep_s(self, sweep_s: float) -> float:
        at = self._next_callback
        if at is None:
            return sweep_s
        left_s = (at - self._clock()).total_seconds()
        return min(sweep_s, max(CALLBACK_WAKE_MIN_S, left_s))

    def lapsed_before(self, now: datetime) -> datetime | None:
        return now - self._offer_timeout if self._offer_timeout else None

    def closed_day(self, at: datetime) -> bool:
        """The desk's closed days as the routing policy has them (RoutingPolicy.closed_days):
        routing at intake, the supervisor's screens and the waiting-line estimate ask here."""
        return self._policy.closed_days(at)

    def wake(self) -> None:
        """Something changed (new message, closed conversation, counselor added): route soon."""
        self._wake.set()

    async def next_round(self, timeout_s: float) -> bool:
        """Wake the router and wait until a round that began after this call has ended (False
        if none did within timeout_s): whoever asks about the queue then sees a message that
        just arrived routed, not waiting for a round that has not looked at it yet."""
        target = self._rounds_started + 1
        self.wake()
        try:
            async with asyncio.timeout(timeout_s), self._round_ended:
                await self._round_ended.wait_for(lambda: self._rounds_done >= target)
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        """Route at start (recovering what a crash left unrouted), then on every wake, and take
        back lapsed offers at least every quarter of the offer timeout."""
        self._wake.set()
        # Also at least once a minute: a channel's service hours may have begun meanwhile.
        sweep_s = min(self._offer_timeout.total_seconds() / 4 or SWEEP_MAX_S, SWEEP_MAX_S)
        while True:
            await woken(self._wake, self._sleep_s(sweep_s))
            self._wake.clear()
            self._rounds_started += 1
            try:
                # a database outage is waited out here; wakes meanwhile fold into this round
                await self._outages.retrying("router", self._round)
            finally:
                self._rounds_done = self._rounds_started
                async with self._round_ended:
                    self._round_ended.notify_all()

    async def _round(self) -> None:
        await self.requeue_lapsed()
        await self.route_once()

    async def requeue_lapsed(self) -> list[tuple[ConversationId, UserId]]:
        """Offers not opened within the timeout go back to the queue, to someone else next."""
        if not self._offer_timeout:
            return []
        now = self._clock()
        lapsed = await self._store.requeue_lapsed_offers(
            offered_before=now - self._offer_timeout, now=now
        )
        if lapsed:
            log.info("offers lapsed", extra={"action": "offers_lapsed", "count": len(lapsed)})
            self._on_lapsed(lapsed)
        return lapsed

    def on_call_now(self) -> UserId | None:
        """Who the rota has on call at this moment (None: no one), as the board shows her."""
        return self._on_call(self._clock())

    async def _give_on_call(
        self, snapshot: RoutingSnapshot, decisions: Sequence[Decision], urgent_priority: int
    ) -> list[ConversationId]:
        """An urgent conversation nobody on duty can take goes to whoever the rota has on call
        now, whatever her shift and load: a person must see it now, also at night. With no one
        on call it waits at the head of the queue (routing.rota.for_on_call decides). Returns
        the ones actually handed over (not those closed, taken or refused meanwhile)."""
        on_call = self._on_call(self._clock())
        stranded = for_on_call(
            snapshot,
            decisions,
            someone_on_call=on_call is not None,
            urgent_priority=urgent_priority,
        )
        if on_call is None:
            return []
        given: list[ConversationId] = []
        for conv_id in stranded:
            try:
                await self._store.assign(
                    conv_id,
                    on_call,
                    actor_id=on_call,
                    now=self._clock(),
                    capacity=None,
                    on_call=True,
                )
            except (Conflict, NotFound):  # closed or taken meanwhile, or she was disabled
                continue
            given.append(conv_id)
        if given:
            log.warning(
                "urgent conversations given to the on-call supervisor",
                extra={"action": "on_call_assigned", "count": len(given)},
            )
            self._on_call_given(given)
        return given

    async def route_once(self) -> list[Assign]:
        applied: list[Assign] = []
        held: list[datetime] = []  # when callbacks held back on each page may be offered
        await self._route_pages(applied, held)
        self._next_callback = min(held, default=None)
        return applied

    async def _route_pages(self, applied: list[Assign], held: list[datetime]) -> None:
        while True:
            snapshot = await self._store.routing_snapshot()
            now = self._clock()
            decisions = self.decide(snapshot, now)
            soonest = next_callable(snapshot.waiting, now, self._policy.call_window_tz)
            if soonest is not None:
                held.append(soonest)
            if len(snapshot.waiting) >= self._page:
                # callbacks beyond the page: their due times (their windows are read when the
                # queue before them has moved; the sweep covers that meanwhile)
                due = await self._store.next_callback_due(after=now)
                if due is not None:
                    held.append(due)
            wanted = [d for d in decisions if isinstance(d, Assign)]
            done = await self._store.apply_assignments(wanted, now=self._clock())
            applied.extend(done)
            if done:
                log.info("assigned", extra={"action": "conversations_assigned", "count": len(done)})
                self._on_assigned(done)
            given = await self._give_on_call(snapshot, decisions, self._policy.urgent_priority)
            # After the hand-off: what this round actually gave the person on call, not a guess.
            self._on_round(snapshot, decisions, given)
            # A full page may hide more waiting conversations behind it.
            if len(snapshot.waiting) < self._page or not done:
                return
