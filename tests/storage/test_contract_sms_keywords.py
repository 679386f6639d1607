"""STOP / START set with the message that says them, on both stores: the intake's labels carry
`sms_opt` and the store sets or clears her opt-out in the transaction that stores the text,
with its event once per change."""

from __future__ import annotations

import dataclasses
from typing import Self

import pytest

from inbox.core.model import (
    ChannelKind,
    ConversationId,
    DeliveryStatus,
    IntakeLabels,
    OutboundMessage,
)
from inbox.outbox import OPTED_OUT_ERROR, OutboxSender
from storage.base import KeyedInbound, Store
from tests.factories import at, inbound
from tests.storage.test_contract_sms_outbox import opt_out, sms_reply

NUMBER = "+819012345621"


def keyword(body: str, opt: bool | None, *, sid: str, second: int) -> KeyedInbound:
    item = inbound(NUMBER, channel=ChannelKind.SMS, body=body, received_at=at(second))
    msg = dataclasses.replace(item.message, external_id=sid)
    return dataclasses.replace(item, message=msg, labels=IntakeLabels(sms_opt=opt))


async def _opt_events(store: Store) -> list[tuple[str, int | None]]:
    kinds = ("sms_opted_out", "sms_opted_in")
    return [(e.kind, e.conversation_id) for e in await store.list_events() if e.kind in kinds]


async def test_a_stop_is_stored_with_her_opt_out(store: Store) -> None:
    stop = keyword("STOP", True, sid="SMk1", second=1)
    (stored,) = await store.save_inbound_batch([stop])
    assert await store.is_opted_out(stop.identity_hash)
    assert await store.recipient_opted_out(stored.conversation_id)
    assert await _opt_events(store) == [("sms_opted_out", stored.conversation_id)]

    # her redelivered STOP, and a second STOP: no change, no second event
    await store.save_inbound_batch([stop])
    await store.save_inbound_batch([keyword("stop", True, sid="SMk2", second=2)])
    assert await _opt_events(store) == [("sms_opted_out", stored.conversation_id)]

    (back,) = await store.save_inbound_batch([keyword("START", False, sid="SMk3", second=3)])
    assert not await store.is_opted_out(stop.identity_hash)
    assert [kind for kind, _ in await _opt_events(store)] == ["sms_opted_out", "sms_opted_in"]
    assert back.conversation_id == stored.conversation_id


async def test_stop_then_start_in_one_batch_ends_opted_in(store: Store) -> None:
    batch = [
        keyword("STOP", True, sid="SMk4", second=1),
        keyword("START", False, sid="SMk5", second=2),
    ]
    await store.save_inbound_batch(batch)
    assert not await store.is_opted_out(batch[0].identity_hash)
    assert [kind for kind, _ in await _opt_events(store)] == ["sms_opted_out", "sms_opted_in"]


async def test_other_texts_change_nothing(store: Store) -> None:
    plain = keyword("STOP please call me", None, sid="SMk6", second=1)
    await store.save_inbound_batch([plain, keyword("START", False, sid="SMk7", second=2)])
    assert not await store.is_opted_out(plain.identity_hash)
    assert await _opt_events(store) == []  # START while opted in: nothing changed


class _StopDuringBatch:
    """An SMS channel whose first send is when her STOP commits (from another request)."""

    kind = ChannelKind.SMS

    def __init__(self, store: Store, then_opted_out: ConversationId) -> None:
        self.store, self.then_opted_out = store, then_opted_out
        self.sent: list[ConversationId] = []

    async def send(self, msg: OutboundMessage) -> str:
        if not self.sent:
            await opt_out(self.store, self.then_opted_out, at(5))
        self.sent.append(msg.conversation_id)
        return f"SM{len(self.sent)}"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_the_sender_reads_her_opt_out_per_reply_not_per_batch(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one conversation at a time, so that her reply's turn comes after the STOP committed
    monkeypatch.setattr("inbox.outbox.SENDING", 1)
    first = await sms_reply(store, "+819012345631")
    hers = await sms_reply(store, "+819012345632")
    channel = _StopDuringBatch(store, hers)
    sender = OutboxSender(
        store,
        {ChannelKind.SMS: channel},
        clock=lambda: at(4),
        batch=10,
        max_attempts=3,
        backoff_base_s=1,
        backoff_max_s=1,
        lease_s=30,
        send_timeout_s=5,
    )
    assert await sender.send_due() == 2  # both claimed at once, before her STOP
    assert channel.sent == [first]
    (_, reply) = await store.list_messages(hers)
    assert reply.delivery_status is DeliveryStatus.FAILED
    assert reply.failure_reason == OPTED_OUT_ERROR
