"""The Store contract for routing with phone staff beside counselors, on both stores: the
re-check before assigning refuses a callback rescheduled since the snapshot, and continuity
looks only at the same side (a logged call does not hide her counselor from her next chat)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox.core.decisions import Assign, QueueDepth
from inbox.core.model import ChannelKind, ConversationId, CounselorUpdate, Presence, Role, User
from inbox.router import Router
from storage.base import Store
from tests.factories import at, counselor, inbound, new_user, router_for
from tests.storage.test_contract_routing_phone import ELEVEN, Clock, call_in, owners, set_due

PHONE, CHAT = ChannelKind.PHONE, ChannelKind.WEBCHAT
NUMBER = "+819012345678"


async def phone_staff(store: Store, name: str) -> User:
    return await store.create_user(new_user(name, roles=frozenset({Role.PHONE_STAFF})), now=at(0))


async def test_a_callback_rescheduled_after_the_snapshot_is_not_offered(store: Store) -> None:
    """A try logged between the router's snapshot and its apply moves callback_due_at on: the
    store's re-check must not offer the callback at once."""
    tanaka = await phone_staff(store, "tanaka")
    call = await call_in(store)
    await set_due(store, call, at(60))
    (waiting,) = (await store.routing_snapshot()).waiting
    assert waiting.not_before == at(60)
    await set_due(store, call, at(7200))  # the try logged meanwhile: due again at noon
    offer = Assign(conversation_id=call, user_id=tanaka.id, capacity=3, channel=PHONE)
    assert await store.apply_assignments([offer], now=ELEVEN) == []
    assert (await store.get_conversation(call)).assignee_id is None
    # once due, the same offer applies; a due time exactly now counts as due
    assert await store.apply_assignments([offer], now=at(7200)) == [offer]


async def _chat_then_logged_call(store: Store) -> tuple[User, User, User]:
    """Sato helped her in the chat; then a call of hers (the same contact, linked) was worked
    by phone staff and closed, as a hand-logged call is."""
    sato = await counselor(store, "sato")
    suzuki = await counselor(store, "suzuki")
    tanaka = await phone_staff(store, "tanaka")
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    (chat,) = await store.save_inbound_batch([inbound("a@x.jp", channel=CHAT)])
    await store.assign(chat.conversation_id, sato.id, actor_id=boss.id, now=at(10), capacity=None)
    await store.close(chat.conversation_id, actor_id=sato.id, now=at(20))
    call = await call_in(store, NUMBER)
    await store.link_contacts(
        chat.conversation_id, call, actor_id=boss.id, reason="same person", now=at(25)
    )
    await store.assign(call, tanaka.id, actor_id=boss.id, now=at(30), capacity=None)
    await store.close(call, actor_id=tanaka.id, now=at(40))
    return sato, suzuki, tanaka


async def test_continuity_after_a_logged_call_waits_for_her_counselor(store: Store) -> None:
    sato, suzuki, _ = await _chat_then_logged_call(store)
    await store.update_counselor(
        sato.id, CounselorUpdate(presence=Presence.AWAY), actor_id=sato.id, now=at(50)
    )
    (chat,) = await store.save_inbound_batch([inbound("a@x.jp", channel=CHAT)])
    (waiting,) = (await store.routing_snapshot()).waiting
    assert waiting.previous_assignee == sato.id
    # sato is away but on shift: her new chat waits for her a while rather than going to suzuki
    (waiting,) = (await store.routing_snapshot()).waiting
    soon = Clock(waiting.waiting_since)
    assert await Router(store, clock=soon).route_once() == []
    await store.update_counselor(
        sato.id, CounselorUpdate(presence=Presence.AVAILABLE), actor_id=sato.id, now=at(60)
    )
    applied = await Router(store, clock=soon).route_once()
    assert owners(applied) == {chat.conversation_id: sato.id} != {chat.conversation_id: suzuki.id}


async def test_a_call_still_follows_the_phone_staff_who_took_her_last_call(store: Store) -> None:
    _, _, tanaka = await _chat_then_logged_call(store)
    await call_in(store, NUMBER)
    (waiting,) = (await store.routing_snapshot()).waiting
    assert waiting.previous_assignee == tanaka.id


async def test_routing_at_intake_keeps_continuity_on_each_side(store: Store) -> None:
    sato, _, tanaka = await _chat_then_logged_call(store)
    # sato is busier than suzuki: only continuity gives her the chat
    boss = await store.create_user(new_user("boss2", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    (other,) = await store.save_inbound_batch([inbound("b@x.jp", channel=CHAT)])
    await store.assign(other.conversation_id, sato.id, actor_id=boss.id, now=at(45), capacity=None)
    (chat,) = await store.save_inbound_batch(
        [inbound("a@x.jp", channel=CHAT)], router=router_for(store)
    )
    # suzuki has never been given anything: without continuity she would be chosen
    assert chat.assigned_to == sato.id
    (call,) = await store.save_inbound_batch(
        [inbound(NUMBER, channel=PHONE, body="")], router=router_for(store)
    )
    assert call.assigned_to == tanaka.id


BOTH = frozenset({Role.COUNSELOR, Role.PHONE_STAFF})


async def _chat_and_call_of(store: Store, user: User) -> tuple[ConversationId, ConversationId]:
    boss = await store.create_user(new_user("chief", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    (chat,) = await store.save_inbound_batch([inbound("a@x.jp", channel=CHAT)])
    call = await call_in(store, NUMBER)
    for conv in (chat.conversation_id, call):
        await store.assign(conv, user.id, actor_id=boss.id, now=at(10), capacity=None)
    return chat.conversation_id, call


async def _owner(store: Store, conv: ConversationId) -> int | None:
    return (await store.get_conversation(conv)).assignee_id


async def test_losing_the_counselor_role_releases_only_her_chats(store: Store) -> None:
    both = await store.create_user(new_user("mori", roles=BOTH), now=at(0))
    chat, call = await _chat_and_call_of(store, both)
    phone_only = frozenset({Role.PHONE_STAFF})
    await store.update_account(
        "mori", display_name=None, roles=phone_only, actor_id=None, now=at(20)
    )
    assert (await _owner(store, chat), await _owner(store, call)) == (None, both.id)
    requeued = [
        (e.conversation_id, e.data)
        for e in await store.list_events()
        if e.kind == "conversation_requeued"
    ]
    assert requeued == [(chat, {"from_user_id": both.id, "reason": "counselor_role_removed"})]


async def test_losing_the_phone_staff_role_releases_her_callbacks(store: Store) -> None:
    both = await store.create_user(new_user("mori", roles=BOTH), now=at(0))
    chat, call = await _chat_and_call_of(store, both)
    only = frozenset({Role.COUNSELOR})
    await store.update_account("mori", display_name=None, roles=only, actor_id=None, now=at(20))
    assert (await _owner(store, chat), await _owner(store, call)) == (both.id, None)
    conv = await store.get_conversation(call)
    assert conv.status.value == "queued"
    requeued = [e.data for e in await store.list_events() if e.kind == "conversation_requeued"]
    assert requeued == [{"from_user_id": both.id, "reason": "phone_staff_role_removed"}]
    # losing both releases everything
    await store.update_account(
        "mori", display_name=None, roles=frozenset({Role.SUPERVISOR}), actor_id=None, now=at(30)
    )
    assert await _owner(store, chat) is None


async def test_the_queue_depth_leaves_out_callbacks_not_yet_due(store: Store) -> None:
    """A callback due at noon is not waiting at eleven; once due it waits from its due time,
    not from her first call (on the board's depth too, which reads the same query)."""
    # Her call comes in before noon (the factories' times grow with every message made in
    # the test process: later, after many tests, than the noon this test counts from).
    call = await call_in(store, received_at=at(60))
    (chat,) = await store.save_inbound_batch([inbound("a@x.jp", channel=CHAT)])
    chat_since = (await store.routing_snapshot()).waiting
    since = {w.id: w.waiting_since for w in chat_since}
    await set_due(store, call, at(7200))

    def seen(depth: Sequence[QueueDepth]) -> dict[ChannelKind, tuple[int, datetime]]:
        return {d.channel: (d.count, d.oldest) for d in depth}

    assert seen(await store.queue_depth(now=ELEVEN)) == {CHAT: (1, since[chat.conversation_id])}
    rows = await store.board_rows(day_start=at(0), now=ELEVEN)
    assert seen(rows.depth) == {CHAT: (1, since[chat.conversation_id])}
    later = at(7300)
    assert seen(await store.queue_depth(now=later))[PHONE] == (1, at(7200))
    rows = await store.board_rows(day_start=at(0), now=later)
    assert seen(rows.depth)[PHONE] == (1, at(7200))
    assert since[call] < at(7200)


async def test_the_board_lists_counselors_beside_callbacks_of_phone_staff(store: Store) -> None:
    sato = await counselor(store, "sato")
    tanaka = await phone_staff(store, "tanaka")
    both = await store.create_user(new_user("mori", roles=BOTH), now=at(0))
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    first = await call_in(store, "+819011110000")
    second = await call_in(store, "+819022220000")
    (chat,) = await store.save_inbound_batch([inbound("a@x.jp", channel=CHAT)])
    await store.assign(first, tanaka.id, actor_id=boss.id, now=at(10), capacity=None)
    await store.assign(second, both.id, actor_id=boss.id, now=at(10), capacity=None)
    await store.assign(chat.conversation_id, sato.id, actor_id=boss.id, now=at(10), capacity=None)
    rows = await store.board_rows(day_start=at(0), now=ELEVEN)
    loads = {a.user_id: (a.load, dict(a.channel_load)) for a in rows.agents}
    assert loads == {sato.id: (1, {CHAT: 1}), both.id: (1, {PHONE: 1})}
    assert {c.id: c.assignee_id for c in rows.assigned} == {
        first: tanaka.id,
        second: both.id,
        chat.conversation_id: sato.id,
    }
