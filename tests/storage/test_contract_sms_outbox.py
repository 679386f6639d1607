"""The outbox's side of SMS opt-out and failure reasons, on both stores: a claimed reply says
whether her identity opted out (read at claim time, so a STOP after the reply still holds it),
and a failed reply is listed with its reason."""

from __future__ import annotations

from datetime import datetime

import pytest

from inbox.core.errors import NotFound
from inbox.core.model import ChannelKind, ConversationId, DeliveryStatus, Role
from storage.base import Store
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore
from tests.factories import at, inbound, new_user

OPT_OUT = """
UPDATE channel_identities SET opted_out_at = $1
WHERE id = (SELECT identity_id FROM conversations WHERE id = $2)
"""


async def opt_out(store: Store, conversation_id: ConversationId, now: datetime) -> None:
    """What the inbound side records for a STOP (storage.sms, not this branch's)."""
    if isinstance(store, SqliteStore):
        await store.database.write(lambda tx: tx.execute(OPT_OUT, now, conversation_id))
        return
    assert isinstance(store, PostgresStore)
    async with store.pool.acquire() as conn:
        await conn.execute(OPT_OUT, now, conversation_id)


async def sms_reply(store: Store, number: str) -> ConversationId:
    boss = await store.create_user(
        new_user(f"boss{number[-2:]}", roles=frozenset({Role.SUPERVISOR})), now=at(0)
    )
    (s,) = await store.save_inbound_batch([inbound(number, channel=ChannelKind.SMS)])
    await store.add_reply(s.conversation_id, author_id=boss.id, body="お返事です", now=at(2))
    return s.conversation_id


async def test_the_claim_carries_an_opt_out_made_after_the_reply(store: Store) -> None:
    hers = await sms_reply(store, "+819012345601")
    other = await sms_reply(store, "+819012345602")
    assert not await store.recipient_opted_out(hers)
    await opt_out(store, hers, at(3))
    assert await store.recipient_opted_out(hers)
    assert not await store.recipient_opted_out(other)
    items = await store.claim_outbox(now=at(4), limit=10, lease_s=30)
    assert [(i.message.conversation_id, i.opted_out) for i in items] == [
        (hers, True),
        (other, False),
    ]
    with pytest.raises(NotFound):
        await store.recipient_opted_out(ConversationId(999_999))


async def test_a_failed_reply_is_listed_with_its_reason(store: Store) -> None:
    conv = await sms_reply(store, "+819012345603")
    (item,) = await store.claim_outbox(now=at(4), limit=10, lease_s=30)
    await store.mark_retry(
        item.outbox_id, error="[sms] twilio 429: rate limited", retry_at=at(5), now=at(4)
    )
    (_, pending) = await store.list_messages(conv)
    assert pending.failure_reason is None  # a retry pending is not a failure
    (item,) = await store.claim_outbox(now=at(6), limit=10, lease_s=30)
    await store.mark_failed(item.outbox_id, error="[sms] twilio 30006: landline", now=at(6))
    (inbound_msg, failed) = await store.list_messages(conv)
    assert failed.delivery_status is DeliveryStatus.FAILED
    assert failed.failure_reason == "[sms] twilio 30006: landline"
    assert inbound_msg.failure_reason is None
