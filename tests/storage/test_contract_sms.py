"""The Store contract for the SMS channel's state (opt-outs, Twilio's status callbacks), on both
stores."""

from __future__ import annotations

import asyncio
import json

import pytest

from inbox.core.model import ChannelKind, ConversationId, DeliveryStatus, Event, MessageId, UserId
from storage.base import Store
from tests.factories import at, inbound, new_user

SMS = ChannelKind.SMS
NUMBER = "+819012345678"


async def _texted(store: Store, sender: str = NUMBER) -> tuple[str, ConversationId]:
    """The identity hash and conversation of an SMS she sent."""
    item = inbound(sender, channel=SMS, body="はじめまして")
    (stored,) = await store.save_inbound_batch([item])
    return item.identity_hash, stored.conversation_id


async def _sent_reply(store: Store, provider_id: str) -> tuple[ConversationId, MessageId]:
    """A reply to a new SMS sender that Twilio accepted as `provider_id`."""
    author: UserId = (await store.create_user(new_user(f"u{provider_id}"), now=at(0))).id
    _, conv_id = await _texted(store, f"+81901234{int(provider_id[2:]):04d}")
    reply = await store.add_reply(conv_id, author_id=author, body="お返事", now=at(10))
    (item,) = await store.claim_outbox(now=at(11), limit=10, lease_s=30)
    await store.mark_sent(item.outbox_id, provider_id=provider_id, now=at(12))
    return conv_id, reply.id


async def _status(store: Store, conv_id: ConversationId, message_id: MessageId) -> DeliveryStatus:
    (found,) = [m for m in await store.list_messages(conv_id) if m.id == message_id]
    return found.delivery_status


async def _events(store: Store, *kinds: str) -> list[Event]:
    return [e for e in await store.list_events() if e.kind in kinds]


async def test_stop_and_start_are_recorded_once_each_with_an_event(store: Store) -> None:
    identity, conv_id = await _texted(store)
    assert not await store.is_opted_out(identity)

    assert await store.set_opt_out(identity, True, now=at(20), conversation_id=conv_id)
    assert await store.is_opted_out(identity)
    assert not await store.set_opt_out(identity, True, now=at(21), conversation_id=conv_id)

    assert await store.set_opt_out(identity, False, now=at(22), conversation_id=conv_id)
    assert not await store.is_opted_out(identity)
    assert not await store.set_opt_out(identity, False, now=at(23), conversation_id=conv_id)

    found = await _events(store, "sms_opted_out", "sms_opted_in")
    assert [(e.kind, e.conversation_id, e.at) for e in found] == [
        ("sms_opted_out", conv_id, at(20)),
        ("sms_opted_in", conv_id, at(22)),
    ]
    assert all(NUMBER not in json.dumps(e.data) for e in found)


async def test_opt_out_is_per_sms_identity(store: Store) -> None:
    identity, conv_id = await _texted(store)
    other, _ = await _texted(store, "+819087654321")
    web = inbound(NUMBER)  # the same text on another channel is another identity
    await store.save_inbound_batch([web])

    await store.set_opt_out(identity, True, now=at(20), conversation_id=conv_id)

    assert not await store.is_opted_out(other)
    assert not await store.is_opted_out("no-such-hash")
    assert not await store.set_opt_out("no-such-hash", True, now=at(21), conversation_id=conv_id)


async def test_status_callbacks_out_of_order_keep_the_latest_state(store: Store) -> None:
    conv_id, reply_id = await _sent_reply(store, "SM1")

    assert await store.record_provider_status("SM1", "sent", None, now=at(20))
    assert await store.record_provider_status("SM1", "delivered", None, now=at(21))
    assert not await store.record_provider_status("SM1", "sent", None, now=at(22))
    assert not await store.record_provider_status("SM1", "queued", None, now=at(23))
    # a final state is never replaced, not even by another final one
    assert not await store.record_provider_status("SM1", "failed", 30008, now=at(24))

    assert await _status(store, conv_id, reply_id) is DeliveryStatus.DELIVERED
    delivered = await _events(store, "reply_delivered", "reply_failed")
    assert [(e.kind, e.message_id) for e in delivered] == [("reply_delivered", reply_id)]


async def test_delivered_before_sent_stays_delivered(store: Store) -> None:
    conv_id, reply_id = await _sent_reply(store, "SM2")
    assert await store.record_provider_status("SM2", "delivered", None, now=at(20))
    assert not await store.record_provider_status("SM2", "sent", None, now=at(21))
    assert await _status(store, conv_id, reply_id) is DeliveryStatus.DELIVERED


async def test_a_permanent_error_fails_the_reply_with_its_reason(store: Store) -> None:
    conv_id, reply_id = await _sent_reply(store, "SM3")
    assert await store.record_provider_status("SM3", "queued", None, now=at(19))
    assert await store.record_provider_status("SM3", "undelivered", 30006, now=at(20))

    assert await _status(store, conv_id, reply_id) is DeliveryStatus.FAILED
    (failed,) = await _events(store, "reply_failed")
    assert (failed.conversation_id, failed.message_id) == (conv_id, reply_id)
    assert failed.data == {"error": "twilio 30006: landline or unreachable carrier"}
    assert not await store.record_provider_status("SM3", "delivered", None, now=at(21))
    assert await _status(store, conv_id, reply_id) is DeliveryStatus.FAILED
    assert await store.claim_outbox(now=at(500), limit=10, lease_s=30) == []  # not sent again


async def test_unknown_provider_id_changes_nothing(store: Store) -> None:
    await _sent_reply(store, "SM4")
    before = await store.last_event_id()
    assert not await store.record_provider_status("SM-unknown", "failed", 21610, now=at(20))
    assert await store.last_event_id() == before
    with pytest.raises(ValueError, match="status"):
        await store.record_provider_status("SM4", "read", None, now=at(21))


async def test_concurrent_callbacks_leave_the_final_state(store: Store) -> None:
    conv_id, reply_id = await _sent_reply(store, "SM5")
    results = await asyncio.gather(
        *(
            store.record_provider_status("SM5", status, None, now=at(20))
            for status in ("queued", "sending", "sent", "delivered", "sent", "queued")
        )
    )
    assert results.count(True) >= 1
    assert await _status(store, conv_id, reply_id) is DeliveryStatus.DELIVERED
    assert len(await _events(store, "reply_delivered")) == 1
