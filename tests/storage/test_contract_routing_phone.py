"""The Store contract for routing callbacks, on both stores: a phone conversation goes only to
phone staff and every other only to counselors (a router round, its re-check in the store,
routing at intake, a supervisor's assignment), and a callback is offered only when due and
inside the window she allowed, the router's timer set for when it becomes so."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from inbox.core.decisions import Assign
from inbox.core.errors import Conflict
from inbox.core.model import ChannelKind, ConversationId, ConversationStatus, Role, User
from inbox.router import Router
from storage.base import Store
from storage.sql import Database, Tx
from tests.factories import at, counselor, inbound, new_user, router_for

PHONE, CHAT = ChannelKind.PHONE, ChannelKind.WEBCHAT
# at(0) is 10:00 in Tokyo on a Sunday: lunch is at(7200)..at(10800).
LUNCH = json.dumps({"everyday": ["12:00-13:00"]})
ELEVEN, NOON = at(3600), at(7200)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def phone_staff(store: Store, name: str) -> User:
    return await store.create_user(new_user(name, roles=frozenset({Role.PHONE_STAFF})), now=at(0))


async def write(store: Store, sql: str, *args: object) -> None:
    """What the phone desk's operations write (callback_due_at, contacts.call_window), set
    straight in the table: routing is what is tested here."""

    async def op(tx: Tx) -> None:
        await tx.execute(sql, *args)

    database: Database = store._db  # type: ignore[attr-defined]
    await database.write(op)


async def set_due(store: Store, conv: ConversationId, due: datetime) -> None:
    await write(store, "UPDATE conversations SET callback_due_at = $2 WHERE id = $1", conv, due)


async def set_window(store: Store, conv: ConversationId, window: str) -> None:
    await write(
        store,
        "UPDATE contacts SET call_window = $2"
        " WHERE id = (SELECT contact_id FROM conversations WHERE id = $1)",
        conv,
        window,
    )


async def call_in(
    store: Store, sender: str = "+819012345678", received_at: datetime | None = None
) -> ConversationId:
    call = inbound(sender, channel=PHONE, body="", received_at=received_at)
    (stored,) = await store.save_inbound_batch([call])
    return stored.conversation_id


def owners(applied: list[Assign]) -> dict[int, int]:
    return {a.conversation_id: a.user_id for a in applied}


async def test_a_round_gives_calls_to_phone_staff_and_chats_to_counselors(store: Store) -> None:
    sato = await counselor(store, "sato")
    tanaka = await phone_staff(store, "tanaka")
    call = await call_in(store)
    (chat,) = await store.save_inbound_batch([inbound("a@x.jp", channel=CHAT)])
    snapshot = await store.routing_snapshot()
    roles = {a.user_id: (a.counselor, a.phone_staff) for a in snapshot.agents}
    assert roles == {sato.id: (True, False), tanaka.id: (False, True)}
    applied = await Router(store, clock=Clock(ELEVEN)).route_once()
    assert owners(applied) == {call: tanaka.id, chat.conversation_id: sato.id}


async def test_without_phone_staff_a_call_waits(store: Store) -> None:
    await counselor(store, "sato")
    call = await call_in(store)
    assert await Router(store, clock=Clock(ELEVEN)).route_once() == []
    assert [w.id for w in (await store.routing_snapshot()).waiting] == [call]


async def test_the_stores_recheck_refuses_the_wrong_desk(store: Store) -> None:
    """Never trusting the snapshot: an assignment of a call to a counselor, or of a chat to
    phone staff, does not apply; the right ones do."""
    sato = await counselor(store, "sato")
    tanaka = await phone_staff(store, "tanaka")
    call = await call_in(store)
    (chat,) = await store.save_inbound_batch([inbound("a@x.jp", channel=CHAT)])
    chat_id = chat.conversation_id

    def offer(conv: ConversationId, user: User, channel: ChannelKind) -> Assign:
        return Assign(conversation_id=conv, user_id=user.id, capacity=3, channel=channel)

    wrong = [offer(call, sato, PHONE), offer(chat_id, tanaka, CHAT)]
    assert await store.apply_assignments(wrong, now=at(5)) == []
    # a snapshot that got the channel wrong does not fool it either: the stored one counts
    lying = [offer(call, sato, CHAT)]
    assert await store.apply_assignments(lying, now=at(5)) == []
    right = [offer(call, tanaka, PHONE), offer(chat_id, sato, CHAT)]
    assert await store.apply_assignments(right, now=at(6)) == right


async def test_a_supervisors_assign_refuses_the_wrong_desk(store: Store) -> None:
    sato = await counselor(store, "sato")
    tanaka = await phone_staff(store, "tanaka")
    both = await store.create_user(
        new_user("both", roles=frozenset({Role.COUNSELOR, Role.PHONE_STAFF})), now=at(0)
    )
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    call = await call_in(store)
    (chat,) = await store.save_inbound_batch([inbound("a@x.jp", channel=CHAT)])
    with pytest.raises(Conflict, match="not phone staff"):
        await store.assign(call, sato.id, actor_id=boss.id, now=at(5), capacity=None)
    with pytest.raises(Conflict, match="not a counselor"):
        chat_id = chat.conversation_id
        await store.assign(chat_id, tanaka.id, actor_id=boss.id, now=at(5), capacity=None)
    assert (await store.get_conversation(call)).assignee_id is None
    given = await store.assign(call, tanaka.id, actor_id=boss.id, now=at(6), capacity=None)
    assert given.assignee_id == tanaka.id
    again = await store.assign(call, both.id, actor_id=boss.id, now=at(7), capacity=None)
    assert again.assignee_id == both.id


async def test_a_callback_is_offered_once_it_is_due(store: Store) -> None:
    tanaka = await phone_staff(store, "tanaka")
    call = await call_in(store)
    await set_due(store, call, NOON)
    (waiting,) = (await store.routing_snapshot()).waiting
    assert (waiting.not_before, waiting.call_window) == (NOON, None)
    clock = Clock(ELEVEN)
    router = Router(store, clock=clock)
    assert await router.route_once() == []
    assert router.next_callback_at() == NOON  # the router's timer, not a poll
    assert await store.next_callback_due(after=ELEVEN) == NOON
    assert await store.next_callback_due(after=NOON) is None
    clock.now = NOON
    assert owners(await router.route_once()) == {call: tanaka.id}
    assert router.next_callback_at() is None
    assert await store.next_callback_due(after=ELEVEN) is None  # assigned: no longer queued


async def test_a_callback_is_offered_only_inside_her_window_even_urgent(store: Store) -> None:
    tanaka = await phone_staff(store, "tanaka")
    call = await call_in(store)
    await set_window(store, call, LUNCH)
    await write(store, "UPDATE conversations SET priority = 100 WHERE id = $1", call)
    (waiting,) = (await store.routing_snapshot()).waiting
    assert waiting.call_window == LUNCH
    clock = Clock(ELEVEN)
    router = Router(store, clock=clock)
    assert await router.route_once() == []
    assert router.next_callback_at() == NOON
    # due at 13:30, after lunch: the next day's lunch
    await set_due(store, call, at(12600))
    assert await router.route_once() == []
    assert router.next_callback_at() == at(7200 + 86400)
    clock.now = at(7200 + 86400 + 60)
    assert owners(await router.route_once()) == {call: tanaka.id}
    conv = await store.get_conversation(call)
    assert (conv.status, conv.assignee_id) == (ConversationStatus.ASSIGNED, tanaka.id)


async def test_a_chat_is_not_held_by_her_call_window(store: Store) -> None:
    """Her window is for calls: the same contact writing in the chat is answered any time."""
    sato = await counselor(store, "sato")
    await phone_staff(store, "tanaka")
    (chat,) = await store.save_inbound_batch([inbound("+819012345678", channel=CHAT)])
    await set_window(store, chat.conversation_id, LUNCH)
    (waiting,) = (await store.routing_snapshot()).waiting
    assert waiting.call_window is None
    applied = await Router(store, clock=Clock(ELEVEN)).route_once()
    assert owners(applied) == {chat.conversation_id: sato.id}


async def test_a_window_that_does_not_parse_is_read_as_none_and_logged_without_it(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    tanaka = await phone_staff(store, "tanaka")
    call = await call_in(store)
    secret = '{"weekdays": ["12:00-13:00"], "note": "夫が帰る前に"}'
    await set_window(store, call, secret)
    with caplog.at_level(logging.WARNING, logger="inbox.router"):
        router = Router(store, clock=Clock(ELEVEN))
        assert owners(await router.route_once()) == {call: tanaka.id}
    (record,) = [r for r in caplog.records if getattr(r, "action", "") == "call_window_unreadable"]
    assert getattr(record, "conversation_id", None) == call
    assert "夫" not in caplog.text and "12:00" not in caplog.text


async def test_routing_at_intake_follows_the_same_rules(store: Store) -> None:
    sato = await counselor(store, "sato")
    tanaka = await phone_staff(store, "tanaka")
    answers = await store.save_inbound_batch(
        [inbound("+819011112222", channel=PHONE, body=""), inbound("a@x.jp", channel=CHAT)],
        router=router_for(store),
    )
    assert [a.assigned_to for a in answers] == [tanaka.id, sato.id]
    # She called before and allowed lunch only: her next call, at 11:00, waits for the router.
    first = answers[0].conversation_id
    await store.close(first, actor_id=tanaka.id, now=at(100))
    await set_window(store, first, LUNCH)
    (again,) = await store.save_inbound_batch(
        [inbound("+819011112222", channel=PHONE, body="")], router=router_for(store)
    )
    assert (again.assigned_to, again.queued) == (None, True)
    (waiting,) = (await store.routing_snapshot()).waiting
    assert (waiting.id, waiting.call_window) == (again.conversation_id, LUNCH)


async def test_routing_at_intake_gives_no_call_to_a_counselor(store: Store) -> None:
    await counselor(store, "sato")
    (answer,) = await store.save_inbound_batch(
        [inbound("+819011112222", channel=PHONE, body="")], router=router_for(store)
    )
    assert (answer.assigned_to, answer.queued) == (None, True)


async def test_the_running_router_wakes_when_a_callback_becomes_due(store: Store) -> None:
    """No wake() and a sweep a minute away: the router's own timer offers the callback when it
    is due (polled for with a deadline, not slept for)."""
    tanaka = await phone_staff(store, "tanaka")
    call = await call_in(store)
    due = datetime.now(UTC) + timedelta(milliseconds=300)
    await set_due(store, call, due)
    router = Router(store, clock=lambda: datetime.now(UTC))
    task = asyncio.create_task(router.run())
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while (await store.get_conversation(call)).assignee_id is None:
            assert asyncio.get_running_loop().time() < deadline, "the callback was never offered"
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    conv = await store.get_conversation(call)
    assert conv.assignee_id == tanaka.id and conv.offered_at is not None
    assert conv.offered_at >= due
