"""A follow-up on its day, end to end over a real store (both stores): the watcher queues its
task, the router offers it to the counselor who set it first (also long after she last helped
her), holds it for her while she is away, then falls back like any conversation. One that fell
due while nothing ran is queued at start. Nothing is sent to her on its own: the counselor's
reply goes through the outbox with her discretion, and on the phone her call window holds it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from inbox.core.follow_ups import FollowUp, FollowUpStatus, NewFollowUp
from inbox.core.model import (
    ChannelKind,
    ConversationId,
    ConversationStatus,
    CounselorUpdate,
    Presence,
    Role,
    User,
)
from inbox.core.phone import Caller
from inbox.follow_ups import FollowUpWatcher
from inbox.router import Router
from routing.assign import WAITING_FOR_PREVIOUS, RoutingPolicy
from routing.hours import ALWAYS_OPEN, TOKYO
from storage.base import Store
from tests.factories import at, inbound, new_user

pytestmark = pytest.mark.both_stores
DAY = date(2027, 2, 1)  # a Monday, 70 days after the conversation (beyond continuity_days)
MORNING = datetime(2027, 2, 1, 9, 30, tzinfo=TOKYO).astimezone(UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def staff(
    store: Store, name: str, roles: frozenset[Role] = frozenset({Role.COUNSELOR})
) -> User:
    return await store.create_user(new_user(name, roles=roles), now=at(0))


async def helped(store: Store, sender: str, by: User, channel: ChannelKind) -> ConversationId:
    (first,) = await store.save_inbound_batch([inbound(sender, channel=channel)])
    conv = first.conversation_id
    await store.assign(conv, by.id, actor_id=by.id, now=at(10), capacity=None)
    await store.close(conv, actor_id=by.id, now=at(20))
    return conv


def watcher(store: Store, clock: Clock, seen: list[FollowUp] | None = None) -> FollowUpWatcher:
    found = seen if seen is not None else []
    return FollowUpWatcher(store, hours_for=lambda _: ALWAYS_OPEN, clock=clock, on_due=found.extend)


async def test_on_its_day_she_is_offered_to_her_counselor_first(store: Store) -> None:
    sato = await staff(store, "sato")
    await staff(store, "suzuki")  # idle: the least loaded, were it not for the follow-up
    conv = await helped(store, "a@x.jp", sato, ChannelKind.WEBCHAT)
    made = await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY), actor_id=sato.id, now=at(30)
    )
    # sato is busier than suzuki: without the follow-up the least loaded would get it
    await store.save_inbound_batch([inbound("busy@x.jp")])
    clock = Clock(datetime(2027, 1, 31, 23, 0, tzinfo=TOKYO).astimezone(UTC))  # the day before
    router = Router(store, clock=clock)
    (busy,) = await router.route_once()
    assert busy.user_id == sato.id  # lowest id on equal load
    seen: list[FollowUp] = []
    follow_ups = watcher(store, clock, seen)
    assert await follow_ups.check_once() == []
    assert follow_ups.next_look() == datetime(2027, 2, 1, tzinfo=TOKYO)  # its day's start
    clock.now = MORNING
    (due,) = await follow_ups.check_once()
    assert (due.id, due.status, seen) == (made.id, FollowUpStatus.DUE, [due])
    assert await follow_ups.check_once() == []  # once
    assert due.conversation_id is not None
    (offer,) = await router.route_once()
    assert (offer.conversation_id, offer.user_id) == (due.conversation_id, sato.id)


async def test_while_she_is_away_it_waits_then_falls_back(store: Store) -> None:
    sato, suzuki = await staff(store, "sato"), await staff(store, "suzuki")
    conv = await helped(store, "a@x.jp", sato, ChannelKind.WEBCHAT)
    await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY), actor_id=sato.id, now=at(30)
    )
    away = CounselorUpdate(presence=Presence.AWAY)
    await store.update_counselor(sato.id, away, actor_id=sato.id, now=at(40))
    clock = Clock(MORNING)
    (due,) = await watcher(store, clock).check_once()
    router = Router(store, clock=clock, policy=RoutingPolicy(continuity_wait_s=120))
    assert await router.route_once() == []
    (waiting,) = (await store.routing_snapshot()).waiting
    (decision,) = router.decide(await store.routing_snapshot(), clock.now)
    assert getattr(decision, "reason", None) == WAITING_FOR_PREVIOUS
    clock.now += timedelta(seconds=121)
    (offer,) = await router.route_once()
    assert (offer.conversation_id, offer.user_id) == (due.conversation_id, suzuki.id)
    assert waiting.id == due.conversation_id


async def test_one_that_fell_due_while_down_is_queued_at_start(store: Store) -> None:
    sato = await staff(store, "sato")
    conv = await helped(store, "a@x.jp", sato, ChannelKind.WEBCHAT)
    made = await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY), actor_id=sato.id, now=at(30)
    )
    # nothing ran on its day; the service starts two days later
    clock = Clock(MORNING + timedelta(days=2))
    queued = asyncio.Event()
    started = FollowUpWatcher(
        store, hours_for=lambda _: ALWAYS_OPEN, clock=clock, on_due=lambda _: queued.set()
    )
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(started.run(), name="follow-ups")
        async with asyncio.timeout(5):
            await queued.wait()
        task.cancel()
    found = await store.get_follow_up(made.id)
    assert found.status is FollowUpStatus.DUE and found.conversation_id is not None
    task_conv = await store.get_conversation(found.conversation_id)
    assert task_conv.status is ConversationStatus.QUEUED


async def test_her_discretion_holds_on_sms_nothing_is_sent_on_its_own(store: Store) -> None:
    sato = await staff(store, "sato")
    conv = await helped(store, "+819012345678", sato, ChannelKind.SMS)
    await store.set_discretion(conv, True, actor_id=sato.id, now=at(25))
    await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY), actor_id=sato.id, now=at(30)
    )
    clock = Clock(MORNING)
    (due,) = await watcher(store, clock).check_once()
    assert due.conversation_id is not None and due.channel is ChannelKind.SMS
    # becoming due sends nothing: no automatic text may reach her phone
    assert await store.claim_outbox(now=clock.now, limit=10, lease_s=30) == []
    (offer,) = await Router(store, clock=clock).route_once()
    assert offer.user_id == sato.id
    await store.add_reply(
        due.conversation_id, author_id=sato.id, body="お元気ですか", now=clock.now
    )
    (item,) = await store.claim_outbox(now=clock.now, limit=10, lease_s=30)
    msg = item.message
    assert (msg.channel, msg.discreet, msg.automatic, msg.conversation_id) == (
        ChannelKind.SMS,
        True,  # the channel applies her discretion as to any reply (channels/sms.py, mail)
        False,
        due.conversation_id,
    )


async def test_on_the_phone_it_waits_for_her_call_window(store: Store) -> None:
    sato = await staff(store, "sato")
    desk = await staff(store, "desk", frozenset({Role.PHONE_STAFF}))
    conv = await helped(store, "a@x.jp", sato, ChannelKind.WEBCHAT)
    window = '{"weekdays": ["12:00-13:00"]}'
    caller = Caller(identity_hash="h-" + "f" * 60, e164="+819011112222")
    asked = await store.request_callback(
        conv, caller, window_json=window, note="", actor_id=sato.id, now=at(40)
    )
    await store.close(asked.conversation_id, actor_id=desk.id, now=at(50))
    source = await store.get_conversation(conv)
    phone = next(
        i for i, c in await store.identities_of(source.contact_id) if c is ChannelKind.PHONE
    )
    await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY, identity_id=phone),
        actor_id=sato.id,
        now=at(60),
    )
    clock = Clock(datetime(2027, 2, 1, 0, 30, tzinfo=TOKYO).astimezone(UTC))
    follow_ups = watcher(store, clock)
    assert await follow_ups.check_once() == []
    # due from the opening of her window on its day (within the desk's phone hours)
    noon = datetime(2027, 2, 1, 12, 0, tzinfo=TOKYO)
    assert follow_ups.next_look() == noon
    clock.now = noon.astimezone(UTC)
    (due,) = await follow_ups.check_once()
    assert due.channel is ChannelKind.PHONE
    (offer,) = await Router(store, clock=clock).route_once()
    assert (offer.conversation_id, offer.user_id) == (due.conversation_id, desk.id)


async def test_a_page_not_due_yet_does_not_hold_back_the_next(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher reads every page: the first ones, waiting for a call window later that day,
    must not keep a follow-up after them from being queued now."""
    monkeypatch.setattr("inbox.follow_ups.PAGE", 1)
    sato = await staff(store, "sato")
    desk = await staff(store, "desk", frozenset({Role.PHONE_STAFF}))
    conv = await helped(store, "a@x.jp", sato, ChannelKind.WEBCHAT)
    caller = Caller(identity_hash="h-" + "e" * 60, e164="+819011113333")
    asked = await store.request_callback(
        conv,
        caller,
        window_json='{"weekdays": ["12:00-13:00"]}',
        note="",
        actor_id=sato.id,
        now=at(40),
    )
    await store.close(asked.conversation_id, actor_id=desk.id, now=at(50))
    source = await store.get_conversation(conv)
    phone = next(
        i for i, c in await store.identities_of(source.contact_id) if c is ChannelKind.PHONE
    )
    by_phone = await store.set_follow_up(
        NewFollowUp(from_conversation_id=conv, due_on=DAY, identity_id=phone),
        actor_id=sato.id,
        now=at(60),
    )  # the first page: her window opens at noon
    other = await helped(store, "b@x.jp", sato, ChannelKind.WEBCHAT)
    by_chat = await store.set_follow_up(
        NewFollowUp(from_conversation_id=other, due_on=DAY), actor_id=sato.id, now=at(61)
    )
    assert by_phone.id < by_chat.id
    clock = Clock(datetime(2027, 2, 1, 0, 30, tzinfo=TOKYO).astimezone(UTC))
    follow_ups = watcher(store, clock)
    (due,) = await follow_ups.check_once()
    assert due.id == by_chat.id
    assert follow_ups.next_look() == datetime(2027, 2, 1, 12, 0, tzinfo=TOKYO)
