"""The Store contract: every implementation passes these, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from inbox.core.decisions import Assign
from inbox.core.errors import Conflict, DuplicateKey, NotFound
from inbox.core.model import (
    OPEN_STATUSES,
    Attachment,
    ChannelKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Role,
    UserId,
)
from storage.base import SCHEMA_VERSION, Store
from tests.factories import at, inbound, new_user

OPEN = (ConversationStatus.QUEUED, ConversationStatus.ASSIGNED, ConversationStatus.WAITING)


async def test_migrate_is_idempotent(store: Store) -> None:
    assert await store.schema_version() == SCHEMA_VERSION
    assert await store.migrate() == []


async def test_new_sender_opens_a_queued_conversation(store: Store) -> None:
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp", body="はじめまして")])
    assert not stored.duplicate
    conv = await store.get_conversation(stored.conversation_id)
    assert conv.status is ConversationStatus.QUEUED
    assert conv.assignee_id is None
    assert conv.contact_alias.startswith("相談者-")
    assert conv.channel is ChannelKind.WEBCHAT
    assert conv.last_inbound_at is not None and conv.last_inbound_at.tzinfo is not None
    (msg,) = await store.list_messages(stored.conversation_id)
    assert (msg.id, msg.body, msg.direction) == (
        stored.message_id,
        "はじめまして",
        Direction.INBOUND,
    )
    assert msg.delivery_status is DeliveryStatus.RECEIVED


async def test_redelivery_is_recognized_not_duplicated(store: Store) -> None:
    first = inbound("a@example.jp", external_id="m-1")
    (stored,) = await store.save_inbound_batch([first])
    again = await store.save_inbound_batch([first, inbound("b@example.jp"), first])
    assert again[0] == again[2]
    assert again[0].duplicate and again[0].message_id == stored.message_id
    assert not again[1].duplicate
    assert len(await store.list_messages(stored.conversation_id)) == 1
    assert len(await store.list_messages(again[1].conversation_id)) == 1
    kinds = [(e.kind, e.conversation_id) for e in await store.list_events()]
    a, b = stored.conversation_id, again[1].conversation_id
    assert kinds == [
        ("conversation_opened", a),
        ("message_received", a),
        ("conversation_opened", b),
        ("message_received", b),
    ]


async def test_redelivery_to_a_closed_conversation_opens_nothing(store: Store) -> None:
    """Her conversation was closed since: a redelivered message must not reopen anything (the
    SQLite store writes optimistically and undoes the attempt that tried)."""
    first = inbound("a@example.jp", external_id="m-1")
    (stored,) = await store.save_inbound_batch([first])
    sato = await store.create_user(new_user("sato"), now=at(0))
    await store.close(stored.conversation_id, actor_id=sato.id, now=at(50))
    (again,) = await store.save_inbound_batch([first])
    assert again.duplicate and again.conversation_id == stored.conversation_id
    assert await store.list_conversations(statuses=OPEN_STATUSES) == []


async def test_repeat_inside_one_batch_is_a_duplicate_of_the_first(store: Store) -> None:
    item = inbound("a@example.jp", external_id="same")
    answers = await store.save_inbound_batch([item, item])
    assert [a.duplicate for a in answers] == [False, True]
    assert answers[0].message_id == answers[1].message_id


async def test_same_sender_threads_into_one_conversation(store: Store) -> None:
    answers = await store.save_inbound_batch(
        [inbound("a@example.jp"), inbound("b@example.jp"), inbound("a@example.jp")]
    )
    assert answers[0].conversation_id == answers[2].conversation_id
    assert answers[0].conversation_id != answers[1].conversation_id
    (later,) = await store.save_inbound_batch([inbound("a@example.jp")])
    assert later.conversation_id == answers[0].conversation_id
    a = await store.get_conversation(answers[0].conversation_id)
    b = await store.get_conversation(answers[1].conversation_id)
    assert a.contact_alias != b.contact_alias


async def test_a_conversation_opened_by_several_messages_is_written_in_its_final_state(
    store: Store,
) -> None:
    """Opened and written to in one batch: its latest message's time, events in order."""
    first, second = inbound("a", received_at=at(10)), inbound("a", received_at=at(20))
    a1, a2 = await store.save_inbound_batch([first, second])
    conv = await store.get_conversation(a1.conversation_id)
    assert conv.last_inbound_at == at(20) and conv.status is ConversationStatus.QUEUED
    snapshot = {w.id: w for w in (await store.routing_snapshot()).waiting}
    assert snapshot[conv.id].waiting_since == at(10)  # since her first message
    kinds = [(e.kind, e.message_id) for e in await store.list_events()]
    assert kinds == [
        ("conversation_opened", None),
        ("message_received", a1.message_id),
        ("message_received", a2.message_id),
    ]


async def test_same_address_on_another_channel_is_another_conversation(store: Store) -> None:
    web, mail = await store.save_inbound_batch(
        [inbound("x"), inbound("x", channel=ChannelKind.MAIL)]
    )
    assert web.conversation_id != mail.conversation_id


async def test_attachments_round_trip(store: Store) -> None:
    att = Attachment(filename="写真.jpg", content_type="image/jpeg", size_bytes=1234)
    (stored,) = await store.save_inbound_batch([inbound(attachments=(att,))])
    (msg,) = await store.list_messages(stored.conversation_id)
    assert msg.attachments == (att,)


async def test_intake_events_carry_ids_not_bodies(store: Store) -> None:
    (stored,) = await store.save_inbound_batch([inbound("secret@example.jp", body="秘密の本文")])
    events = await store.list_events()
    kinds = [e.kind for e in events]
    assert kinds == ["conversation_opened", "message_received"]
    assert events[1].message_id == stored.message_id
    assert events[1].conversation_id == stored.conversation_id
    assert "秘密" not in repr(events) and "secret@" not in repr(events)
    assert [e.id for e in await store.list_events(after_id=events[0].id)] == [events[1].id]


async def _counselor(store: Store, name: str = "sato", capacity: int = 3) -> UserId:
    return (await store.create_user(new_user(name, capacity=capacity), now=at(0))).id


async def test_snapshot_orders_by_wait_and_counts_load(store: Store) -> None:
    sato = await _counselor(store, "sato", capacity=2)
    await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    late = inbound("late", received_at=at(50))
    early = inbound("early", received_at=at(10))
    a, b = await store.save_inbound_batch([late, early])
    snap = await store.routing_snapshot()
    assert [w.id for w in snap.waiting] == [b.conversation_id, a.conversation_id]
    assert [(g.user_id, g.capacity, g.load) for g in snap.agents] == [(sato, 2, 0)]
    await store.apply_assignments(
        [Assign(conversation_id=b.conversation_id, user_id=sato, capacity=2)], now=at(60)
    )
    snap = await store.routing_snapshot()
    assert [w.id for w in snap.waiting] == [a.conversation_id]
    assert snap.agents[0].load == 1


async def test_assignments_never_exceed_capacity(store: Store) -> None:
    sato = await _counselor(store, capacity=2)
    convs = [
        s.conversation_id
        for s in await store.save_inbound_batch([inbound(f"u{i}") for i in range(3)])
    ]
    applied = await store.apply_assignments(
        [Assign(conversation_id=c, user_id=sato, capacity=2) for c in convs], now=at(10)
    )
    assert [a.conversation_id for a in applied] == convs[:2]
    # a stale decision (the same conversation again, or more than capacity) does not apply
    again = await store.apply_assignments(
        [
            Assign(conversation_id=convs[2], user_id=sato, capacity=2),
            Assign(conversation_id=convs[0], user_id=sato, capacity=9),
        ],
        now=at(11),
    )
    assert again == []
    conv = await store.get_conversation(convs[0])
    assert (conv.status, conv.assignee_id) == (ConversationStatus.ASSIGNED, sato)
    assert [e.kind for e in await store.list_events()].count("conversation_assigned") == 2


async def test_disabled_counselor_gets_nothing(store: Store) -> None:
    sato = await _counselor(store)
    await store.set_user_disabled("sato", True, now=at(1))
    (s,) = await store.save_inbound_batch([inbound()])
    assert (
        await store.apply_assignments(
            [Assign(conversation_id=s.conversation_id, user_id=sato, capacity=3)], now=at(2)
        )
        == []
    )
    assert (await store.routing_snapshot()).agents == ()


async def test_visibility_for_a_counselor(store: Store) -> None:
    sato = await _counselor(store, "sato")
    suzuki = await _counselor(store, "suzuki")
    mine, theirs, queued = await store.save_inbound_batch(
        [inbound("1"), inbound("2"), inbound("3")]
    )
    await store.assign(mine.conversation_id, sato, actor_id=sato, now=at(5), capacity=3)
    await store.assign(theirs.conversation_id, suzuki, actor_id=suzuki, now=at(5), capacity=3)
    visible = await store.list_conversations(statuses=OPEN, visible_to=sato)
    assert {c.id for c in visible} == {mine.conversation_id, queued.conversation_id}
    everything = await store.list_conversations(statuses=OPEN)
    assert len(everything) == 3
    only_mail = await store.list_conversations(statuses=OPEN, channels=[ChannelKind.MAIL])
    assert only_mail == []


async def test_manual_assign_checks(store: Store) -> None:
    sato = await _counselor(store, capacity=1)
    boss = (
        await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    ).id
    one, two = await store.save_inbound_batch([inbound("1"), inbound("2")])
    await store.assign(one.conversation_id, sato, actor_id=sato, now=at(1), capacity=1)
    with pytest.raises(Conflict, match="capacity"):
        await store.assign(two.conversation_id, sato, actor_id=sato, now=at(2), capacity=1)
    over = await store.assign(two.conversation_id, sato, actor_id=boss, now=at(2), capacity=None)
    assert over.assignee_id == sato
    with pytest.raises(Conflict, match="counselor"):
        await store.assign(one.conversation_id, boss, actor_id=boss, now=at(3), capacity=None)
    with pytest.raises(NotFound):
        await store.assign(999_999, sato, actor_id=boss, now=at(3), capacity=None)  # type: ignore[arg-type]


async def test_reply_goes_through_the_outbox(store: Store) -> None:
    sato = await _counselor(store)
    (s,) = await store.save_inbound_batch([inbound("consulter-addr")])
    await store.assign(s.conversation_id, sato, actor_id=sato, now=at(1), capacity=3)
    reply = await store.add_reply(s.conversation_id, author_id=sato, body="お返事です", now=at(2))
    assert (reply.direction, reply.delivery_status) == (Direction.OUTBOUND, DeliveryStatus.PENDING)
    assert (await store.get_conversation(s.conversation_id)).status is ConversationStatus.WAITING
    assert await store.next_outbox_due() == at(2)

    (item,) = await store.claim_outbox(now=at(3), limit=10, lease_s=30)
    assert item.attempts == 1
    assert item.message.recipient == "consulter-addr"
    assert (item.message.body, item.message.message_id) == ("お返事です", reply.id)
    assert await store.claim_outbox(now=at(4), limit=10, lease_s=30) == []  # claimed
    (again,) = await store.claim_outbox(now=at(40), limit=10, lease_s=30)  # lease expired
    assert again.attempts == 2

    await store.mark_sent(item.outbox_id, provider_id="prov-1", now=at(41))
    assert await store.claim_outbox(now=at(500), limit=10, lease_s=30) == []
    assert await store.next_outbox_due() is None
    msgs = await store.list_messages(s.conversation_id)
    assert msgs[-1].delivery_status is DeliveryStatus.SENT
    assert msgs[-1].external_id == "prov-1"


async def test_retry_then_failure(store: Store) -> None:
    sato = await _counselor(store)
    (s,) = await store.save_inbound_batch([inbound()])
    await store.add_reply(s.conversation_id, author_id=sato, body="x", now=at(1))
    (item,) = await store.claim_outbox(now=at(2), limit=10, lease_s=30)
    await store.mark_retry(item.outbox_id, error="timeout", retry_at=at(100), now=at(3))
    assert await store.claim_outbox(now=at(50), limit=10, lease_s=30) == []
    assert await store.next_outbox_due() == at(100)
    (item,) = await store.claim_outbox(now=at(100), limit=10, lease_s=30)
    await store.mark_failed(item.outbox_id, error="refused", now=at(101))
    msgs = await store.list_messages(s.conversation_id)
    assert msgs[-1].delivery_status is DeliveryStatus.FAILED
    assert "reply_failed" in [e.kind for e in await store.list_events()]
    with pytest.raises(NotFound):
        await store.mark_failed(999_999, error="x", now=at(1))  # type: ignore[arg-type]


async def test_consulter_writing_again_brings_the_conversation_back(store: Store) -> None:
    sato = await _counselor(store)
    (s,) = await store.save_inbound_batch([inbound("a")])
    await store.assign(s.conversation_id, sato, actor_id=sato, now=at(1), capacity=3)
    await store.add_reply(s.conversation_id, author_id=sato, body="x", now=at(2))
    await store.save_inbound_batch([inbound("a")])
    assert (await store.get_conversation(s.conversation_id)).status is ConversationStatus.ASSIGNED


async def test_notes_stay_internal(store: Store) -> None:
    sato = await _counselor(store)
    (s,) = await store.save_inbound_batch([inbound("a", body="相談です")])
    note = await store.add_note(s.conversation_id, author_id=sato, body="メモ", now=at(1))
    assert note.direction is Direction.NOTE
    assert await store.claim_outbox(now=at(2), limit=10, lease_s=1) == []
    await store.add_reply(s.conversation_id, author_id=sato, body="返信", now=at(3))
    key = inbound("a").identity_hash
    history = await store.consulter_history(ChannelKind.WEBCHAT, key)
    assert [m.body for m in history] == ["相談です", "返信"]
    assert await store.consulter_history(ChannelKind.WEBCHAT, "unknown") == []
    assert len(await store.list_messages(s.conversation_id, include_notes=False)) == 2
    with pytest.raises(NotFound):
        await store.add_note(999_999, author_id=sato, body="x", now=at(1))  # type: ignore[arg-type]


async def test_consulter_history_pages_back_from_the_latest(store: Store) -> None:
    sato = await _counselor(store)
    batch = [inbound("a", body=f"m{i}", external_id=f"a{i}", received_at=at(i)) for i in range(5)]
    (first, *_) = await store.save_inbound_batch(batch)
    await store.add_note(first.conversation_id, author_id=sato, body="メモ", now=at(6))
    await store.add_reply(first.conversation_id, author_id=sato, body="r", now=at(7))
    key = inbound("a").identity_hash

    latest = await store.consulter_history(ChannelKind.WEBCHAT, key, limit=3)
    assert [m.body for m in latest] == ["m3", "m4", "r"]  # oldest first, the note left out
    older = await store.consulter_history(ChannelKind.WEBCHAT, key, limit=3, before=latest[0].id)
    assert [m.body for m in older] == ["m0", "m1", "m2"]
    assert await store.consulter_history(ChannelKind.WEBCHAT, key, before=older[0].id) == []
    assert await store.consulter_history(ChannelKind.WEBCHAT, "unknown", before=older[0].id) == []
    # closed, then she writes again: a new conversation, and her history goes on across both
    await store.close(first.conversation_id, actor_id=sato, now=at(8))
    (again,) = await store.save_inbound_batch(
        [inbound("a", body="again", external_id="a9", received_at=at(9))]
    )
    assert again.conversation_id != first.conversation_id
    history = await store.consulter_history(ChannelKind.WEBCHAT, key, limit=3)
    assert [m.body for m in history] == ["m4", "r", "again"]
    assert [m.conversation_id for m in history] == [first.conversation_id] * 2 + [
        again.conversation_id
    ]
    # another consulter's conversations never join hers
    await store.save_inbound_batch([inbound("b", body="other", external_id="b1")])
    assert "other" not in [m.body for m in await store.consulter_history(ChannelKind.WEBCHAT, key)]


async def test_closing(store: Store) -> None:
    sato = await _counselor(store)
    (s,) = await store.save_inbound_batch([inbound("a")])
    closed = await store.close(s.conversation_id, actor_id=sato, now=at(1))
    assert closed.status is ConversationStatus.CLOSED
    with pytest.raises(Conflict):
        await store.close(s.conversation_id, actor_id=sato, now=at(2))
    with pytest.raises(Conflict):
        await store.add_reply(s.conversation_id, author_id=sato, body="x", now=at(2))
    (later,) = await store.save_inbound_batch([inbound("a")])
    assert later.conversation_id != s.conversation_id  # a new conversation, same contact
    new = await store.get_conversation(later.conversation_id)
    assert new.contact_alias == closed.contact_alias
    with pytest.raises(NotFound):
        await store.get_conversation(999_999)  # type: ignore[arg-type]


async def test_users_sessions_and_tokens(store: Store) -> None:
    user = await store.create_user(
        new_user("tanaka", roles=frozenset({Role.SUPERVISOR, Role.COUNSELOR})), now=at(0)
    )
    assert user.roles == {Role.SUPERVISOR, Role.COUNSELOR}
    with pytest.raises(DuplicateKey, match="tanaka") as taken:
        await store.create_user(new_user("tanaka"), now=at(0))
    assert taken.value.key == "username"  # the API answers 409 naming this field
    found = await store.find_login("tanaka")
    assert found is not None and found[0] == user and found[1].startswith("$argon2id$")
    assert await store.find_login("nobody") is None
    await store.set_password_hash(user.id, "$argon2id$new")
    assert (await store.find_login("tanaka") or (user, ""))[1] == "$argon2id$new"

    await store.create_session("s-hash", user.id, now=at(0), expires_at=at(3600))
    assert await store.session_user("s-hash", now=at(10)) == user
    assert await store.session_user("s-hash", now=at(3601)) is None
    await store.create_api_token("t-hash", user.id, name="script", now=at(0))
    assert await store.token_user("t-hash") == user
    assert await store.token_user("other") is None

    await store.set_user_disabled("tanaka", True, now=at(5))
    assert await store.session_user("s-hash", now=at(10)) is None
    assert await store.token_user("t-hash") is None
    assert [u.disabled for u in await store.list_users()] == [True]
    assert await store.display_names() == {user.id: user.display_name}  # disabled ones too
    await store.delete_session("s-hash")
    with pytest.raises(NotFound):
        await store.set_user_disabled("nobody", True, now=at(5))
    with pytest.raises(NotFound):
        await store.get_user(999_999)  # type: ignore[arg-type]


async def test_record_event(store: Store) -> None:
    assert await store.last_event_id() == 0
    await store.record_event("signed_in", now=at(1), data={"user_id": 1})
    (event,) = await store.list_events()
    assert await store.last_event_id() == event.id
    assert (event.kind, event.at, event.data) == ("signed_in", at(1), {"user_id": 1})


async def test_disabling_a_counselor_puts_her_conversations_back_in_the_queue(
    store: Store,
) -> None:
    sato, suzuki = await _counselor(store), await _counselor(store, "suzuki")
    a, b, c, d = await store.save_inbound_batch([inbound(s) for s in "abcd"])
    for conv in (a, b, c):
        await store.assign(conv.conversation_id, sato, actor_id=sato, now=at(1), capacity=None)
    await store.assign(d.conversation_id, suzuki, actor_id=suzuki, now=at(1), capacity=None)
    await store.add_reply(b.conversation_id, author_id=sato, body="お返事", now=at(2))  # waiting
    await store.close(c.conversation_id, actor_id=sato, now=at(3))
    await store.set_user_disabled("sato", True, now=at(4))
    got = {
        k: await store.get_conversation(s.conversation_id)
        for k, s in {"a": a, "b": b, "c": c, "d": d}.items()
    }
    assert (got["a"].status, got["a"].assignee_id) == (ConversationStatus.QUEUED, None)
    assert (got["b"].status, got["b"].assignee_id) == (ConversationStatus.WAITING, None)
    assert got["c"].status is ConversationStatus.CLOSED  # closed ones stay as they were
    assert got["d"].assignee_id == suzuki
    requeued = [
        (e.conversation_id, e.data)
        for e in await store.list_events()
        if e.kind == "conversation_requeued"
    ]
    reason = {"from_user_id": sato, "reason": "user_disabled"}
    assert requeued == [(a.conversation_id, reason), (b.conversation_id, reason)]
    waiting = [w.id for w in (await store.routing_snapshot()).waiting]
    assert a.conversation_id in waiting
