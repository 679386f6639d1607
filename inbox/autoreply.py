"""Automatic replies: after hours, the rules' templates, the waiting-line message, and the
on-call message.

Each kind goes to a conversation at most once, ever: the store's claim is the guard, so a
restart or a second instance never sends one twice. What is due waits in memory only between
the intake's commit and the next pass; at start (`recover`) the replies a stopped process left
unqueued are derived again from the database. A reply is never sent late: an
after-hours reply whose next opening has passed is dropped. The texts come from
routing.replies (pure); this module only decides when, and hands them to the store and the
outbox.

An urgent conversation that the person on call is handed (inbox.router) is told a counselor is
reading it now (routing.replies.ON_CALL), not "we will reply from 9:00" nor her place in line:
those would be untrue, and the on-call message claims them spent. Which conversations are due
it is read from the database (Store.unsent_on_call: the router's hand-off event, no on-call
reply yet), with her language from her own message, so a restart or the instance whose router
handed it over sends it in her language. Since the router hands it over after the intake's
commit, the after-hours reply of an urgent arrival waits while someone is on call, until a
router round has decided on it: a round that saw it and did not hand it over releases it at
once; one that did not see it (a paused channel, a later page) starts the clock, and HOLD
after that first round it goes out anyway. At start, a conversation someone already has (an
assignee, or a hand-off to the person on call) gets no after-hours reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from inbox.core.decisions import Assign, Decision, RoutingSnapshot
from inbox.core.errors import DatabaseUnavailable, StorageError
from inbox.core.model import ChannelKind, ConversationId
from inbox.core.shifts import DeskClosed, counselors_on_duty, never_closed
from inbox.pipeline import Stored
from inbox.resilience import Outages
from routing.assign import ALL_BUSY, NO_COUNSELOR, NO_ELIGIBLE
from routing.hours import ServiceHours, is_open, next_opening
from routing.replies import (
    AFTER_HOURS,
    ON_CALL,
    QUEUE_ACK,
    SAFETY,
    AutoReply,
    ReplyTexts,
    after_hours_reply,
    on_call_reply,
    safety_reply,
    template_reply,
    waiting_line_reply,
)
from routing.rules import written_language
from storage.roles import PolicyStore

log = logging.getLogger(__name__)
# Waits that mean "every counselor is taken", where telling her the line is honest and useful.
_BUSY = frozenset({ALL_BUSY, NO_COUNSELOR, NO_ELIGIBLE})
# How far back `recover` looks: longer than the longest closure (12/29-1/3 and a weekend).
RECOVERY_WINDOW = timedelta(days=10)
# The longest an urgent arrival's after-hours reply waits for the router's on-call hand-off,
# from the first router round after it began to wait that did not see it: a round runs at once
# after the intake and at least every minute (inbox.router.SWEEP_MAX_S).
HOLD = timedelta(seconds=150)
# The on-call message says a counselor is reading now: a hand-off older than this (a process
# stopped for longer) gets none at start; she has a person, who answers her.
ON_CALL_FRESH = timedelta(hours=1)


def her_language(language: str | None, body: str) -> str | None:
    """The language to answer her urgent message in: the rules' routing language, else the one
    she wrote it in (the safety and on-call messages)."""
    return language or written_language(body)


@dataclass(slots=True)
class _Arrival:
    channel: ChannelKind
    received_at: datetime
    templates: tuple[str, ...]
    # The first urgent category triage found in her messages, and the language she wrote it
    # in: the safety message goes out at once, whatever the hours (routing.replies.SAFETY).
    safety: tuple[str, str | None] | None = None


class AutoReplier:
    """Feed it `stored` (intake commits) and `routed` (router rounds); run `run()` in the
    TaskGroup. Work waits in a dict keyed by conversation, so a burst from one consulter is one
    entry, and memory is bounded by the open conversations."""

    def __init__(
        self,
        store: PolicyStore,
        *,
        texts: ReplyTexts,
        hours_for: Callable[[ChannelKind], ServiceHours],
        clock: Callable[[], datetime],
        queue_ack: bool = True,
        on_queued: Callable[[], None] = lambda: None,
        outages: Outages | None = None,
        closed_days: DeskClosed = never_closed,
        on_call: Callable[[datetime], bool] = lambda _: False,
        urgent_priority: int = 100,
    ) -> None:
        """`on_call`: whether the rota has someone on call at an instant (the router's own
        answer); `urgent_priority`: from which priority a conversation is urgent."""
        self._closed_days = closed_days
        self._on_call = on_call if texts.on_call else lambda _: False
        self._urgent = urgent_priority
        # Urgent conversations the person on call may be handed, and since the first router
        # round after they began to wait (None: no round yet); their after-hours part.
        self._held: dict[ConversationId, datetime | None] = {}
        self._held_replies: dict[ConversationId, _Arrival] = {}
        self._on_call_due = False  # a hand-off happened: look up who still needs the text
        self._outages = outages or Outages()
        self._store = store
        self._texts = texts
        self._hours_for = hours_for
        self._clock = clock
        self._queue_ack = queue_ack and bool(texts.queue_ack)
        self._on_queued = on_queued
        self._arrivals: dict[ConversationId, _Arrival] = {}
        self._in_line: dict[ConversationId, int] = {}  # her place in line
        # Waiting conversations whose waiting-line message was claimed (sent, or found sent by
        # a restart or another instance): not claimed again at every round they still wait in
        # (a full desk's page of 1,000 was 1,000 write transactions a round). Kept to those
        # the latest round saw waiting.
        self._acked: set[ConversationId] = set()
        self._counselors = 0
        self._wake = asyncio.Event()

    def stored(self, pairs: Sequence[Stored]) -> None:
        for item, answer in pairs:
            if answer.duplicate or item.labels.sms_opt is not None:
                continue  # a STOP / START keyword is answered by nothing automatic
            msg = item.message
            known = self._arrivals.get(answer.conversation_id)
            templates = item.labels.auto_replies
            safety = self._safety_due(item.labels.alert, item.labels.language, msg.body)
            if known is not None:  # the earliest arrival decides "after hours"
                known.templates += tuple(t for t in templates if t not in known.templates)
                known.safety = known.safety or safety
                continue
            self._arrivals[answer.conversation_id] = _Arrival(
                msg.channel, msg.received_at, templates, safety
            )
        for item, answer in pairs:
            if not answer.duplicate and self._may_go_on_call(item.labels.priority, answer.queued):
                self._held.setdefault(answer.conversation_id, None)
        if self._arrivals:
            self._wake.set()

    def _may_go_on_call(self, priority: int, waiting: bool) -> bool:
        """Urgent, left waiting, and someone is on call now: the router's next round may hand
        it to her (routing.rota.for_on_call). A guess, bounded by the next rounds."""
        return waiting and priority >= self._urgent and self._on_call(self._clock())

    def _settle_held(
        self, decisions: Sequence[Decision], given: set[ConversationId], now: datetime
    ) -> None:
        """After a round: a held conversation it handed to the person on call waits for the
        on-call message instead; one it saw and did not hand over (a counselor on duty took it,
        or the hand-off failed) has its after-hours reply due again at once; one it did not see
        waits HOLD from the first round after it began to wait."""
        if not self._held:
            return
        decided = {d.conversation_id for d in decisions}
        for conv_id, since in list(self._held.items()):
            if conv_id in given:
                del self._held[conv_id]
                self._held_replies.pop(conv_id, None)
                continue
            if since is None:
                self._held[conv_id] = since = now
            if conv_id in decided or now - since >= HOLD:
                del self._held[conv_id]
                stashed = self._held_replies.pop(conv_id, None)
                if stashed is not None:
                    self._arrivals.setdefault(conv_id, stashed)
                    self._wake.set()

    def _safety_due(
        self, alert: str | None, language: str | None, body: str
    ) -> tuple[str, str | None] | None:
        """(category, her language) when triage marked the message urgent with a category
        that has a safety message; her language is the rules' routing language, else the
        language she wrote in. Only urgent messages pay for the language check."""
        if alert is None or dict(self._texts.safety).get(alert) is None:
            return None
        return alert, her_language(language, body)

    def routed(
        self,
        snapshot: RoutingSnapshot,
        decisions: Sequence[Decision],
        given: Sequence[ConversationId] = (),
    ) -> None:
        """After a router round (inbox.router.Router's on_round): those it `given` to the
        person on call are told a counselor is reading now; the others, her place among those
        still waiting because all are busy."""
        now = self._clock()
        handing = set(given) if self._texts.on_call else set()
        if handing:
            self._on_call_due = True
            self._wake.set()
        self._settle_held(decisions, handing, now)
        if not self._queue_ack:
            return
        channel_of = {w.id: w.channel for w in snapshot.waiting}
        self._acked.intersection_update(channel_of)
        # The same answer for every conversation of a channel: worked out once per channel,
        # not once per waiting conversation (it was half the main thread with 200 waiting).
        open_now: dict[ChannelKind, bool] = {}
        position = 0
        for d in decisions:
            if isinstance(d, Assign) or d.reason not in _BUSY or d.conversation_id in handing:
                continue
            channel = channel_of[d.conversation_id]
            if channel is ChannelKind.PHONE:
                # A callback is a call to make, in phone staff's own line: nothing is ever
                # written to her number by itself (she may not be safe to receive it).
                continue
            position += 1
            if channel not in open_now:
                open_now[channel] = is_open(self._hours_for(channel), now)
            if open_now[channel] and d.conversation_id not in self._acked:
                self._in_line.setdefault(d.conversation_id, position)
        if self._in_line:
            # counted only when someone waits: most rounds assign everyone
            self._counselors = counselors_on_duty(snapshot.agents, now, closed=self._closed_days)
            self._wake.set()

    async def run(self) -> None:
        await self._outages.retrying("auto-replies", self.recover)
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._outages.retrying("auto-replies", self.send_pending)

    async def recover(self) -> int:
        """At start: queue the after-hours replies, the rules' templates and the safety messages
        that a stopped process had not queued yet (it keeps them in memory after the commit);
        return how many were queued. Those sent already are skipped by their claim."""
        now = self._clock()
        self._on_call_due = bool(self._texts.on_call)  # hand-offs whose message was not queued
        found = await self._store.unreplied_arrivals(AFTER_HOURS, since=now - RECOVERY_WINDOW)
        for last in found:
            if last.taken:  # a person has her, or the on-call message stands in: not "closed"
                continue
            # The latest message: a reply was due for it if the channel was closed then (and
            # still is; see _after_hours). Earlier ones had their pass before it.
            self._arrivals.setdefault(
                last.conversation_id, _Arrival(last.channel, last.received_at, ())
            )
            # Urgent and waiting while someone is on call: held for the router, as at intake.
            if self._may_go_on_call(last.priority, True):
                self._held.setdefault(last.conversation_id, None)
        for due in await self._store.due_rule_replies(since=now - RECOVERY_WINDOW):
            arrival = self._arrivals.setdefault(
                due.conversation_id, _Arrival(due.channel, due.received_at, ())
            )
            arrival.templates += tuple(t for t in due.templates if t not in arrival.templates)
        for urgent in await self._store.unsent_safety(SAFETY, since=now - RECOVERY_WINDOW):
            arrival = self._arrivals.setdefault(
                urgent.conversation_id, _Arrival(urgent.channel, urgent.received_at, ())
            )
            arrival.safety = arrival.safety or self._safety_due(urgent.category, None, urgent.body)
        if found:
            log.info(
                "conversations to check for a missed after-hours reply",
                extra={"action": "auto_reply_recovery", "count": len(found)},
            )
        return await self.send_pending()

    async def send_pending(self) -> int:
        """Queue every reply due now; return how many were queued. When the database fails,
        what was not queued yet waits for the next pass and the StorageError is raised (the
        claim makes queuing again harmless)."""
        arrivals, self._arrivals = self._arrivals, {}
        in_line, self._in_line = self._in_line, {}
        on_call_due, self._on_call_due = self._on_call_due, False
        try:
            handed = await self._handed_to_on_call() if on_call_due else {}
            queued = await self._queue_replies(arrivals, in_line, handed)
        except StorageError:  # any: Outages retries every StorageError, so keep what is due
            self._keep(arrivals, in_line)
            self._on_call_due = self._on_call_due or on_call_due
            raise
        if queued:
            self._on_queued()
        return queued

    async def _handed_to_on_call(self) -> dict[ConversationId, str | None]:
        """The conversations handed to the person on call that still need the on-call message,
        from the database (any instance's hand-off), each with her language."""
        found = await self._store.unsent_on_call(ON_CALL, since=self._clock() - ON_CALL_FRESH)
        return {h.conversation_id: her_language(h.language, h.body) for h in found}

    def _keep(
        self, arrivals: dict[ConversationId, _Arrival], in_line: dict[ConversationId, int]
    ) -> None:
        for conv_id, arrival in arrivals.items():
            later = self._arrivals.get(conv_id)
            if later is not None:  # the earlier arrival decides; templates add up
                arrival.templates += tuple(t for t in later.templates if t not in arrival.templates)
                arrival.safety = arrival.safety or later.safety
            self._arrivals[conv_id] = arrival
        for conv_id, position in in_line.items():
            self._in_line.setdefault(conv_id, position)

    def _after_hours(self, arrival: _Arrival, now: datetime) -> AutoReply | None:
        hours = self._hours_for(arrival.channel)
        reply = after_hours_reply(self._texts, hours, arrival.received_at)
        opening = None if reply is None else next_opening(hours, arrival.received_at)
        if opening is not None and opening <= now:
            return None  # the channel has opened since: "we are closed" would be wrong now
        return reply

    def _arrival_replies(
        self, arrivals: dict[ConversationId, _Arrival], handed: dict[ConversationId, str | None]
    ) -> list[tuple[ConversationId, AutoReply]]:
        """In the order she should read them: the safety message, the on-call message, then
        after hours (not to one handed to the person on call; held while she may be) and the
        rules' templates."""
        now = self._clock()
        replies: list[tuple[ConversationId, AutoReply]] = []
        for conv_id, arrival in arrivals.items():
            if arrival.safety is not None:  # first: what she needs most, day or night
                found = safety_reply(self._texts, *arrival.safety)
                if found is not None:
                    replies.append((conv_id, found))
        for conv_id, language in handed.items():  # then, before any "we are closed"
            if (on_call := on_call_reply(self._texts, language)) is not None:
                replies.append((conv_id, on_call))
        for conv_id, arrival in arrivals.items():
            reply = None if conv_id in handed else self._after_hours(arrival, now)
            if reply is not None and conv_id in self._held:
                self._held_replies[conv_id] = _Arrival(arrival.channel, arrival.received_at, ())
            elif reply is not None:
                replies.append((conv_id, reply))
            for name in arrival.templates:
                if (template := template_reply(self._texts, name)) is not None:
                    replies.append((conv_id, template))
        return replies

    async def _queue_replies(
        self,
        arrivals: dict[ConversationId, _Arrival],
        in_line: dict[ConversationId, int],
        handed: dict[ConversationId, str | None],
    ) -> int:
        replies = self._arrival_replies(arrivals, handed)
        if in_line:
            handling_s = await self._store.recent_handling_s()
            for conv_id, position in in_line.items():
                ack = waiting_line_reply(
                    self._texts, position, handling_s=handling_s, counselors=self._counselors
                )
                if ack is not None:
                    replies.append((conv_id, ack))
        queued = 0
        for conv_id, reply in replies:
            queued += await self._claim(conv_id, reply)
            if reply.kind == QUEUE_ACK:
                self._acked.add(conv_id)  # claimed or refused: at most once, ever, anyway
        return queued

    async def _claim(self, conv_id: ConversationId, reply: AutoReply) -> int:
        try:
            message = await self._store.claim_auto_reply(
                conv_id,
                reply.kind,
                body=reply.body,
                discreet_body=reply.discreet_body,
                now=self._clock(),
                by_language=reply.by_language,
                supersedes=reply.supersedes,
            )
        except DatabaseUnavailable:
            raise  # retried by send_pending's caller once the database is back
        except StorageError:
            # Not retried: a consulter is better served by no auto-reply than by a late one.
            log.error(
                "auto-reply not queued",
                exc_info=True,
                extra={"action": "auto_reply_failed", "conversation_id": conv_id},
            )
            return 0
        if message is None:
            return 0
        log.info(
            "auto-reply queued",
            extra={"action": "auto_reply_queued", "conversation_id": conv_id, "kind": reply.kind},
        )
        return 1
