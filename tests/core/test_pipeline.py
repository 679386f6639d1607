"""The intake queue: group commit, ack after commit, backpressure, drain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from inbox.core.errors import IntakeBusy
from inbox.core.model import ChannelKind, StoredInbound
from inbox.pipeline import Intake, Stored
from inbox.router import Router
from routing.hours import TOKYO
from routing.rules import Rule, UrgentTriage, labeler
from storage.base import IntakeRouter, KeyedInbound
from storage.sqlite.store import SqliteStore
from tests.factories import at, inbound, new_user

KEY = b"k" * 32


class CountingStore(SqliteStore):
    """The real store, recording the size of each committed batch."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batches: list[int] = []

    async def save_inbound_batch(
        self, items: Sequence[KeyedInbound], *, router: IntakeRouter | None = None
    ) -> list[StoredInbound]:
        answers = await super().save_inbound_batch(items, router=router)
        self.batches.append(len(items))
        return answers


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    async with CountingStore(tmp_path / "inbox.db") as s:
        await s.migrate()
        yield s


async def test_many_messages_share_few_commits(store: CountingStore) -> None:
    intake = Intake(store, KEY, queue_max=1000, batch_max=100, ack_timeout_s=10)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        answers = await asyncio.gather(
            *(intake.submit(inbound(f"s{i % 50}").message) for i in range(300))
        )
        writer.cancel()
    assert len({a.message_id for a in answers}) == 300
    assert len({a.conversation_id for a in answers}) == 50
    assert sum(store.batches) == 300
    assert len(store.batches) < 30  # group commit, not one transaction per message
    assert max(store.batches) <= 100


class HeldStore(CountingStore):
    """Holds every batch that carries `held_sender`'s message until `release` is set."""

    held_sender = ""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def save_inbound_batch(
        self, items: Sequence[KeyedInbound], *, router: IntakeRouter | None = None
    ) -> list[StoredInbound]:
        if any(i.message.sender == self.held_sender for i in items):
            self.holding.set()
            await self.release.wait()
        return await super().save_inbound_batch(items, router=router)


def senders_in_lanes(intake: Intake, lanes: int) -> list[str]:
    """A sender for each lane, found by trying names."""
    found: dict[int, str] = {}
    for i in range(1000):
        sender = f"lane-sender-{i}"
        lane = intake.lane_of(ChannelKind.WEBCHAT, intake.identity_of(ChannelKind.WEBCHAT, sender))
        found.setdefault(lane, sender)
        if len(found) == lanes:
            return [found[n] for n in range(lanes)]
    raise AssertionError("no sender for some lane")


async def test_lanes_commit_side_by_side_and_keep_each_senders_order(tmp_path: Path) -> None:
    """With two writers (PostgreSQL's), a batch held up in one lane holds up nobody in the
    other; the held sender's later messages wait behind hers, and are stored in order."""
    async with HeldStore(tmp_path / "lanes.db") as store:
        await store.migrate()
        intake = Intake(store, KEY, queue_max=100, batch_max=10, ack_timeout_s=10, writers=2)
        slow, quick = senders_in_lanes(intake, 2)
        store.held_sender = slow
        async with asyncio.TaskGroup() as tg:
            writer = tg.create_task(intake.run_writer())
            first = tg.create_task(intake.offer(inbound(slow, channel=ChannelKind.WEBCHAT).message))
            await store.holding.wait()
            later = [
                tg.create_task(intake.offer(inbound(slow, channel=ChannelKind.WEBCHAT).message))
                for _ in range(5)
            ]
            other = await intake.offer(inbound(quick, channel=ChannelKind.WEBCHAT).message)
            assert not first.done() and not any(t.done() for t in later)
            assert intake.depth == 5  # hers, behind the held batch
            store.release.set()
            stored = [await first, *[await t for t in later]]
            writer.cancel()
        assert not other.duplicate
        ids = [s.message_id for s in stored]
        assert ids == sorted(ids)  # in the order she wrote them
        assert len({s.conversation_id for s in stored}) == 1


async def test_offer_many_counts_the_room_in_each_lane(store: CountingStore) -> None:
    intake = Intake(store, KEY, queue_max=2, batch_max=10, ack_timeout_s=10, writers=2)
    one, two = senders_in_lanes(intake, 2)
    waiting = [
        asyncio.ensure_future(intake.offer(inbound(one, channel=ChannelKind.WEBCHAT).message))
        for _ in range(2)
    ]
    await asyncio.sleep(0)
    with pytest.raises(IntakeBusy, match="full"):  # her lane is full
        await intake.offer_many(
            [inbound(s, channel=ChannelKind.WEBCHAT).message for s in (two, one)]
        )
    assert intake.depth == 2  # all or nothing: the other lane's message was not queued
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        both = await intake.offer_many(
            [inbound(two, channel=ChannelKind.WEBCHAT).message for _ in range(2)]
        )
        await asyncio.gather(*waiting)
        writer.cancel()
    assert len(both) == 2


async def test_ack_only_after_commit(store: CountingStore) -> None:
    intake = Intake(store, KEY, queue_max=10, batch_max=10, ack_timeout_s=10)
    pending = asyncio.ensure_future(intake.offer(inbound().message))
    await asyncio.sleep(0)  # let offer() enqueue; no writer runs, so nothing is stored
    assert not pending.done() and store.batches == []
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        stored = await pending
        writer.cancel()
    assert store.batches == [1]
    assert (await store.list_messages(stored.conversation_id))[0].id == stored.message_id


async def test_full_queue_answers_busy_and_loses_nothing(store: CountingStore) -> None:
    intake = Intake(store, KEY, queue_max=2, batch_max=10, ack_timeout_s=10)
    first = [asyncio.ensure_future(intake.offer(inbound(f"a{i}").message)) for i in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(IntakeBusy, match="full"):
        await intake.offer(inbound("late").message)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        stored = await asyncio.gather(*first)
        writer.cancel()
    assert not any(s.duplicate for s in stored)


async def test_timeout_then_redelivery_is_a_duplicate(store: CountingStore) -> None:
    intake = Intake(store, KEY, queue_max=10, batch_max=10, ack_timeout_s=0.05)
    msg = inbound(external_id="retry-me").message
    with pytest.raises(IntakeBusy, match="too long"):
        await intake.offer(msg)  # no writer yet: the source sees "retry later"
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        assert await intake.drain(5) == 0  # the queued copy is stored all the same
        again = await intake.offer(msg)
        writer.cancel()
    assert again.duplicate


async def test_closed_intake_refuses_and_drain_stores_the_rest(store: CountingStore) -> None:
    intake = Intake(store, KEY, queue_max=100, batch_max=5, ack_timeout_s=10)
    queued = [asyncio.ensure_future(intake.submit(inbound(f"d{i}").message)) for i in range(12)]
    await asyncio.sleep(0)
    intake.close()
    with pytest.raises(IntakeBusy, match="shutting down"):
        await intake.offer(inbound().message)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        assert await intake.drain(5) == 0
        writer.cancel()
    assert len(await asyncio.gather(*queued)) == 12
    assert sum(store.batches) == 12


async def test_a_delivery_larger_than_the_queue_is_answered_in_order(
    store: CountingStore,
) -> None:
    """An IMAP fetch or a webhook with many events: one wait, answers in the order given,
    backpressure message by message (the queue holds 4, the delivery 25)."""
    intake = Intake(store, KEY, queue_max=4, batch_max=3, ack_timeout_s=10)
    msgs = [inbound(f"s{i % 5}", external_id=f"m{i}").message for i in range(25)]
    msgs.append(msgs[3])  # a repeat inside the delivery is a duplicate of the first
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        answers = await intake.submit_many(msgs)
        writer.cancel()
    assert len(answers) == 26 and max(store.batches) <= 3
    assert answers[25].duplicate and answers[25].message_id == answers[3].message_id
    for msg, answer in zip(msgs[:25], answers, strict=False):
        stored = await store.list_messages(answer.conversation_id)
        assert msg.external_id in {m.external_id for m in stored}
    assert len({a.conversation_id for a in answers}) == 5


async def test_offer_many_is_all_or_nothing(store: CountingStore) -> None:
    intake = Intake(store, KEY, queue_max=5, batch_max=10, ack_timeout_s=10)
    first = asyncio.ensure_future(intake.offer_many([inbound(f"a{i}").message for i in range(3)]))
    await asyncio.sleep(0)
    with pytest.raises(IntakeBusy, match="full"):
        await intake.offer_many([inbound(f"b{i}").message for i in range(3)])
    assert intake.depth == 3  # none of the refused delivery was queued
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        stored = await first
        writer.cancel()
    assert store.batches == [3] and not any(s.duplicate for s in stored)


async def test_a_submitter_cancelled_while_waiting_for_room_loses_nothing(
    store: CountingStore,
) -> None:
    intake = Intake(store, KEY, queue_max=2, batch_max=10, ack_timeout_s=10)
    msgs = [inbound(f"c{i}", external_id=f"c{i}").message for i in range(4)]
    pending = asyncio.ensure_future(intake.submit_many(msgs))
    await asyncio.sleep(0)  # two are queued, the third waits for room
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        assert await intake.drain(5) == 0
        again = await intake.submit_many(msgs)  # the source redelivers all four
        writer.cancel()
    assert [a.duplicate for a in again] == [True, True, False, False]


async def test_triage_and_rules_label_the_conversation_in_the_same_commit(
    store: CountingStore,
) -> None:
    rule = Rule(name="debt", keywords_any=("借金",), skill="debt", add_tags=frozenset({"debt"}))
    label = labeler([rule], UrgentTriage(), TOKYO)
    intake = Intake(store, KEY, queue_max=10, batch_max=10, ack_timeout_s=10, label=label)
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        debt = await intake.submit(inbound("a", body="借金の相談です").message)
        urgent = await intake.submit(inbound("b", body="もう死にたい").message)
        writer.cancel()
    conv = await store.get_conversation(debt.conversation_id)
    assert (conv.priority, conv.skill, conv.tags) == (0, "debt", ("debt",))
    conv = await store.get_conversation(urgent.conversation_id)
    assert conv.priority == 100 and set(conv.tags) == {"urgent", "suicide_risk"}
    alerts = [e for e in await store.list_events() if e.kind == "supervisors_alerted"]
    assert [(e.conversation_id, e.message_id, e.data) for e in alerts] == [
        (urgent.conversation_id, urgent.message_id, {"reason": "suicide_risk"})
    ]


async def test_with_a_router_the_batch_is_routed_in_its_own_transaction(
    store: CountingStore,
) -> None:
    """The intake hands its router to the store: conversations come back assigned, and only
    those left waiting call for a router round (assembly wakes the router on `queued`)."""
    sato = await store.create_user(new_user("sato", capacity=2), now=at(0))
    router = Router(store, clock=lambda: at(3600))
    seen: list[Stored] = []
    intake = Intake(
        store,
        KEY,
        queue_max=10,
        batch_max=10,
        ack_timeout_s=10,
        on_stored=seen.extend,
        router=router,
    )
    async with asyncio.TaskGroup() as tg:
        writer = tg.create_task(intake.run_writer())
        answers = await intake.submit_many([inbound(f"s{i}").message for i in range(3)])
        writer.cancel()
    assert store.batches == [3]  # one transaction stored and routed them
    assert [a.assigned_to for a in answers] == [sato.id, sato.id, None]
    assert [a.queued for _, a in seen] == [False, False, True]
