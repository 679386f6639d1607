"""The outbox sender: claims due replies, hands each to its channel, records the outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from channels.base import Channel
from inbox.core.errors import ChannelError, StorageError
from inbox.core.model import OPT_OUT_CHANNELS, ChannelKind, ConversationId, OutboxItem
from inbox.resilience import Outages
from inbox.survey import SurveyDesk
from inbox.wakeup import woken
from storage.roles import OutboxStore

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
IDLE_RECHECK_S = 300.0  # only a safety net: new replies wake the sender directly
# Conversations whose replies are sent side by side (OutboxSender.send_due); each e-mail is an
# SMTP connection of its own, so this also bounds those open at once.
SENDING = 16
# The failure recorded for a reply to someone who opted out; the console words it by its prefix.
OPTED_OUT_ERROR = "opted_out: the recipient sent STOP"
BLOCKED_ERROR = "opted_out: the recipient blocked the LINE account"


def retry_delay_s(attempts: int, *, base_s: float, max_s: float) -> float:
    """Capped exponential backoff after the n-th failed attempt (1-based)."""
    return float(min(max_s, base_s * 2 ** max(0, attempts - 1)))


class OutboxSender:
    def __init__(
        self,
        store: OutboxStore,
        channels: Mapping[ChannelKind, Channel],
        *,
        clock: Clock,
        batch: int,
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        lease_s: float,
        send_timeout_s: float,
        on_change: Callable[[], None] = lambda: None,
        outages: Outages | None = None,
        surveys: SurveyDesk | None = None,
    ) -> None:
        self._store = store
        self._surveys = surveys  # gives the survey's question its token as it is sent
        self._outages = outages or Outages()
        self._channels = channels
        self._clock = clock
        self._batch = batch
        self._max_attempts = max_attempts
        self._base_s = backoff_base_s
        self._max_s = backoff_max_s
        self._lease_s = lease_s
        self._send_timeout_s = send_timeout_s
        self._on_change = on_change
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled; sleeps until the next due retry or until woken."""
        while True:
            self._wake.clear()
            # A failure mid-round leaves its claims to lapse; they are sent on a later round.
            sent = await self._outages.retrying("outbox", self.send_due)
            if sent:
                continue
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        due = await self._outages.retrying("outbox", self._store.next_outbox_due)
        wait_s = IDLE_RECHECK_S
        if due is not None:
            wait_s = max(0.0, min(wait_s, (due - self._clock()).total_seconds()))
        await woken(self._wake, wait_s)

    async def send_due(self) -> int:
        """One round: claim what is due and try each once; return how many were tried.

        One conversation's replies go one after another, in the order she is to read them, and
        up to SENDING conversations' side by side: each reply is a send and a recorded outcome,
        a few round trips to the database, and one reply after another fell behind on a loaded
        PostgreSQL server (her reply came 5 s late at 1,000 msg/s). A failure stops its
        conversation's replies only; the others finish, so that nothing sent is left
        unrecorded, and then it is raised (what it stopped lapses and is sent again, in
        order)."""
        items = await self._store.claim_outbox(
            now=self._clock(), limit=self._batch, lease_s=self._lease_s
        )
        by_conversation: dict[ConversationId, list[OutboxItem]] = {}
        for item in items:
            by_conversation.setdefault(item.message.conversation_id, []).append(item)
        sending = asyncio.Semaphore(SENDING)

        async def in_order(replies: list[OutboxItem]) -> None:
            async with sending:
                for item in replies:
                    await self._send_one(item)

        outcomes = await asyncio.gather(
            *(in_order(replies) for replies in by_conversation.values()), return_exceptions=True
        )
        if items:
            self._on_change()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(items)

    async def _send_one(self, item: OutboxItem) -> None:
        msg = item.message if self._surveys is None else self._surveys.ready(item.message)
        fields: dict[str, object] = {
            "outbox_id": item.outbox_id,
            "message_id": msg.message_id,
            "channel": msg.channel.value,
            "attempt": item.attempts,
        }
        if await self._opted_out(item):
            # Nothing is ever sent to her after STOP, whenever the reply was written: failed
            # for good, and the counselor sees why (the channel is not even asked).
            error = BLOCKED_ERROR if msg.channel is ChannelKind.LINE else OPTED_OUT_ERROR
            await self._record_failure(item, error, retryable=False, fields=fields)
            return
        channel = self._channels.get(msg.channel)
        try:
            if channel is None:
                raise ChannelError(
                    "channel is not configured", channel=msg.channel, retryable=False
                )
            async with asyncio.timeout(self._send_timeout_s):
                provider_id = await channel.send(msg)
        except (ChannelError, TimeoutError) as exc:
            error = str(exc) or f"no answer within {self._send_timeout_s} s"
            retryable = isinstance(exc, TimeoutError) or exc.retryable
            opted_out = isinstance(exc, ChannelError) and exc.opted_out
            await self._record_failure(
                item, error, retryable=retryable, fields=fields, opted_out=opted_out
            )
            return
        try:
            await self._store.mark_sent(
                item.outbox_id,
                provider_id=provider_id,
                now=self._clock(),
                channel=msg.channel,
                survey=msg.survey is not None,
            )
        except StorageError:
            # Sent but not recorded: the claim lapses and it is sent again. Provider-side
            # idempotency keys (a LINE push's retry key, Message-ID) absorb the repeat; a LINE
            # reply cannot carry one, so she may get that one twice (rare: a database failure
            # in between).
            log.error(
                "sent, not recorded",
                exc_info=True,
                extra={"action": "outbox_record_failed", **fields},
            )
            return
        log.info("reply sent", extra={"action": "outbox_sent", **fields})

    async def _opted_out(self, item: OutboxItem) -> bool:
        """Her opt-out as it is now: the claim read it once for its whole batch, and a STOP
        (or a LINE unfollow) may have been stored while the items before this one were being
        sent. One cheap read per SMS or LINE reply, the channels she can refuse."""
        if item.opted_out:
            return True
        if item.message.channel not in OPT_OUT_CHANNELS:
            return False
        return await self._store.recipient_opted_out(item.message.conversation_id)

    async def _record_failure(
        self,
        item: OutboxItem,
        error: str,
        *,
        retryable: bool,
        fields: dict[str, object],
        opted_out: bool = False,
    ) -> None:
        now = self._clock()
        if retryable and item.attempts < self._max_attempts and not opted_out:
            delay = retry_delay_s(item.attempts, base_s=self._base_s, max_s=self._max_s)
            await self._store.mark_retry(
                item.outbox_id, error=error, retry_at=now + timedelta(seconds=delay), now=now
            )
            log.warning(
                "send failed, will retry",
                extra={"action": "outbox_retry", "retry_in_s": delay, **fields},
            )
        else:
            await self._store.mark_failed(item.outbox_id, error=error, now=now, opted_out=opted_out)
            log.error("send failed for good", extra={"action": "outbox_failed", **fields})
