"""The intake: ONE bounded queue from every channel to the database, drained by group commit.

An adapter hands over a normalized message and gets back "stored as X" only after the
transaction that holds it has committed; that answer is what it acknowledges its source with.

The queue is kept in lanes, as many as the store has writers for (IntakeStore.intake_writers:
one on SQLite, which has one writer connection; more on PostgreSQL, whose batches took 8 round
trips each and kept one writer busy all the time at 500 msg/s). A sender's messages always take
the same lane, so they are stored in the order they came; lanes commit side by side as two
instances' writers do (the store is safe for that: storage.postgres.intake).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from inbox.core.errors import IntakeBusy, InvalidData, StorageError, Unstorable, error_summary
from inbox.core.model import (
    NEW_SENDER,
    NO_LABELS,
    ChannelKind,
    ContactFacts,
    InboundMessage,
    IntakeLabels,
    StoredInbound,
)
from inbox.identity import identity_hash
from storage.base import IntakeRouter, IntakeStore, KeyedInbound

log = logging.getLogger(__name__)


Outcome = StoredInbound | Unstorable  # what became of one message of a delivery


@dataclass(slots=True)
class Delivery:
    """What a source handed over in one go (a chat message, an IMAP fetch, a webhook's events):
    one future for all of it, resolved when the last of its messages is committed or refused."""

    future: asyncio.Future[list[Outcome]]
    answers: list[Outcome | None]
    left: int = field(init=False)

    def __post_init__(self) -> None:
        self.left = len(self.answers)

    def stored(self, index: int, answer: Outcome) -> None:
        """`answer` is where the message is stored, or why the store refused it."""
        self.answers[index] = answer
        self.left -= 1
        if self.left == 0 and not self.future.done():
            self.future.set_result([a for a in self.answers if a is not None])

    def failed(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


Pending = tuple[KeyedInbound, Delivery, int]  # a message, its delivery, its place in it
Stored = tuple[KeyedInbound, StoredInbound]  # what was handed in, and where it is stored


class Labeler(Protocol):
    """Rules and triage (routing.rules.Labeler): pure, given the message and what the store
    knows of its sender; `needs_facts` says whether that is worth a look-up."""

    @property
    def needs_facts(self) -> bool: ...

    def __call__(self, msg: InboundMessage, facts: ContactFacts, /) -> IntakeLabels: ...


class _NoLabels:
    needs_facts = False

    def __call__(self, msg: InboundMessage, facts: ContactFacts, /) -> IntakeLabels:
        return NO_LABELS


NO_RULES: Labeler = _NoLabels()


class Intake:
    """Implements channels.base.Intake. Start `run_writer()` in a TaskGroup before submitting."""

    def __init__(
        self,
        store: IntakeStore,
        identity_key: bytes,
        *,
        queue_max: int,
        batch_max: int,
        ack_timeout_s: float,
        on_stored: Callable[[Sequence[Stored]], None] = lambda _: None,
        label: Labeler = NO_RULES,
        router: IntakeRouter | None = None,
        writers: int = 1,
    ) -> None:
        self._store = store
        self._router = router  # routes the conversations a batch opens in its transaction
        self._label = label
        self._needs_facts = label.needs_facts  # asked once: rules do not change while running
        self._key = identity_key
        # `queue_max` for each lane: a lane is a writer's queue, and one sender's flood fills
        # only hers
        self._lanes: list[asyncio.Queue[Pending]] = [
            asyncio.Queue(maxsize=queue_max) for _ in range(max(1, writers))
        ]
        self._batch_max = batch_max
        self._ack_timeout_s = ack_timeout_s
        self._on_stored = on_stored
        self._closed = False
        self._failing = False  # the last batch failed for the database's sake (logged once)

    @property
    def depth(self) -> int:
        return sum(lane.qsize() for lane in self._lanes)

    def lane_of(self, channel: ChannelKind, identity: str) -> int:
        """A sender's lane (by her identity hash): always the same one for her, so her messages
        keep their order."""
        return hash((channel, identity)) % len(self._lanes)

    def _lane(self, item: KeyedInbound) -> asyncio.Queue[Pending]:
        return self._lanes[self.lane_of(item.message.channel, item.identity_hash)]

    def identity_of(self, channel: ChannelKind, sender: str) -> str:
        return identity_hash(self._key, channel, sender)

    def close(self) -> None:
        """Refuse new messages; what is queued is still stored (see `drain`)."""
        self._closed = True

    async def submit(self, msg: InboundMessage) -> StoredInbound:
        """Wait for room (backpressure for pull channels), then for the commit."""
        return (await self.submit_many([msg]))[0]

    async def offer(self, msg: InboundMessage) -> StoredInbound:
        """Like submit, but a full queue raises IntakeBusy at once (HTTP intake answers 503)."""
        return (await self.offer_many([msg]))[0]

    async def submit_many(self, msgs: Sequence[InboundMessage]) -> list[StoredInbound]:
        """Several messages from one source at once, answered in order after their commits;
        waits for room message by message, so a delivery larger than the queue still passes.
        Raises Unstorable when the store refused one of them (the others are stored)."""
        return _all_stored(await self.submit_each(msgs))

    async def submit_each(self, msgs: Sequence[InboundMessage]) -> list[Outcome]:
        """submit_many, but a message the store refuses is answered with its Unstorable error
        in its place, so the source can tell which of its messages were kept."""
        delivery = self._delivery(len(msgs))
        try:
            for index, msg in enumerate(msgs):
                item = self._keyed(msg)
                await self._lane(item).put((item, delivery, index))
        except BaseException:
            # Cancelled while waiting for room: what is queued is still stored (a redelivery is
            # then a duplicate), but nobody awaits the answer, so the writer must not set one.
            delivery.future.cancel()
            raise
        return await self._wait(delivery)

    async def offer_many(self, msgs: Sequence[InboundMessage]) -> list[StoredInbound]:
        """All or none: IntakeBusy at once unless the queue has room for every message."""
        delivery = self._delivery(len(msgs))
        items = [(self._lane(item), item) for item in map(self._keyed, msgs)]
        wanted = Counter(lane for lane, _ in items)  # a Queue hashes by identity
        if any(lane.maxsize - lane.qsize() < n for lane, n in wanted.items()):
            raise IntakeBusy("the intake queue is full; retry shortly")
        for index, (lane, item) in enumerate(items):
            lane.put_nowait((item, delivery, index))
        return _all_stored(await self._wait(delivery))

    def _keyed(self, msg: InboundMessage) -> KeyedInbound:
        # Rules and triage label a message before it is stored, so that the labels go into the
        # same transaction: an urgent message is never stored unmarked. Without rules on stored
        # facts that happens here, while the writer is busy with the batch before; otherwise
        # in the writer (see _labeled), after one look-up of the senders per batch.
        identity = self.identity_of(msg.channel, msg.sender)
        if self._needs_facts:
            return KeyedInbound(message=msg, identity_hash=identity)
        return KeyedInbound(
            message=msg, identity_hash=identity, labels=self._label(msg, NEW_SENDER)
        )

    async def _labeled(self, items: list[KeyedInbound]) -> list[KeyedInbound]:
        if not self._needs_facts:
            return items  # labeled by _keyed
        senders = list(dict.fromkeys((i.message.channel, i.identity_hash) for i in items))
        try:
            facts = await self._store.contact_facts(senders)
        except StorageError:
            raise  # the batch fails as a whole, and its sources retry
        except Exception:
            # An unreadable row must not stop the writer (and with it every channel), nor
            # lose the batch: its messages are labeled as if from new senders.
            log.error("sender facts unreadable", exc_info=True, extra={"action": "facts_failed"})
            facts = {}
        return [
            KeyedInbound(
                message=i.message,
                identity_hash=i.identity_hash,
                labels=self._label(
                    i.message, facts.get((i.message.channel, i.identity_hash), NEW_SENDER)
                ),
            )
            for i in items
        ]

    def _delivery(self, size: int) -> Delivery:
        if self._closed:
            raise IntakeBusy("the server is shutting down; retry shortly")
        if size == 0:
            raise ValueError("a delivery holds at least one message")
        future = asyncio.get_running_loop().create_future()
        return Delivery(future=future, answers=[None] * size)

    async def _wait(self, delivery: Delivery) -> list[Outcome]:
        try:
            # wait_for cancels the future on timeout; the writer then skips it. The messages may
            # still be stored; the source's retry is then recognized as a duplicate.
            return await asyncio.wait_for(delivery.future, self._ack_timeout_s)
        except TimeoutError:
            raise IntakeBusy("storing took too long; retry shortly") from None

    async def drain(self, timeout_s: float) -> int:
        """Wait until everything queued is stored; return how many were left at the deadline."""
        try:
            async with asyncio.timeout(timeout_s):
                for lane in self._lanes:
                    await lane.join()
        except TimeoutError:
            log.warning(
                "intake not drained",
                extra={"action": "intake_drain_timeout", "left": self.depth},
            )
        return self.depth

    async def run_writer(self) -> None:
        """Store whatever waits in each lane in one transaction per round, until cancelled."""
        async with asyncio.TaskGroup() as tg:
            for lane in self._lanes:
                tg.create_task(self._write_lane(lane), name="intake-lane")

    async def _write_lane(self, lane: asyncio.Queue[Pending]) -> None:
        """No message and no bug stops a lane: its senders' channels wait on it."""
        while True:
            batch = [await lane.get()]
            while len(batch) < self._batch_max:
                try:
                    batch.append(lane.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._write(batch)
            except Exception as exc:
                # Past the store (the on_stored callback): what is unanswered is told to retry.
                log.error(
                    "intake writer failed",
                    exc_info=exc,  # the formatter leaves out messages that may quote a body
                    extra={"action": "intake_writer_failed"},
                )
                for _, delivery, _ in batch:
                    delivery.failed(IntakeBusy("the message could not be stored; retry shortly"))
            finally:
                for _ in batch:
                    lane.task_done()

    async def _write(self, batch: list[Pending]) -> None:
        """Store the batch in one transaction. When the database fails (unreachable, read-only,
        full, its writers kept colliding), the batch fails as a whole and its sources retry.
        When it refuses a value (InvalidData), or code fails on some message (a bug), the
        batch is stored in halves, down to single messages, so the others are kept and only
        the one that fails alone is refused."""
        try:
            items = await self._labeled([item for item, _, _ in batch])
            answers = await self._store.save_inbound_batch(items, router=self._router)
        except InvalidData as exc:
            await self._isolate(batch, exc)
            return
        except StorageError as exc:
            # Logged once while the database stays away, not once per batch of the outage.
            log.log(
                logging.DEBUG if self._failing else logging.ERROR,
                "batch not stored",
                exc_info=exc,
                extra={"action": "intake_batch_failed", "size": len(batch)},
            )
            self._failing = True
            for _, delivery, _ in batch:
                # Not the database's error: the answer goes back to the source (a consulter's
                # web chat); the log above has it.
                delivery.failed(IntakeBusy("could not store the message; retry shortly"))
            return
        except Exception as exc:  # noqa: BLE001 - isolated below, logged without values
            await self._isolate(batch, exc)
            return
        if self._failing:
            self._failing = False
            log.info("batches stored again", extra={"action": "intake_recovered"})
        self._answer(batch, items, answers)

    async def _isolate(self, batch: list[Pending], exc: Exception) -> None:
        if len(batch) > 1:
            log.warning(
                "batch refused; storing it in halves",
                extra={
                    "action": "intake_batch_split",
                    "size": len(batch),
                    "error": error_summary(exc),
                },
            )
            half = len(batch) // 2
            await self._write(batch[:half])
            await self._write(batch[half:])
            return
        ((item, delivery, index),) = batch
        log.error(
            "message refused by the store",
            extra={
                "action": "intake_message_refused",
                "channel": item.message.channel.value,
                "error": error_summary(exc),
            },
            exc_info=exc,
        )
        delivery.stored(index, Unstorable())

    def _answer(
        self, batch: list[Pending], items: list[KeyedInbound], answers: list[StoredInbound]
    ) -> None:
        for (_, delivery, index), answer in zip(batch, answers, strict=True):
            delivery.stored(index, answer)
        fresh = [a for a in answers if not a.duplicate]
        log.debug(
            "batch stored",
            extra={"action": "intake_batch_stored", "size": len(batch), "new": len(fresh)},
        )
        if given := len({a.conversation_id for a in fresh if a.assigned_to is not None}):
            # as the router logs its rounds' assignments
            log.info(
                "assigned",
                extra={"action": "conversations_assigned", "count": given, "by": "intake"},
            )
        self._on_stored(list(zip(items, answers, strict=True)))


def _all_stored(outcomes: list[Outcome]) -> list[StoredInbound]:
    for outcome in outcomes:
        if isinstance(outcome, Unstorable):
            raise outcome
    return [o for o in outcomes if isinstance(o, StoredInbound)]
