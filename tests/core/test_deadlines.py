"""The deadline watcher over a real store: due times shown, one warning, one escalation, a
reply resets them; several watchers record each alarm once. The store's part on both stores."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from inbox.core.decisions import Assign, DeadlineChange
from inbox.core.model import ChannelKind, ConversationId, ConversationStatus
from inbox.deadlines import DeadlineWatcher
from routing.deadlines import ResponseTargets, Targets
from routing.hours import ALWAYS_OPEN, ServiceHours
from storage.base import Store
from tests.factories import at, inbound, new_user

TARGETS = ResponseTargets(normal=Targets(first=timedelta(minutes=10), next=timedelta(minutes=20)))


def hours_for(_: ChannelKind) -> ServiceHours:
    return ALWAYS_OPEN


def watcher(store: Store, now: list[datetime]) -> DeadlineWatcher:
    return DeadlineWatcher(store, targets=TARGETS, hours_for=hours_for, clock=lambda: now[0])


def each_pass(w: DeadlineWatcher, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """An event set at the end of each of the watcher's passes, failed or not."""
    passed, check_once = asyncio.Event(), w.check_once

    async def checked() -> list[DeadlineChange]:
        try:
            return await check_once()
        finally:
            passed.set()

    monkeypatch.setattr(w, "check_once", checked)
    return passed


@pytest.mark.both_stores  # apply_deadlines has no contract test (its reads do)
async def test_warn_then_escalate_then_reset_by_a_reply(store: Store) -> None:
    sato = await store.create_user(new_user("sato"), now=at(0))
    (s,) = await store.save_inbound_batch([inbound("a", received_at=at(0))])
    # Offered to sato, who has not opened it.
    await store.apply_assignments(
        [Assign(conversation_id=s.conversation_id, user_id=sato.id, capacity=3)], now=at(1)
    )
    now = [at(60)]
    w = watcher(store, now)
    assert await w.check_once() == []
    conv = await store.get_conversation(s.conversation_id)
    assert conv.first_response_due == at(600) and conv.next_response_due is None
    now[0] = at(481)  # 80 % of 10 minutes
    (warned,) = await w.check_once()
    assert warned.alarm == "warn"
    assert await w.check_once() == []  # once
    now[0] = at(601)
    (breached,) = await w.check_once()
    assert breached.alarm == "breach"
    conv = await store.get_conversation(s.conversation_id)
    # Escalated: urgent, and the unopened offer went back to the queue for anyone eligible.
    assert conv.priority == 100 and conv.status is ConversationStatus.QUEUED
    assert conv.assignee_id is None
    kinds = [e.kind for e in await store.list_events() if e.conversation_id == s.conversation_id]
    assert kinds.count("deadline_warning") == 1 and kinds.count("deadline_breached") == 1
    # Answered: nothing runs; she writes again: a next-response deadline from then.
    await store.assign(s.conversation_id, sato.id, actor_id=sato.id, now=at(700), capacity=None)
    await store.add_reply(
        s.conversation_id, author_id=sato.id, body="お待たせしました", now=at(710)
    )
    now[0] = at(800)
    assert await w.check_once() == []
    conv = await store.get_conversation(s.conversation_id)
    assert conv.first_response_due is None and conv.next_response_due is None
    await store.save_inbound_batch([inbound("a", received_at=at(900))])
    assert await w.check_once() == []
    conv = await store.get_conversation(s.conversation_id)
    # Still urgent from the escalation, so the urgent target (15 min by default) applies.
    assert conv.first_response_due is None and conv.next_response_due == at(900 + 15 * 60)


# apply_deadlines records an alarm once in each dialect's SQL; no contract test
@pytest.mark.both_stores
async def test_two_watchers_record_each_alarm_once(store: Store) -> None:
    await store.save_inbound_batch([inbound("a", received_at=at(0))])
    now = [at(601)]
    first, second = watcher(store, now), watcher(store, now)
    assert len(await first.check_once()) == 1
    assert await second.check_once() == []
    breaches = [e for e in await store.list_events() if e.kind == "deadline_breached"]
    assert len(breaches) == 1


async def test_a_wake_shows_new_due_times_before_the_interval(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [at(60)]
    w = DeadlineWatcher(
        store, targets=TARGETS, hours_for=hours_for, clock=lambda: now[0], interval_s=3600
    )
    first_pass = each_pass(w, monkeypatch)
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(w.run())
        await first_pass.wait()  # its first pass, on an empty store: only a wake shows what follows
        (s,) = await store.save_inbound_batch([inbound("a", received_at=at(0))])
        w.wake()
        async with asyncio.timeout(5):  # within MIN_GAP_S, not the hour
            while True:
                if (await store.get_conversation(s.conversation_id)).first_response_due:
                    break
                await asyncio.sleep(0.05)
        running.cancel()
    assert (await store.get_conversation(s.conversation_id)).first_response_due == at(600)


@pytest.mark.both_stores  # one statement per kind of alarm for all of a pass's conversations
async def test_a_pass_records_many_alarms_at_once_and_none_twice(store: Store) -> None:
    saved = await store.save_inbound_batch(
        [inbound(sender, received_at=at(0)) for sender in ("a", "b", "c", "d")]
    )
    a, b, c, d = (s.conversation_id for s in saved)

    def change(conv_id: ConversationId, alarm: str) -> DeadlineChange:
        return DeadlineChange(
            conversation_id=conv_id, first_response_due=at(600), next_response_due=None, alarm=alarm
        )

    first = await store.apply_deadlines(
        [change(a, "breach"), change(b, "breach"), change(c, "warn")],
        urgent_priority=100,
        now=at(601),
    )
    assert [(x.conversation_id, x.alarm) for x in first] == [
        (a, "breach"),
        (b, "breach"),
        (c, "warn"),
    ]
    # Another instance decided the same before it saw these, and d is new: only d is recorded.
    again = await store.apply_deadlines(
        [change(a, "breach"), change(c, "warn"), change(b, "breach"), change(d, "warn")],
        urgent_priority=100,
        now=at(602),
    )
    assert [(x.conversation_id, x.alarm) for x in again] == [(d, "warn")]
    alarms = [
        (e.kind, e.conversation_id) for e in await store.list_events() if "deadline" in e.kind
    ]
    breached, warned = "deadline_breached", "deadline_warning"
    assert sorted(alarms) == sorted([(breached, a), (breached, b), (warned, c), (warned, d)])
    for conv_id, priority in ((a, 100), (b, 100), (c, 0), (d, 0)):
        conv = await store.get_conversation(conv_id)
        assert conv.priority == priority and conv.first_response_due == at(600)
    assert (await store.get_conversation(c)).status is ConversationStatus.QUEUED


async def test_a_pass_writes_its_changes_a_page_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many alarms due at once (a restart after a night's backlog) are written in pages, so
    that the intake's writes get the single writer between them; every one is recorded."""
    monkeypatch.setattr("inbox.deadlines.WRITE_PAGE", 2)
    await store.save_inbound_batch([inbound(f"s{i}", received_at=at(0)) for i in range(5)])
    sizes: list[int] = []
    apply = store.apply_deadlines

    async def counted(changes: list[DeadlineChange], **kw: object) -> list[DeadlineChange]:
        sizes.append(len(changes))
        return await apply(changes, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "apply_deadlines", counted)
    recorded = await watcher(store, [at(601)]).check_once()
    assert sizes == [2, 2, 1]
    assert len(recorded) == 5 and {c.alarm for c in recorded} == {"breach"}
    breaches = [e for e in await store.list_events() if e.kind == "deadline_breached"]
    assert len(breaches) == 5
