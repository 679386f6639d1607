"""Who answers whom: the router's decisions as a pure function of a snapshot and the clock.

No I/O, no randomness: the same snapshot and `now` always give the same decisions, which is what
lets the property tests and the benchmark run it without a database.

Order: urgent (higher priority) first, then whoever has waited longest. For each conversation:
1. Continuity: a returning consulter goes back to the counselor who last helped her (within
   `continuity_days`) if she is eligible; if she is on shift but busy or away, the conversation
   waits for her up to `continuity_wait_s`, then falls back. A follow-up's task (近況確認) names
   the counselor who set it as the previous one, with no time (previous_at None), so she is
   preferred however long ago she last helped her (the store's snapshot reads it).
2. Otherwise the least-loaded eligible counselor; ties go to the one idle longest, then the
   lowest id. Eligible = on shift AND available AND has the skill, language and team asked for
   AND below her total capacity AND below her capacity for the channel AND has not let this
   conversation's offer lapse before, AND takes its channel: phone conversations (callbacks)
   only phone staff, every other channel only counselors (inbox.core.decisions.takes_channel).

A callback is not offered before it is due (not_before) nor outside the window she allowed
(her safety: unlike service hours, urgency does not override it); it waits, and the router looks
again when it becomes callable (routing.callbacks.next_callable).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from inbox.core.decisions import (
    AgentLoad,
    Assign,
    Decision,
    RoutingSnapshot,
    Wait,
    WaitingConversation,
    takes_channel,
)
from inbox.core.model import ChannelKind, Presence, UserId
from inbox.core.shifts import DeskClosed, asked_once, never_closed, on_shift
from routing.callbacks import may_call, stored_window
from routing.hours import TOKYO

NO_COUNSELOR = "no_counselor_available"  # nobody on shift and available at all
NO_ELIGIBLE = "no_eligible_counselor"  # someone is, but without the skill/language/team
ALL_BUSY = "all_eligible_counselors_busy"
WAITING_FOR_PREVIOUS = "waiting_for_previous_counselor"
OUTSIDE_HOURS = "outside_service_hours"  # its channel is closed; urgent ones are still routed
CALLBACK_NOT_DUE = "callback_not_due"  # a callback before its next try (not_before)
OUTSIDE_CALL_WINDOW = "outside_call_window"  # outside the window she allowed; urgent ones too
NEVER_IDLE = datetime.min.replace(tzinfo=UTC)  # sorts first: never assigned = idle longest


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingPolicy:
    continuity_days: float = 30.0
    continuity_wait_s: float = 120.0
    # Channels outside their service hours right now (the service computes this from the clock)
    # and the priority from which a conversation is routed anyway (urgent triage's).
    closed_channels: frozenset[ChannelKind] = frozenset()
    urgent_priority: int = 100
    # The desk's closed days (holidays, closures): shifts that follow them are off then.
    closed_days: DeskClosed = never_closed
    # The program's zone, in which her allowed call windows are read ([routing] timezone).
    call_window_tz: ZoneInfo = TOKYO


class _Agent:
    """Mutable per-decide state of one counselor: her load grows as we assign."""

    __slots__ = ("capacity", "channel_cap", "channel_load", "idle", "info", "load")

    def __init__(self, info: AgentLoad) -> None:
        self.info = info
        self.capacity = info.capacity
        self.load = info.load
        self.channel_cap = dict(info.channel_capacity)
        self.channel_load = dict(info.channel_load)
        self.idle = info.idle_since or NEVER_IDLE

    def has_room(self, channel: ChannelKind) -> bool:
        if self.load >= self.capacity:
            return False
        cap = self.channel_cap.get(channel)
        return cap is None or self.channel_load.get(channel, 0) < cap

    def qualifies(self, conv: WaitingConversation) -> bool:
        info = self.info
        return (
            (conv.skill is None or conv.skill in info.skills)
            and (conv.language is None or conv.language in info.languages)
            and (conv.team is None or conv.team in info.teams)
            and info.user_id not in conv.declined_by
            and takes_channel(conv.channel, counselor=info.counselor, phone_staff=info.phone_staff)
        )

    def take(self, conv: WaitingConversation, now: datetime) -> Assign:
        self.load += 1
        self.channel_load[conv.channel] = self.channel_load.get(conv.channel, 0) + 1
        self.idle = now
        return Assign(
            conversation_id=conv.id,
            user_id=self.info.user_id,
            capacity=self.capacity,
            channel=conv.channel,
            channel_capacity=self.channel_cap.get(conv.channel),
        )


def queue_order(waiting: Iterable[WaitingConversation]) -> list[WaitingConversation]:
    """Urgent first, then longest waiting, then id (stable for equal times)."""
    return sorted(waiting, key=lambda c: (-c.priority, c.waiting_since, c.id))


def decide(
    snapshot: RoutingSnapshot, *, now: datetime, policy: RoutingPolicy | None = None
) -> list[Decision]:
    """One decision per waiting conversation, in queue order, never over anyone's capacity."""
    return list(decisions(snapshot, now=now, policy=policy))


def decisions(
    snapshot: RoutingSnapshot, *, now: datetime, policy: RoutingPolicy | None = None
) -> Iterator[Decision]:
    """`decide`, one decision at a time (the benchmark times each)."""
    policy = policy or RoutingPolicy()
    # On shift but away or full still counts for continuity: she may be free in a minute.
    closed_days = asked_once(policy.closed_days, now)
    on_shift_now = [a for a in snapshot.agents if on_shift(a.shift, now, closed=closed_days)]
    on_shift_by_id = {a.user_id: a for a in on_shift_now}
    on_duty = {a.user_id: _Agent(a) for a in on_shift_now if a.presence is Presence.AVAILABLE}
    continuity = timedelta(days=policy.continuity_days)
    hold = timedelta(seconds=policy.continuity_wait_s)
    free = _FreePool(on_duty.values())
    why_not = _WhyNot(on_duty)
    closed, urgent = policy.closed_channels, policy.urgent_priority
    tz = policy.call_window_tz
    for conv in queue_order(snapshot.waiting):
        held = _held_callback(conv, now, tz)
        if held is not None:
            yield Wait(conversation_id=conv.id, reason=held)
            continue
        if conv.channel in closed and conv.priority < urgent:
            yield Wait(conversation_id=conv.id, reason=OUTSIDE_HOURS)
            continue
        previous = _previous(conv, now, continuity, on_shift_by_id)
        if previous is not None:
            agent = on_duty.get(previous)
            if agent is not None and agent.has_room(conv.channel) and agent.qualifies(conv):
                yield agent.take(conv, now)
                free.changed(agent)
                continue
            if previous in on_shift_by_id and now - conv.waiting_since < hold:
                yield Wait(conversation_id=conv.id, reason=WAITING_FOR_PREVIOUS)
                continue
        chosen = free.best(conv)
        if chosen is None:
            yield Wait(conversation_id=conv.id, reason=why_not(conv))
            continue
        yield chosen.take(conv, now)
        free.changed(chosen)


def _held_callback(conv: WaitingConversation, now: datetime, tz: ZoneInfo) -> str | None:
    """Why a callback may not be offered now, whatever its priority; None if it may (or is no
    callback). A stored window that no longer parses reads as none (routing.callbacks)."""
    if conv.not_before is not None and conv.not_before > now:
        return CALLBACK_NOT_DUE
    if conv.call_window is not None:
        window = stored_window(conv.call_window, tz)
        if window is not None and not may_call(window, now):
            return OUTSIDE_CALL_WINDOW
    return None


def _previous(
    conv: WaitingConversation,
    now: datetime,
    within: timedelta,
    on_shift_by_id: dict[UserId, AgentLoad],
) -> UserId | None:
    if conv.previous_assignee is None or conv.previous_assignee in conv.declined_by:
        return None
    # Her chat's counselor is no one to wait for when she asked for a call (and her callback's
    # phone staff none when she writes): that channel is never theirs.
    info = on_shift_by_id.get(conv.previous_assignee)
    if info is not None and not takes_channel(
        conv.channel, counselor=info.counselor, phone_staff=info.phone_staff
    ):
        return None
    if conv.previous_at is not None and now - conv.previous_at > within:
        return None
    return conv.previous_assignee


class _FreePool:
    """Counselors with room, least loaded first, then idle longest, then lowest id: a heap, so
    a decision costs O(log n) instead of a scan of everyone. Entries go stale when a counselor
    takes a conversation (her key changes); they are dropped when they surface."""

    __slots__ = ("_heap", "_nobody")

    def __init__(self, agents: Iterable[_Agent]) -> None:
        self._heap = [_entry(a) for a in agents if a.load < a.capacity]
        heapq.heapify(self._heap)
        # Needs (channel, skill, team, language) a full scan found no one for. Within one
        # decide, loads only grow and what qualifies never changes, so no one will be found
        # later either: the next conversation with those needs waits without a scan.
        self._nobody: set[_Needs] = set()

    def best(self, conv: WaitingConversation) -> _Agent | None:
        """The first counselor in that order who has room on the channel and qualifies."""
        needs = None if conv.declined_by else (conv.channel, conv.skill, conv.team, conv.language)
        if needs in self._nobody:
            return None
        heap, found = self._heap, None
        passed: list[_Entry] = []
        while heap and len(passed) < _PATIENCE:
            entry = heap[0]
            agent = entry[3]
            if _stale(entry):
                heapq.heappop(heap)  # she took one since, or is full for good
            elif agent.has_room(conv.channel) and agent.qualifies(conv):
                found = agent
                break
            else:
                passed.append(heapq.heappop(heap))  # not for this one; maybe for the next
        if found is None and heap:
            # Many ahead of her do not qualify (a rare skill): one scan beats popping them all.
            found = self._scan(conv)
        if found is None and needs is not None:
            self._nobody.add(needs)
        for entry in passed:
            heapq.heappush(heap, entry)
        return found

    def _scan(self, conv: WaitingConversation) -> _Agent | None:
        # Stale entries pile up as counselors take work; the scan drops them, so the heap
        # stays about one entry per counselor with room.
        live = [entry for entry in self._heap if not _stale(entry)]
        if len(live) < len(self._heap):
            heapq.heapify(live)
            self._heap[:] = live
        best: _Entry | None = None
        channel = conv.channel
        for entry in live:
            # whole entries compare: ids are unique, so the agents themselves never are
            if best is not None and entry >= best:
                continue
            agent = entry[3]
            if agent.qualifies(conv) and agent.has_room(channel):
                best = entry
        return None if best is None else best[3]

    def changed(self, agent: _Agent) -> None:
        """She took a conversation: her place in the order moved."""
        if agent.load < agent.capacity:
            heapq.heappush(self._heap, _entry(agent))


_PATIENCE = 8  # counselors passed over before best() falls back to a scan
_Entry = tuple[int, datetime, int, "_Agent"]  # her load, idle since, id, herself
_Needs = tuple[ChannelKind, str | None, str | None, str | None]


def _stale(entry: _Entry) -> bool:
    agent = entry[3]
    return entry[0] != agent.load or entry[1] != agent.idle or agent.load >= agent.capacity


def _entry(agent: _Agent) -> _Entry:
    # user ids are unique, so two entries never compare their agents
    return (agent.load, agent.idle, agent.info.user_id, agent)


class _WhyNot:
    """Why a conversation waits. Whether anyone on duty qualifies depends only on what the
    conversation asks for, so the answer is kept per requirement: waits come in runs."""

    __slots__ = ("_known", "_on_duty")

    def __init__(self, on_duty: dict[UserId, _Agent]) -> None:
        self._on_duty = on_duty
        self._known: dict[tuple[bool, str | None, str | None, str | None], bool] = {}

    def __call__(self, conv: WaitingConversation) -> str:
        if not self._on_duty:
            return NO_COUNSELOR
        need = (conv.channel is ChannelKind.PHONE, conv.skill, conv.team, conv.language)
        anyone = None if conv.declined_by else self._known.get(need)
        if anyone is None:
            anyone = any(a.qualifies(conv) for a in self._on_duty.values())
            if not conv.declined_by:
                self._known[need] = anyone
        return ALL_BUSY if anyone else NO_ELIGIBLE
