"""Status callbacks that beat mark_sent, on both stores: Twilio may call back before create's
answer is recorded; the callback URL carries our outbox id, so it is recorded all the same,
and mark_sent never undoes it."""

from __future__ import annotations

from inbox.core.model import ChannelKind, DeliveryStatus, OutboxId, OutboxItem, Role
from storage.base import Store
from tests.factories import at, inbound, new_user
from tests.storage.test_contract_sms import _events, _status

SID = "SM" + "1" * 32


async def _claimed(store: Store, number: str) -> OutboxItem:
    boss = await store.create_user(
        new_user(f"boss{number[-2:]}", roles=frozenset({Role.SUPERVISOR})), now=at(0)
    )
    (s,) = await store.save_inbound_batch([inbound(number, channel=ChannelKind.SMS)])
    await store.add_reply(s.conversation_id, author_id=boss.id, body="お返事です", now=at(2))
    (item,) = await store.claim_outbox(now=at(3), limit=10, lease_s=30)
    assert item.message.outbox_id == item.outbox_id  # what the channel puts in the URL
    return item


async def test_a_failure_before_mark_sent_stays_failed_with_its_reason(store: Store) -> None:
    item = await _claimed(store, "+819012345611")
    msg = item.message
    assert await store.record_provider_status(
        SID, "undelivered", 30005, now=at(4), outbox_id=item.outbox_id
    )
    await store.mark_sent(item.outbox_id, provider_id=SID, now=at(5))

    (_, reply) = await store.list_messages(msg.conversation_id)
    assert reply.delivery_status is DeliveryStatus.FAILED
    assert reply.failure_reason is not None and reply.failure_reason.startswith("twilio 30005")
    kinds = [e.kind for e in await _events(store, "reply_failed", "reply_sent")]
    assert kinds == ["reply_failed"]
    # A later callback by SID finds the same row (the SID was kept from the callback).
    assert not await store.record_provider_status(SID, "sent", None, now=at(6))


async def test_delivered_before_mark_sent_stays_delivered(store: Store) -> None:
    item = await _claimed(store, "+819012345612")
    msg = item.message
    assert await store.record_provider_status(
        SID, "delivered", None, now=at(4), outbox_id=item.outbox_id
    )
    await store.mark_sent(item.outbox_id, provider_id=SID, now=at(5))
    assert await _status(store, msg.conversation_id, msg.message_id) is DeliveryStatus.DELIVERED
    # The failure that cannot come after delivered is ignored, by SID or by outbox id.
    assert not await store.record_provider_status(SID, "sent", None, now=at(6))
    assert not await store.record_provider_status(
        SID, "queued", None, now=at(6), outbox_id=item.outbox_id
    )


async def test_sent_before_mark_sent_then_a_failure_by_outbox_id(store: Store) -> None:
    item = await _claimed(store, "+819012345613")
    msg = item.message
    assert await store.record_provider_status(
        SID, "sent", None, now=at(4), outbox_id=item.outbox_id
    )
    await store.mark_sent(item.outbox_id, provider_id=SID, now=at(5))
    assert await _status(store, msg.conversation_id, msg.message_id) is DeliveryStatus.SENT
    assert await store.record_provider_status(
        SID, "failed", 30003, now=at(6), outbox_id=item.outbox_id
    )
    assert await _status(store, msg.conversation_id, msg.message_id) is DeliveryStatus.FAILED


async def test_an_unknown_outbox_id_changes_nothing(store: Store) -> None:
    await _claimed(store, "+819012345614")
    assert not await store.record_provider_status(
        SID, "failed", 30003, now=at(4), outbox_id=OutboxId(999)
    )
    assert not await store.record_provider_status(
        SID, "failed", 30003, now=at(4), outbox_id=OutboxId(2**70)
    )
