"""The Store contract for routing v2 (profiles, labels, offers, supervision), on both stores."""

from __future__ import annotations

import dataclasses
from datetime import time

import pytest

from inbox.core.decisions import Assign
from inbox.core.errors import Conflict, NotFound
from inbox.core.model import (
    ChannelKind,
    ConversationId,
    ConversationStatus,
    CounselorUpdate,
    Direction,
    IntakeLabels,
    Presence,
    Role,
    Shift,
    UserId,
)
from storage.base import KeyedInbound, Store
from tests.factories import at, counselor, inbound, new_user

PHONE = ChannelKind.PHONE
CHAT = ChannelKind.WEBCHAT


def labelled(item: KeyedInbound, **labels: object) -> KeyedInbound:
    return dataclasses.replace(item, labels=IntakeLabels(**labels))  # type: ignore[arg-type]


async def test_rules_labels_open_and_raise_a_conversation(store: Store) -> None:
    (first,) = await store.save_inbound_batch(
        [labelled(inbound("a@x.jp"), priority=10, skill="dv", tags=frozenset({"dv"}))]
    )
    conv = await store.get_conversation(first.conversation_id)
    assert (conv.priority, conv.skill, conv.team, conv.tags) == (10, "dv", None, ("dv",))
    # Later messages: priority only rises, a set skill stays, tags add up.
    await store.save_inbound_batch(
        [
            labelled(inbound("a@x.jp"), priority=5, skill="debt", team="night"),
            labelled(inbound("a@x.jp"), priority=100, tags=frozenset({"urgent", "dv"})),
        ]
    )
    conv = await store.get_conversation(first.conversation_id)
    assert (conv.priority, conv.skill, conv.team) == (100, "dv", "night")
    assert sorted(conv.tags) == ["dv", "urgent"]
    (waiting,) = (await store.routing_snapshot()).waiting
    assert (waiting.skill, waiting.team, waiting.priority) == ("dv", "night", 100)


async def test_update_counselor_round_trips_her_profile(store: Store) -> None:
    sato = await counselor(store, "sato")
    shift = Shift(weekly=(((time(9), time(17, 30)),),) + ((),) * 6)
    change = CounselorUpdate(
        presence=Presence.AWAY,
        capacity=5,
        channel_capacity=((PHONE, 1),),
        skills=frozenset({"dv"}),
        languages=frozenset({"ja", "en"}),
        teams=frozenset({"night"}),
        shift=shift,
    )
    updated = await store.update_counselor(sato.id, change, actor_id=sato.id, now=at(1))
    assert updated == await store.get_user(sato.id)
    assert updated.presence is Presence.AWAY and updated.capacity == 5
    assert updated.channel_capacity == ((PHONE, 1),)
    assert updated.skills == {"dv"} and updated.languages == {"ja", "en"}
    assert updated.teams == {"night"} and updated.shift == shift
    (agent,) = (await store.routing_snapshot()).agents
    assert (agent.presence, agent.shift, agent.teams) == (
        Presence.AWAY,
        shift,
        frozenset({"night"}),
    )
    assert agent.channel_capacity == ((PHONE, 1),)
    cleared = await store.update_counselor(
        sato.id, CounselorUpdate(clear_shift=True), actor_id=sato.id, now=at(2)
    )
    assert cleared.shift is None and cleared.capacity == 5
    events = [e for e in await store.list_events() if e.kind == "counselor_updated"]
    assert events[0].data["fields"] == [
        "presence", "capacity", "channel_capacity", "skills", "languages", "teams", "shift"
    ]  # fmt: skip
    assert events[1].data["fields"] == ["shift"]


async def test_update_counselor_refuses_unknown_and_non_counselors(store: Store) -> None:
    admin = await store.create_user(new_user("admin", roles=frozenset({Role.ADMIN})), now=at(0))
    change = CounselorUpdate(capacity=1)
    with pytest.raises(NotFound):
        await store.update_counselor(UserId(999), change, actor_id=admin.id, now=at(1))
    with pytest.raises(Conflict, match="not a counselor"):
        await store.update_counselor(admin.id, change, actor_id=admin.id, now=at(1))


async def test_apply_checks_presence_and_channel_capacity(store: Store) -> None:
    both = frozenset({Role.COUNSELOR, Role.PHONE_STAFF})  # calls go to phone staff only
    sato = await store.create_user(new_user("sato", roles=both, capacity=3), now=at(0))
    await store.update_counselor(
        sato.id, CounselorUpdate(channel_capacity=((PHONE, 1),)), actor_id=sato.id, now=at(0)
    )
    stored = await store.save_inbound_batch(
        [inbound("p1", channel=PHONE), inbound("p2", channel=PHONE), inbound("c1", channel=CHAT)]
    )
    p1, p2, c1 = (s.conversation_id for s in stored)

    def offer(conv: ConversationId, channel: ChannelKind) -> Assign:
        cap = 1 if channel is PHONE else None
        return Assign(
            conversation_id=conv, user_id=sato.id, capacity=3, channel=channel, channel_capacity=cap
        )

    applied = await store.apply_assignments(
        [offer(p1, PHONE), offer(p2, PHONE), offer(c1, CHAT)], now=at(5)
    )
    assert [a.conversation_id for a in applied] == [p1, c1]
    (agent,) = (await store.routing_snapshot()).agents
    assert agent.load == 2 and dict(agent.channel_load) == {PHONE: 1, CHAT: 1}
    assert agent.idle_since == at(5)
    conv = await store.get_conversation(p1)
    assert conv.offered_at == at(5) and conv.opened_at is None
    # Away since the snapshot: the router's decision no longer holds.
    await store.update_counselor(
        sato.id, CounselorUpdate(presence=Presence.AWAY), actor_id=sato.id, now=at(6)
    )
    assert await store.apply_assignments([offer(p2, CHAT)], now=at(7)) == []


async def test_apply_writes_each_offer_with_its_event(store: Store) -> None:
    sato, suzuki, kato = [await counselor(store, name) for name in ("sato", "suzuki", "kato")]
    stored = await store.save_inbound_batch([inbound(f"s{i}") for i in range(4)])
    c0, c1, c2, c3 = (s.conversation_id for s in stored)
    plan = [
        Assign(conversation_id=c0, user_id=sato.id, capacity=3),
        Assign(conversation_id=c1, user_id=suzuki.id, capacity=3),
        Assign(conversation_id=c0, user_id=suzuki.id, capacity=3),  # taken a line above
        Assign(conversation_id=c2, user_id=sato.id, capacity=3),
        Assign(conversation_id=c3, user_id=UserId(999), capacity=3),  # nobody
    ]
    applied = await store.apply_assignments(plan, now=at(5))
    assert applied == [plan[0], plan[1], plan[3]]
    for conv, user in ((c0, sato), (c1, suzuki), (c2, sato)):
        got = await store.get_conversation(conv)
        assert (got.status, got.assignee_id, got.offered_at) == (
            ConversationStatus.ASSIGNED,
            user.id,
            at(5),
        )
    assert (await store.get_conversation(c3)).status is ConversationStatus.QUEUED
    events = [e for e in await store.list_events() if e.kind == "conversation_assigned"]
    assert sorted((e.conversation_id, dict(e.data), e.at) for e in events) == [
        (c0, {"user_id": sato.id, "by": "router"}, at(5)),
        (c1, {"user_id": suzuki.id, "by": "router"}, at(5)),
        (c2, {"user_id": sato.id, "by": "router"}, at(5)),
    ]
    snap = await store.routing_snapshot()
    assert [(g.user_id, g.load, g.idle_since) for g in snap.agents] == [
        (sato.id, 2, at(5)),
        (suzuki.id, 1, at(5)),
        (kato.id, 0, None),  # no offer: her idle time stands
    ]
    assert [w.id for w in snap.waiting] == [c3]
    # Nothing holds any more: nothing is written.
    logged = len(await store.list_events())
    assert await store.apply_assignments(plan, now=at(6)) == []
    assert len(await store.list_events()) == logged


async def test_snapshot_names_the_previous_counselor(store: Store) -> None:
    sato = await counselor(store, "sato")
    (first,) = await store.save_inbound_batch([inbound("a@x.jp")])
    await store.assign(first.conversation_id, sato.id, actor_id=sato.id, now=at(10), capacity=3)
    await store.close(first.conversation_id, actor_id=sato.id, now=at(20))
    await store.save_inbound_batch([inbound("a@x.jp"), inbound("b@x.jp")])
    again, other = (await store.routing_snapshot()).waiting
    assert (again.previous_assignee, again.previous_at) == (sato.id, at(20))
    assert other.previous_assignee is None


async def test_offers_lapse_back_to_the_queue_unless_opened(store: Store) -> None:
    sato = await counselor(store, "sato")
    stored = await store.save_inbound_batch([inbound("a"), inbound("b")])
    a, b = (s.conversation_id for s in stored)
    await store.apply_assignments(
        [Assign(conversation_id=c, user_id=sato.id, capacity=3) for c in (a, b)], now=at(10)
    )
    assert await store.mark_opened(a, sato.id, now=at(20))
    assert not await store.mark_opened(a, sato.id, now=at(21))  # only the first time
    assert not await store.mark_opened(b, UserId(999), now=at(21))  # not hers
    assert await store.requeue_lapsed_offers(offered_before=at(10), now=at(30)) == []
    lapsed = await store.requeue_lapsed_offers(offered_before=at(70), now=at(70))
    assert lapsed == [(b, sato.id)]
    conv = await store.get_conversation(b)
    assert conv.status is ConversationStatus.QUEUED and conv.assignee_id is None
    (waiting,) = (await store.routing_snapshot()).waiting
    assert waiting.id == b and waiting.declined_by == {sato.id}
    assert waiting.waiting_since == (await store.routing_snapshot()).waiting[0].waiting_since
    assert (await store.get_conversation(a)).status is ConversationStatus.ASSIGNED
    kinds = [(e.kind, e.conversation_id) for e in await store.list_events()]
    assert ("offer_opened", a) in kinds and ("offer_lapsed", b) in kinds


async def test_requeue_hands_over_with_a_note(store: Store) -> None:
    sato = await counselor(store, "sato")
    (s,) = await store.save_inbound_batch([inbound("a")])
    await store.assign(s.conversation_id, sato.id, actor_id=sato.id, now=at(10), capacity=3)
    conv = await store.requeue(
        s.conversation_id, actor_id=sato.id, now=at(20), note="引き継ぎ: 夜間に再連絡"
    )
    assert conv.status is ConversationStatus.QUEUED and conv.assignee_id is None
    note = (await store.list_messages(s.conversation_id))[-1]
    assert (note.direction, note.body) == (Direction.NOTE, "引き継ぎ: 夜間に再連絡")
    (event,) = [e for e in await store.list_events() if e.kind == "conversation_requeued"]
    assert event.data == {"from_user_id": sato.id, "handover_note": True}
    await store.close(s.conversation_id, actor_id=sato.id, now=at(30))
    with pytest.raises(Conflict):
        await store.requeue(s.conversation_id, actor_id=sato.id, now=at(31))
    with pytest.raises(NotFound):
        await store.requeue(ConversationId(999), actor_id=sato.id, now=at(31))


async def test_paused_channel_stays_queued_and_counted(store: Store) -> None:
    sato = await counselor(store, "sato")
    await store.save_inbound_batch(
        [
            inbound("p", channel=PHONE),
            labelled(inbound("c", channel=CHAT), priority=100),
            inbound("d", channel=CHAT),
        ]
    )
    await store.set_channel_paused(PHONE, True, actor_id=sato.id, now=at(1))
    assert await store.paused_channels() == {PHONE}
    assert {w.channel for w in (await store.routing_snapshot()).waiting} == {CHAT}
    depth = [(d.channel, d.priority, d.count) for d in await store.queue_depth(now=at(2))]
    assert depth == [(CHAT, 100, 1), (PHONE, 0, 1), (CHAT, 0, 1)]  # by priority, then channel
    await store.set_channel_paused(PHONE, False, actor_id=sato.id, now=at(2))
    assert await store.paused_channels() == frozenset()
    assert len((await store.routing_snapshot()).waiting) == 3
    kinds = [e.kind for e in await store.list_events()]
    assert "channel_paused" in kinds and "channel_resumed" in kinds


async def test_an_auto_reply_of_a_kind_is_queued_once_ever(store: Store) -> None:
    (s,) = await store.save_inbound_batch([inbound("a")])
    conv_id = s.conversation_id
    reply = await store.claim_auto_reply(
        conv_id, "after_hours", body="受付時間外です", discreet_body="受け付けました", now=at(5)
    )
    assert reply is not None
    assert (reply.direction, reply.body, reply.author_id) == (
        Direction.OUTBOUND,
        "受付時間外です",
        None,
    )
    (item,) = await store.claim_outbox(now=at(6), limit=10, lease_s=30)
    assert item.message.message_id == reply.id and item.message.recipient == "a"
    again = await store.claim_auto_reply(
        conv_id, "after_hours", body="x", discreet_body="x", now=at(7)
    )
    assert again is None
    other = await store.claim_auto_reply(
        conv_id, "queue_ack", body="y", discreet_body="y", now=at(8)
    )
    assert other is not None  # another kind is another reply
    # The conversation still waits for a human: an auto-reply is not an answer.
    assert (await store.get_conversation(conv_id)).status is ConversationStatus.QUEUED
    (event,) = [e for e in await store.list_events() if e.kind == "auto_reply_queued"][:1]
    assert event.data == {"kind": "after_hours", "discreet": False, "language": None}
    with pytest.raises(NotFound):
        await store.claim_auto_reply(ConversationId(999), "k", body="", discreet_body="", now=at(9))


async def test_discretion_picks_the_neutral_text(store: Store) -> None:
    sato = await counselor(store, "sato")
    (s,) = await store.save_inbound_batch([inbound("a")])
    await store.set_discretion(s.conversation_id, True, actor_id=sato.id, now=at(1))
    reply = await store.claim_auto_reply(
        s.conversation_id,
        "after_hours",
        body="〇〇市DV相談です",
        discreet_body="受け付けました",
        now=at(2),
    )
    assert reply is not None and reply.body == "受け付けました"
    # It belongs to the contact: her next conversation is discreet too.
    await store.close(s.conversation_id, actor_id=sato.id, now=at(3))
    (t,) = await store.save_inbound_batch([inbound("a")])
    reply = await store.claim_auto_reply(
        t.conversation_id,
        "after_hours",
        body="〇〇市DV相談です",
        discreet_body="受け付けました",
        now=at(4),
    )
    assert reply is not None and reply.body == "受け付けました"
    kinds = [e.kind for e in await store.list_events()]
    assert "discretion_set" in kinds


async def test_an_auto_reply_goes_in_her_language_alone_where_it_is_known(store: Store) -> None:
    versions = (("ja", "日本語だけ", "日本語・控えめ"), ("en", "English only", "English, discreet"))
    plain = {"body": "日本語 / English", "discreet_body": "控えめ / discreet"}
    # known before her first message stores a contact: her chat says it first
    en = inbound("en-speaker")
    await store.set_consulter_language(ChannelKind.WEBCHAT, en.identity_hash, "ja", now=at(0))
    await store.set_consulter_language(ChannelKind.WEBCHAT, en.identity_hash, "en", now=at(1))
    (s,) = await store.save_inbound_batch([en])
    reply = await store.claim_auto_reply(
        s.conversation_id, "after_hours", **plain, now=at(2), by_language=versions
    )
    assert reply is not None and reply.body == "English only"  # the last one she set
    # her language, but no version in it: as written
    other_kind = await store.claim_auto_reply(
        s.conversation_id, "rule:x", **plain, now=at(2), by_language=versions[:1]
    )
    assert other_kind is not None and other_kind.body == "日本語 / English"
    # her language and discretion: the discreet version in it
    sato = await counselor(store, "sato")
    await store.set_discretion(s.conversation_id, True, actor_id=sato.id, now=at(3))
    discreet = await store.claim_auto_reply(
        s.conversation_id, "queue_ack", **plain, now=at(4), by_language=versions
    )
    assert discreet is not None and discreet.body == "English, discreet"
    # unknown language (or another channel's address): as written
    (u,) = await store.save_inbound_batch([inbound("unknown")])
    mail = inbound("en-speaker", channel=ChannelKind.MAIL)
    (m,) = await store.save_inbound_batch([mail])
    for conv_id in (u.conversation_id, m.conversation_id):
        reply = await store.claim_auto_reply(
            conv_id, "after_hours", **plain, now=at(5), by_language=versions
        )
        assert reply is not None and reply.body == "日本語 / English"
    events = [e.data for e in await store.list_events() if e.kind == "auto_reply_queued"]
    assert events[0] == {"kind": "after_hours", "discreet": False, "language": "en"}


async def test_closed_conversation_gets_no_auto_reply(store: Store) -> None:
    sato = await counselor(store, "sato")
    (s,) = await store.save_inbound_batch([inbound("a")])
    await store.close(s.conversation_id, actor_id=sato.id, now=at(1))
    assert (
        await store.claim_auto_reply(s.conversation_id, "k", body="b", discreet_body="b", now=at(2))
        is None
    )


async def test_recent_handling_time(store: Store) -> None:
    sato = await counselor(store, "sato")
    assert await store.recent_handling_s() is None
    stored = await store.save_inbound_batch([inbound("a"), inbound("b")])
    for s, minutes in zip(stored, (10, 30), strict=True):
        await store.assign(s.conversation_id, sato.id, actor_id=sato.id, now=at(100), capacity=None)
        await store.close(s.conversation_id, actor_id=sato.id, now=at(100 + minutes * 60))
    assert await store.recent_handling_s() == pytest.approx(20 * 60)
