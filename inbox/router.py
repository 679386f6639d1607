"""The router service: snapshot, pure decision, conditional apply, whenever something changed."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
ROUND_MIN_GAP_S = 0.05  # [routing] round_min_gap_ms's default: at most 20 rounds a second


@dataclass(frozen=True, slots=True)
class _Page:
    """The latest round's one page, when it changed nothing (no assignment wanted, no hand-off):
    the queue the next round would read again, as long as only arrivals behind it came since."""

    snapshot: RoutingSnapshot
    read_at: datetime
    # where its page ends in queue order (None: the whole queue fit, so any arrival enters it)
    end: tuple[int, datetime] | None
    ids: frozenset[ConversationId]  # a message to one of these may change its needs
    due: datetime | None  # the earliest callback due beyond the page (None: none, or no look)


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
        round_min_gap_s: float = 0.0,
    ) -> None:
        self._store = store
        # Rounds begin at least this far apart: a burst of wakes is one round, not one each.
        self._min_gap_s = round_min_gap_s
        self._last_start = float("-inf")  # the loop's clock, when the latest round began
        # Only the leader runs rounds (Store.lead_router: PostgreSQL's lease; alone, always).
        self.leading = asyncio.Event()
        self.leading.set()
        # What the wakes since the latest round said: something that may change a decision
        # (`_dirty`), or only arrivals, of which the most urgent and the earliest.
        self._dirty = True
        self._arrived: tuple[int, datetime] | None = None
        self._arrived_in: set[ConversationId] = set()
        self._quiet: _Page | None = None
        self._reads = 0
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

    @property
    def rounds_done(self) -> int:
        """Rounds ended since start (the benchmark and the tests count them)."""
        return self._rounds_done

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

    @property
    def snapshots_read(self) -> int:
        """Queue reads since start (the tests count that a full desk is not read again)."""
        return self._reads

    def wake(self) -> None:
        """Something changed that may change a decision (a conversation closed, released or
        requeued, a counselor's capacity, presence or shift, a channel resumed...): route soon,
        reading the queue again."""
        self.changed()
        self._wake.set()

    def changed(self) -> None:
        """The queue or a load changed without work for the router (routing at intake gave a
        conversation): the next round reads the queue again, whenever it comes."""
        self._dirty = True

    def arrived(
        self, priority: int, queued_at: datetime, conversation: ConversationId | None = None
    ) -> None:
        """A new message left its conversation waiting (`priority`: the rules' for it;
        `queued_at`: its time, when it opened the conversation; `conversation`: None when it is
        one opened just now, on another instance): route soon. If the latest round changed
        nothing and this one sorts behind its page (not urgent, not in it), that page is
        decided again as read, without reading the queue: nothing in it and no one's load has
        changed."""
        if not self.leading.is_set():
            # The routing instance hears of it (PostgreSQL's NOTIFY); should this one lead
            # again, it reads the queue afresh rather than keep a page without it.
            self._dirty = True
            return
        if conversation is not None:
            self._arrived_in.add(conversation)
        key = (priority, queued_at)
        if self._arrived is None:
            self._arrived = key
        else:
            self._arrived = (max(priority, self._arrived[0]), min(queued_at, self._arrived[1]))
        self._wake.set()

    async def next_round(self, timeout_s: float) -> bool:
        """Wake the router and wait until a round that began after this call has ended (False
        if none did within timeout_s): whoever asks about the queue then sees a message that
        just arrived routed, not waiting for a round that has not looked at it yet."""
        if not self.leading.is_set():
            return False  # the leader's round, on another instance, is not ours to wait for
        target = self._rounds_started + 1
        self._wake.set()  # a round, not a change: what changed has said so itself
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
        loop = asyncio.get_running_loop()
        while True:
            if not self.leading.is_set():
                self._quiet = None  # another instance routed meanwhile
                await self.leading.wait()
                self._wake.set()  # recover what was left unrouted, as at start
            if not await woken(self._wake, self._sleep_s(sweep_s)):
                self._dirty = True  # the sweep reads everything again
            gap_s = self._last_start + self._min_gap_s - loop.time()
            if gap_s > 0:
                await asyncio.sleep(gap_s)  # wakes meanwhile fold into this round
            if not self.leading.is_set():
                continue
            self._wake.clear()
            self._last_start = loop.time()
            self._rounds_started += 1
            try:
                # a database outage is waited out here; wakes meanwhile fold into this round
                await self._outages.retrying("router", self._round)
            finally:
                self._rounds_done = self._rounds_started
                async with self._round_ended:
                    self._round_ended.notify_all()

    async def _round(self) -> None:
        if await self.requeue_lapsed():
            self._dirty = True
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
                    # never from a counselor who took it since the snapshot was read
                    unclaimed=True,
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
        try:
            await self._route_pages(applied, held)
        except BaseException:
            self._quiet = None
            raise
        self._next_callback = min(held, default=None)
        return applied

    def _unchanged_page(self, now: datetime) -> _Page | None:
        """The latest round's page, if reading the queue again would give the same one: that
        round changed nothing, every wake since was an arrival that sorts behind its full page,
        none urgent, and it was read less than a sweep ago (writes no one woke us for: the
        CLI's on SQLite are seen by then, as before)."""
        quiet, arrived = self._quiet, self._arrived
        if self._dirty or quiet is None or quiet.end is None or arrived is None:
            return None  # (no arrival: a round asked for directly, which reads, as it did)
        if (now - quiet.read_at).total_seconds() >= SWEEP_MAX_S:
            return None
        if arrived[0] >= self._policy.urgent_priority or not quiet.ids.isdisjoint(self._arrived_in):
            return None
        # Queue order: higher priority first, then longer waiting. A message only ever raises
        # its conversation's priority, to its own, and keeps when it was queued unless the
        # message queues it: below the page's last priority it stays behind the page; at the
        # lowest priority (0: the rules never go below) it queues behind it only if newer.
        priority, since = arrived
        end_priority, end_since = quiet.end
        if priority > end_priority or (
            priority == end_priority and (priority != 0 or since <= end_since)
        ):
            return None
        return quiet

    async def _read_page(self, now: datetime) -> tuple[RoutingSnapshot, _Page | None]:
        """The queue's first page: read, or the latest round's kept (with it, what it was)."""
        kept = self._unchanged_page(now)
        self._dirty, self._arrived, self._quiet = False, None, None
        self._arrived_in = set()
        if kept is not None:
            return kept.snapshot, kept
        self._reads += 1
        return await self._store.routing_snapshot(), None

    async def _callback_due(self, kept: _Page | None, now: datetime) -> datetime | None:
        """The earliest due time of a callback beyond the page (storage's look-up), or the
        kept page's answer while it is still ahead: only a callback's own events (which wake
        the router as a change) move it."""
        if kept is not None and (kept.due is None or kept.due > now):
            return kept.due
        return await self._store.next_callback_due(after=now)

    def _keep_page(
        self, snapshot: RoutingSnapshot, read_at: datetime, due: datetime | None
    ) -> None:
        end = None
        if len(snapshot.waiting) >= self._page:
            last = max(snapshot.waiting, key=lambda c: (-c.priority, c.waiting_since, c.id))
            end = (last.priority, last.waiting_since)
        ids = frozenset(c.id for c in snapshot.waiting)
        self._quiet = _Page(snapshot, read_at, end, ids, due)

    async def _route_pages(self, applied: list[Assign], held: list[datetime]) -> None:
        while True:
            read_at = self._clock()
            snapshot, kept = await self._read_page(read_at)
            now = self._clock()
            decisions = self.decide(snapshot, now)
            soonest = next_callable(snapshot.waiting, now, self._policy.call_window_tz)
            if soonest is not None:
                held.append(soonest)
            due = None
            if len(snapshot.waiting) >= self._page:
                # callbacks beyond the page: their due times (their windows are read when the
                # queue before them has moved; the sweep covers that meanwhile)
                due = await self._callback_due(kept, now)
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
            if not wanted and not given:
                # it changed nothing, nor meant to (a refused assignment says the queue or a
                # load moved since the read): kept for the next round, as old as its read
                self._keep_page(snapshot, kept.read_at if kept else read_at, due)
            # A full page may hide more waiting conversations behind it.
            if len(snapshot.waiting) < self._page or not done:
                return
