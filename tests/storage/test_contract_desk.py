"""The Store contract for the counselor's desk: canned replies, tags, her own load. On both
stores."""

from __future__ import annotations

import dataclasses

import pytest

from inbox.core.errors import NotFound
from inbox.core.model import (
    CannedReplyDraft,
    CannedReplyId,
    ChannelKind,
    ConversationId,
    ConversationStatus,
    Role,
)
from storage.base import Store
from storage.seeds import CANNED_REPLIES
from tests.factories import at, counselor, inbound, new_user


async def test_a_new_database_starts_with_the_seeded_canned_replies(store: Store) -> None:
    seeded = await store.list_canned_replies()
    assert [(r.draft.title_ja, r.draft.body_en) for r in seeded] == [
        (t[0], t[3]) for t in CANNED_REPLIES
    ]
    assert all(r.updated_by is None for r in seeded)
    assert [r.draft.position for r in seeded] == sorted(r.draft.position or 0 for r in seeded)
    assert all(r.updated_at.tzinfo is not None for r in seeded)


async def test_canned_replies_are_made_edited_and_deleted_with_events(store: Store) -> None:
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    for r in await store.list_canned_replies():
        await store.delete_canned_reply(r.id, actor_id=boss.id, now=at(1))
    made = await store.create_canned_reply(
        CannedReplyDraft(title_ja="挨拶", body_ja="こんにちは", body_en="Hello"),
        actor_id=boss.id,
        now=at(2),
    )
    second = await store.create_canned_reply(
        CannedReplyDraft(title_en="Bye", body_en="Goodbye"), actor_id=boss.id, now=at(3)
    )
    # without a position, each goes last
    assert second.draft.position is not None and made.draft.position is not None
    assert second.draft.position > made.draft.position
    assert made.updated_by == boss.id and made.updated_at == at(2)
    assert made.draft.title_en == "" and made.draft.body_en == "Hello"
    first = await store.create_canned_reply(
        CannedReplyDraft(title_ja="最初", body_ja="本文", position=-1), actor_id=boss.id, now=at(4)
    )
    assert [r.id for r in await store.list_canned_replies()] == [first.id, made.id, second.id]

    edited = await store.update_canned_reply(
        made.id,
        dataclasses.replace(made.draft, body_ja="こんにちは。", position=None),
        actor_id=boss.id,
        now=at(5),
    )
    assert edited.draft.body_ja == "こんにちは。"
    assert edited.draft.position == made.draft.position  # None keeps the place
    assert edited.updated_at == at(5)
    assert await store.get_canned_reply(made.id) == edited

    await store.delete_canned_reply(second.id, actor_id=boss.id, now=at(6))
    assert [r.id for r in await store.list_canned_replies()] == [first.id, made.id]
    kinds = [(e.kind, e.actor_id, e.data) for e in await store.list_events()]
    assert ("canned_reply_created", boss.id, {"id": made.id}) in kinds
    assert ("canned_reply_updated", boss.id, {"id": made.id}) in kinds
    assert ("canned_reply_deleted", boss.id, {"id": second.id}) in kinds


@pytest.mark.parametrize("missing", [999, 2**63 - 1, 2**63])
async def test_an_unknown_canned_reply_is_not_found(store: Store, missing: int) -> None:
    boss = await store.create_user(new_user("boss", roles=frozenset({Role.SUPERVISOR})), now=at(0))
    reply_id = CannedReplyId(missing)
    with pytest.raises(NotFound):
        await store.get_canned_reply(reply_id)
    with pytest.raises(NotFound):
        await store.update_canned_reply(
            reply_id, CannedReplyDraft(title_ja="x", body_ja="y"), actor_id=boss.id, now=at(1)
        )
    with pytest.raises(NotFound):
        await store.delete_canned_reply(reply_id, actor_id=boss.id, now=at(1))
    assert not [e for e in await store.list_events() if e.kind.startswith("canned_reply")]


async def test_set_tags_keeps_triage_labels_and_records_the_change(store: Store) -> None:
    sato = await counselor(store, "sato")
    (stored,) = await store.save_inbound_batch([inbound("a@example.jp")])
    conv_id = ConversationId(stored.conversation_id)
    # as triage writes them
    first = await store.set_tags(conv_id, ["urgent", "suicide_risk"], actor_id=sato.id, now=at(1))
    assert first.tags == ("urgent", "suicide_risk")

    named = {"urgent", "suicide_risk", "dv"}
    conv = await store.set_tags(
        conv_id,
        ["dv", "仕事の悩み", "dv"],
        keep={"urgent"},
        named=named,
        actor_id=sato.id,
        now=at(2),
    )
    assert conv.tags == ("urgent", "dv", "仕事の悩み")  # kept first, then each once
    assert (await store.get_conversation(conv_id)).tags == conv.tags
    events = [e for e in await store.list_events() if e.kind == "tags_set"]
    # a free tag is staff-written text: counted in the event log, never written there
    assert events[-1].data == {
        "added": ["dv"],
        "removed": ["suicide_risk"],
        "free_added": 1,
        "free_removed": 0,
    }
    assert events[-1].actor_id == sato.id and events[-1].conversation_id == conv_id

    # nothing changes: no event
    await store.set_tags(
        conv_id, ["dv", "仕事の悩み"], keep={"urgent"}, actor_id=sato.id, now=at(3)
    )
    assert len([e for e in await store.list_events() if e.kind == "tags_set"]) == len(events)

    # a closed conversation may still be tagged
    await store.close(conv_id, actor_id=sato.id, now=at(4))
    closed = await store.set_tags(conv_id, [], actor_id=sato.id, now=at(5))
    assert closed.tags == () and closed.status is ConversationStatus.CLOSED

    with pytest.raises(NotFound):
        await store.set_tags(ConversationId(9999), ["dv"], actor_id=sato.id, now=at(6))


async def test_counselor_load_counts_her_open_conversations_by_channel(store: Store) -> None:
    sato = await counselor(store, "sato", capacity=5)
    other = await counselor(store, "suzuki")
    assert await store.counselor_load(sato.id) == []
    batch = await store.save_inbound_batch(
        [
            inbound("a@example.jp", channel=ChannelKind.MAIL),
            inbound("b@example.jp", channel=ChannelKind.MAIL),
            inbound("c@example.jp"),
            inbound("d@example.jp"),
        ]
    )
    ids = [ConversationId(s.conversation_id) for s in batch]
    for conv_id in ids[:3]:
        await store.assign(conv_id, sato.id, actor_id=sato.id, now=at(1), capacity=None)
    await store.assign(ids[3], other.id, actor_id=other.id, now=at(1), capacity=None)
    await store.add_reply(ids[0], author_id=sato.id, body="はい", now=at(2))  # waiting: counts
    assert sorted(await store.counselor_load(sato.id)) == [
        (ChannelKind.MAIL, 2),
        (ChannelKind.WEBCHAT, 1),
    ]
    await store.close(ids[1], actor_id=sato.id, now=at(3))  # closed: does not
    assert sorted(await store.counselor_load(sato.id)) == [
        (ChannelKind.MAIL, 1),
        (ChannelKind.WEBCHAT, 1),
    ]
