"""The counselor's context on both stores: closing with an outcome, a consulter's timeline, and
search by alias, tag, status, channel, date and Japanese text without word spacing."""

from __future__ import annotations

from inbox.core.context import SearchQuery, contact_id_of
from inbox.core.model import ChannelKind, ConversationStatus, Direction
from storage.base import Store
from tests.factories import at, counselor, inbound


async def test_close_keeps_the_outcome_and_note_and_the_event_only_the_outcome(
    store: Store,
) -> None:
    (s,) = await store.save_inbound_batch([inbound("a@example.jp", body="相談です")])
    sato = await counselor(store, "sato")
    closed = await store.close(
        s.conversation_id, actor_id=sato.id, now=at(60), outcome="referred", note="区の窓口へ"
    )
    assert (closed.status, closed.outcome, closed.outcome_note) == (
        ConversationStatus.CLOSED,
        "referred",
        "区の窓口へ",
    )
    assert closed.closed_at == at(60)
    assert (await store.get_conversation(s.conversation_id)).outcome == "referred"
    (event,) = [e for e in await store.list_events() if e.kind == "conversation_closed"]
    assert event.data == {"outcome": "referred", "noted": True}
    assert "区の窓口へ" not in repr(event.data)


async def test_timeline_lists_her_conversations_newest_first_with_who_handled_each(
    store: Store,
) -> None:
    sato = await counselor(store, "sato")
    (first,) = await store.save_inbound_batch([inbound("a@example.jp", body="一回目の相談")])
    await store.assign(first.conversation_id, sato.id, actor_id=sato.id, now=at(1), capacity=None)
    await store.add_reply(
        first.conversation_id, author_id=sato.id, body="お話を聞きます", now=at(2)
    )
    await store.close(first.conversation_id, actor_id=sato.id, now=at(3), outcome="listened")
    (second,) = await store.save_inbound_batch([inbound("a@example.jp", body="また来ました")])
    (other,) = await store.save_inbound_batch([inbound("b@example.jp", body="別の人")])
    assert second.conversation_id != first.conversation_id

    conv = await store.get_conversation(second.conversation_id)
    timeline = await store.consulter_timeline(conv.contact_id)
    assert [t.conversation.id for t in timeline] == [second.conversation_id, first.conversation_id]
    newest, earlier = timeline
    assert (newest.handled_by, newest.handled_by_name, newest.message_count) == (None, None, 1)
    assert earlier.conversation.status is ConversationStatus.CLOSED
    assert earlier.conversation.outcome == "listened"
    assert (earlier.handled_by, earlier.handled_by_name, earlier.message_count) == (
        sato.id,
        sato.display_name,
        2,
    )
    older = await store.consulter_timeline(conv.contact_id, before=second.conversation_id)
    assert [t.conversation.id for t in older] == [first.conversation_id]
    assert other.conversation_id not in [t.conversation.id for t in timeline]


async def test_message_page_goes_back_from_the_newest(store: Store) -> None:
    sato = await counselor(store, "sato")
    (s,) = await store.save_inbound_batch([inbound("a@example.jp", body="一")])
    for i, body in enumerate(["二", "三", "四"]):
        await store.add_note(s.conversation_id, author_id=sato.id, body=body, now=at(10 + i))
    page = await store.message_page(s.conversation_id, limit=2)
    assert [m.body for m in page] == ["三", "四"]
    before = await store.message_page(s.conversation_id, before=page[0].id, limit=2)
    assert [m.body for m in before] == ["一", "二"]
    no_notes = await store.message_page(s.conversation_id, include_notes=False)
    assert [m.direction for m in no_notes] == [Direction.INBOUND]
    assert await store.authored_in(s.conversation_id, sato.id)


async def test_text_search_matches_japanese_without_spaces_newest_first(store: Store) -> None:
    a, b, c = await store.save_inbound_batch(
        [
            inbound("a@example.jp", body="最近ずっと眠れない日が続いています"),
            inbound("b@example.jp", body="夫の暴力がこわくて眠れない"),
            inbound("c@example.jp", body="仕事を探しています"),
        ]
    )
    sato = await counselor(store, "sato")
    # a newer match in a's conversation: a stands once, at its newest match
    await store.add_note(
        a.conversation_id, author_id=sato.id, body="やはり眠れないとのこと", now=at(9)
    )
    page = await store.search(SearchQuery(text="眠れない"))
    assert [h.summary.conversation.id for h in page.hits] == [a.conversation_id, b.conversation_id]
    assert page.scope == "all" and page.next_before is None
    assert page.hits[0].snippet == "やはり眠れないとのこと"
    assert page.hits[1].snippet is not None and "眠れない" in page.hits[1].snippet
    assert (await store.search(SearchQuery(text="暴力がこわ"))).hits[0].summary.conversation.id == (
        b.conversation_id
    )
    assert (await store.search(SearchQuery(text="見つからない言葉"))).hits == []
    assert c.conversation_id not in [h.summary.conversation.id for h in page.hits]


async def test_search_pages_without_repeating_a_conversation(store: Store) -> None:
    stored = await store.save_inbound_batch(
        [inbound(f"p{i}@example.jp", body=f"同じ言葉 その{i}") for i in range(5)]
    )
    seen: list[int] = []
    before: int | None = None
    for _ in range(4):
        page = await store.search(SearchQuery(text="同じ言葉", limit=2, before=before))
        seen += [h.summary.conversation.id for h in page.hits]
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == [s.conversation_id for s in reversed(stored)]


async def test_short_text_searches_recent_messages_only(store: Store) -> None:
    old, new = await store.save_inbound_batch(
        [inbound("a@example.jp", body="離婚を考えています"), inbound("b@example.jp", body="離婚")]
    )
    page = await store.search(SearchQuery(text="離婚", recent_messages=10))
    assert page.scope == "recent"
    assert [h.summary.conversation.id for h in page.hits] == [
        new.conversation_id,
        old.conversation_id,
    ]
    only_latest = await store.search(SearchQuery(text="離婚", recent_messages=1))
    assert [h.summary.conversation.id for h in only_latest.hits] == [new.conversation_id]
    # LIKE's wildcards are the user's text, not patterns
    assert (await store.search(SearchQuery(text="%"))).hits == []


async def test_filters_alias_tag_status_channel_dates(store: Store) -> None:
    sato = await counselor(store, "sato")
    a, b = await store.save_inbound_batch(
        [
            inbound("a@example.jp", body="一", received_at=at(0)),
            inbound("+8190", body="二", channel=ChannelKind.SMS, received_at=at(86400)),
        ]
    )
    await store.close(b.conversation_id, actor_id=sato.id, now=at(86500), outcome="other")
    conv_a = await store.get_conversation(a.conversation_id)

    async def ids(**kw: object) -> list[int]:
        page = await store.search(SearchQuery(**kw))  # type: ignore[arg-type]
        return [h.summary.conversation.id for h in page.hits]

    both = [b.conversation_id, a.conversation_id]
    assert await ids() == both
    assert await ids(contact_id=contact_id_of(conv_a.contact_alias)) == [a.conversation_id]
    assert await ids(statuses=(ConversationStatus.CLOSED,)) == [b.conversation_id]
    assert await ids(channels=(ChannelKind.SMS, ChannelKind.LINE)) == [b.conversation_id]
    assert await ids(created_from=at(3600)) == [b.conversation_id]
    assert await ids(created_before=at(3600)) == [a.conversation_id]
    assert await ids(tag="urgent") == []
    assert await ids(limit=1, before=b.conversation_id) == [a.conversation_id]


async def test_a_counselor_finds_hers_only(store: Store) -> None:
    sato = await counselor(store, "sato")
    suzuki = await counselor(store, "suzuki")
    mine, wrote, other = await store.save_inbound_batch(
        [inbound(f"{n}@example.jp", body="つらい気持ち") for n in ("m", "w", "o")]
    )
    await store.assign(mine.conversation_id, sato.id, actor_id=sato.id, now=at(1), capacity=None)
    await store.assign(wrote.conversation_id, sato.id, actor_id=sato.id, now=at(1), capacity=None)
    await store.add_reply(wrote.conversation_id, author_id=sato.id, body="はい", now=at(2))
    await store.assign(
        wrote.conversation_id, suzuki.id, actor_id=suzuki.id, now=at(3), capacity=None
    )
    await store.close(wrote.conversation_id, actor_id=suzuki.id, now=at(4), outcome="other")
    for text in ("つらい気持ち", None):
        page = await store.search(SearchQuery(text=text, visible_to=sato.id))
        assert {h.summary.conversation.id for h in page.hits} == {
            mine.conversation_id,
            wrote.conversation_id,
        }
    everyone = await store.search(SearchQuery(text="つらい気持ち"))
    assert other.conversation_id in {h.summary.conversation.id for h in everyone.hits}
    closed = next(h for h in everyone.hits if h.summary.conversation.id == wrote.conversation_id)
    assert closed.summary.handled_by_name == suzuki.display_name


async def test_search_finds_messages_before_and_after_the_index_takes_them(
    store: Store, store_kind: str
) -> None:
    first = await store.save_inbound_batch(
        [inbound(f"i{i}@example.jp", body=f"索引の試し{i}") for i in range(3)]
    )
    before = await store.search(SearchQuery(text="索引の試し"))
    assert [h.summary.conversation.id for h in before.hits] == [
        s.conversation_id for s in reversed(first)
    ]
    added = await store.index_text(limit=2)
    assert added == (0 if store_kind == "postgres" else 2)
    (late,) = await store.save_inbound_batch([inbound("i9@example.jp", body="索引の試し9")])
    # some indexed, some not: one answer, newest first, paged across the two
    page = await store.search(SearchQuery(text="索引の試し", limit=2))
    assert [h.summary.conversation.id for h in page.hits] == [
        late.conversation_id,
        first[2].conversation_id,
    ]
    rest = await store.search(SearchQuery(text="索引の試し", limit=5, before=page.next_before))
    assert [h.summary.conversation.id for h in rest.hits] == [
        first[1].conversation_id,
        first[0].conversation_id,
    ]
    while await store.index_text(limit=2):
        pass
    after = await store.search(SearchQuery(text="索引の試し"))
    assert [h.summary.conversation.id for h in after.hits] == [
        late.conversation_id,
        *(s.conversation_id for s in reversed(first)),
    ]
    assert await store.index_text() == 0
