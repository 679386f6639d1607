"""The Store contract of live collaboration, on both stores: no double replies (a reply that
follows another staff member's unseen reply is refused, naming who) and the consulter's read
state of web chat."""

from __future__ import annotations

import asyncio

import pytest

from inbox.core.errors import ReplyCollision
from inbox.core.model import ChannelKind, ConversationId, MessageId, Role
from storage.base import Store
from tests.factories import at, counselor, inbound, new_user


async def _chat(
    store: Store, sender: str = "chat-session-1"
) -> tuple[ConversationId, MessageId, str]:
    item = inbound(sender, body="聞いてほしいことがあります")
    (stored,) = await store.save_inbound_batch([item])
    return stored.conversation_id, stored.message_id, item.identity_hash


async def test_a_reply_after_another_staff_members_unseen_reply_is_refused(store: Store) -> None:
    conv_id, first, _ = await _chat(store)
    sato = await counselor(store, "sato")
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    other = await store.add_reply(conv_id, author_id=boss.id, body="上司の返信", now=at(1))
    before = await store.list_messages(conv_id)
    with pytest.raises(ReplyCollision) as refused:
        await store.add_reply(
            conv_id, author_id=sato.id, body="二重の返信", now=at(2), seen_up_to=first
        )
    assert refused.value.authors == ("Boss",)
    assert await store.list_messages(conv_id) == before  # nothing stored, nothing queued
    # Having seen it, she may answer; her own earlier reply never counts against her.
    mine = await store.add_reply(
        conv_id, author_id=sato.id, body="続けて", now=at(3), seen_up_to=other.id
    )
    again = await store.add_reply(
        conv_id, author_id=sato.id, body="もう一通", now=at(4), seen_up_to=other.id
    )
    assert again.id > mine.id
    # Without seen_up_to (force) it goes out whatever came before.
    await store.add_reply(conv_id, author_id=boss.id, body="強制", now=at(5))


async def test_a_collision_names_each_author_once_in_order(store: Store) -> None:
    conv_id, first, _ = await _chat(store)
    sato, suzuki, tanaka = [await counselor(store, n) for n in ("sato", "suzuki", "tanaka")]
    for author in (suzuki, tanaka, suzuki):
        await store.add_reply(conv_id, author_id=author.id, body="返信", now=at(2))
    await store.add_note(conv_id, author_id=tanaka.id, body="メモは返信ではない", now=at(3))
    with pytest.raises(ReplyCollision) as refused:
        await store.add_reply(conv_id, author_id=sato.id, body="x", now=at(4), seen_up_to=first)
    assert refused.value.authors == ("Suzuki", "Tanaka")


async def test_automatic_replies_do_not_count_as_another_staff_members(store: Store) -> None:
    conv_id, first, _ = await _chat(store)
    sato = await counselor(store, "sato")
    auto = await store.claim_auto_reply(
        conv_id, "received", body="受け付けました", discreet_body="受付", now=at(1)
    )
    assert auto is not None
    reply = await store.add_reply(
        conv_id, author_id=sato.id, body="お返事です", now=at(2), seen_up_to=first
    )
    assert reply.body == "お返事です"


async def test_her_read_state_advances_to_the_latest_reply_she_was_shown(store: Store) -> None:
    conv_id, first, key = await _chat(store)
    sato = await counselor(store, "sato")
    one = await store.add_reply(conv_id, author_id=sato.id, body="一通目", now=at(1))
    two = await store.add_reply(conv_id, author_id=sato.id, body="二通目", now=at(2))
    assert (await store.get_conversation(conv_id)).consulter_read_message_id is None
    # Up to her own message: no reply of ours read yet, nothing changes.
    assert await store.mark_consulter_read(ChannelKind.WEBCHAT, key, first, now=at(3)) is None
    assert await store.mark_consulter_read(ChannelKind.WEBCHAT, key, one.id, now=at(4)) == (
        conv_id,
        one.id,
    )
    # Any id past the latest reply reads up to that reply.
    read = await store.mark_consulter_read(
        ChannelKind.WEBCHAT, key, MessageId(two.id + 50), now=at(5)
    )
    assert read == (conv_id, two.id)
    # Never backwards, and a repeat is no change (no second event).
    assert await store.mark_consulter_read(ChannelKind.WEBCHAT, key, one.id, now=at(6)) is None
    assert await store.mark_consulter_read(ChannelKind.WEBCHAT, key, two.id, now=at(7)) is None
    assert (await store.get_conversation(conv_id)).consulter_read_message_id == two.id
    reads = [e for e in await store.list_events() if e.kind == "consulter_read"]
    assert [(e.conversation_id, e.message_id, e.actor_id) for e in reads] == [
        (conv_id, one.id, None),
        (conv_id, two.id, None),
    ]


async def test_she_cannot_mark_another_consulters_conversation_read(store: Store) -> None:
    conv_id, _, key = await _chat(store, "session-a")
    other_id, _, _ = await _chat(store, "session-b")
    sato = await counselor(store, "sato")
    theirs = await store.add_reply(other_id, author_id=sato.id, body="あなた宛ではない", now=at(1))
    # Her own conversation has no reply up to that id: nothing is marked anywhere.
    assert await store.mark_consulter_read(ChannelKind.WEBCHAT, key, theirs.id, now=at(2)) is None
    assert (await store.get_conversation(other_id)).consulter_read_message_id is None
    assert (await store.get_conversation(conv_id)).consulter_read_message_id is None
    assert (
        await store.mark_consulter_read(ChannelKind.WEBCHAT, "nobody", theirs.id, now=at(3)) is None
    )
    assert (
        await store.mark_consulter_read(ChannelKind.WEBCHAT, key, MessageId(2**63), now=at(4))
        is None
    )


async def test_of_two_replies_at_once_from_the_same_view_one_is_refused(store: Store) -> None:
    conv_id, first, _ = await _chat(store)
    sato, suzuki = await counselor(store, "sato"), await counselor(store, "suzuki")
    results = await asyncio.gather(
        *(
            store.add_reply(conv_id, author_id=a.id, body="同時の返信", now=at(1), seen_up_to=first)
            for a in (sato, suzuki)
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, ReplyCollision)]
    assert len(refused) == 1, results
    sent = [m for m in await store.list_messages(conv_id) if m.author_id is not None]
    assert len(sent) == 1
    assert refused[0].authors == (("Sato",) if sent[0].author_id == sato.id else ("Suzuki",))
