"""The Store contract for the safety message's recovery (Store.unsent_safety), on both stores:
the alerted messages of open conversations that never had it, with what the auto-replier
needs to send it in her language."""

from __future__ import annotations

import dataclasses

from inbox.core.model import ChannelKind, IntakeLabels
from storage.base import KeyedInbound, Store
from tests.factories import at, inbound, new_user


def alerted(item: KeyedInbound, category: str) -> KeyedInbound:
    labels = IntakeLabels(priority=100, alert=category, tags=frozenset({"urgent", category}))
    return dataclasses.replace(item, labels=labels)


async def test_unsent_safety_lists_alerted_messages_until_the_reply_is_claimed(
    store: Store,
) -> None:
    sato = await store.create_user(new_user("sato"), now=at(0))
    calm, urgent, closed = await store.save_inbound_batch(
        [
            inbound("a@x.jp", body="こんにちは", received_at=at(10)),
            alerted(inbound("b@x.jp", body="もう死にたい", received_at=at(11)), "suicide_risk"),
            alerted(inbound("c@x.jp", body="I want to die", received_at=at(12)), "suicide_risk"),
        ]
    )
    await store.close(closed.conversation_id, actor_id=sato.id, now=at(13))
    (found,) = await store.unsent_safety("safety", since=at(0))
    assert found.conversation_id == urgent.conversation_id
    assert (found.channel, found.category, found.body) == (
        ChannelKind.WEBCHAT,
        "suicide_risk",
        "もう死にたい",
    )
    assert found.received_at == at(11)
    assert await store.unsent_safety("safety", since=at(12)) == []  # she wrote before that
    claimed = await store.claim_auto_reply(
        urgent.conversation_id, "safety", body="b", discreet_body="d", now=at(20)
    )
    assert claimed is not None
    assert await store.unsent_safety("safety", since=at(0)) == []
    assert calm.conversation_id != urgent.conversation_id
