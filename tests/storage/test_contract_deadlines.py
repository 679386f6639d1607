"""The Store contract for the deadline watcher's reads, on both stores: every waiting
conversation page by page in id order, and those of a few ids; answered and closed ones are
not waiting."""

from __future__ import annotations

from storage.base import Store
from tests.factories import at, counselor, inbound


async def test_waiting_conversations_by_page_and_by_id(store: Store) -> None:
    stored = await store.save_inbound_batch([inbound(f"c{i}", received_at=at(i)) for i in range(5)])
    ids = [s.conversation_id for s in stored]
    sato = await counselor(store, "sato")
    await store.assign(ids[1], sato.id, actor_id=sato.id, now=at(10), capacity=None)
    await store.add_reply(ids[1], author_id=sato.id, body="はい", now=at(11))  # answered
    await store.close(ids[3], actor_id=sato.id, now=at(12))
    waiting = [ids[0], ids[2], ids[4]]
    first = await store.awaiting_answers(limit=2)
    assert [c.id for c in first] == waiting[:2]
    rest = await store.awaiting_answers(after=first[-1].id, limit=2)
    assert [c.id for c in rest] == waiting[2:]
    assert sorted(c.id for c in await store.awaiting_among(ids)) == waiting
    assert await store.awaiting_among([]) == []
    (conv,) = await store.awaiting_among([ids[2]])
    assert conv.awaiting_since == at(2) and conv.first_reply_at is None
