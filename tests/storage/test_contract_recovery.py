"""What a restart derives from the database instead of memory: the conversations that never
had an automatic reply of a kind (AutoReplier.recover). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from inbox.core.decisions import LastArrival
from inbox.core.model import ChannelKind
from storage.base import Store
from tests.factories import at, counselor, inbound

AFTER_HOURS = "after_hours"


async def test_unreplied_arrivals_lists_open_conversations_without_that_reply(store: Store) -> None:
    (replied,) = await store.save_inbound_batch([inbound("a", received_at=at(10))])
    (closed,) = await store.save_inbound_batch([inbound("b", received_at=at(20))])
    (old,) = await store.save_inbound_batch([inbound("c", received_at=at(-7200))])
    (waiting,) = await store.save_inbound_batch(
        [inbound("d", channel=ChannelKind.LINE, received_at=at(30))]
    )
    # her latest message counts, not her first
    await store.save_inbound_batch([inbound("d", channel=ChannelKind.LINE, received_at=at(40))])
    await store.claim_auto_reply(
        replied.conversation_id, AFTER_HOURS, body="x", discreet_body="x", now=at(11)
    )
    staff = await counselor(store, "sato")
    await store.close(closed.conversation_id, actor_id=staff.id, now=at(21))

    found = await store.unreplied_arrivals(AFTER_HOURS, since=at(0))

    assert found == [
        LastArrival(
            conversation_id=waiting.conversation_id, channel=ChannelKind.LINE, received_at=at(40)
        )
    ]
    # another kind was never sent to the first one
    other = await store.unreplied_arrivals("queue_ack", since=at(0))
    assert [a.conversation_id for a in other] == [
        replied.conversation_id,
        waiting.conversation_id,
    ]
    assert await store.unreplied_arrivals(AFTER_HOURS, since=at(40) + timedelta(seconds=1)) == []
    assert old.conversation_id not in {a.conversation_id for a in other}
