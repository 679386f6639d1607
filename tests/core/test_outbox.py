"""The outbox sender: sends, retries with backoff, gives up, on the real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Self

import pytest

from channels.base import Channel
from inbox.core.errors import ChannelError, DatabaseUnavailable
from inbox.core.model import (
    ChannelKind,
    ConversationId,
    DeliveryStatus,
    OutboundMessage,
    Role,
    UserId,
)
from inbox.outbox import OutboxSender, retry_delay_s
from storage.sqlite.store import SqliteStore
from tests.factories import at, inbound, new_user
from tests.fakes import ScriptedChannel


class Clock:
    def __init__(self) -> None:
        self.now = at(0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "inbox.db") as s:
        await s.migrate()
        yield s


async def _reply(store: SqliteStore) -> tuple[ConversationId, UserId]:
    user = await store.create_user(new_user(roles=frozenset({Role.COUNSELOR})), now=at(0))
    (stored,) = await store.save_inbound_batch([inbound("her-session")])
    await store.add_reply(stored.conversation_id, author_id=user.id, body="返信", now=at(0))
    return stored.conversation_id, user.id


def _sender(store: SqliteStore, channel: Channel | None, clock: Clock) -> OutboxSender:
    return OutboxSender(
        store,
        {} if channel is None else {ChannelKind.WEBCHAT: channel},
        clock=clock,
        batch=10,
        max_attempts=3,
        backoff_base_s=2,
        backoff_max_s=600,
        lease_s=60,
        send_timeout_s=5,
    )


def test_backoff_doubles_and_caps() -> None:
    assert [retry_delay_s(n, base_s=2, max_s=10) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


async def test_retries_then_succeeds(store: SqliteStore) -> None:
    conv, _ = await _reply(store)
    clock = Clock()
    channel = ScriptedChannel(
        [ChannelError("down", channel="webchat", retryable=True), "provider-7"]
    )
    sender = _sender(store, channel, clock)
    assert await sender.send_due() == 1
    assert await store.next_outbox_due() == at(2)  # first retry after base_s
    assert await sender.send_due() == 0  # not due yet
    clock.now = at(2)
    assert await sender.send_due() == 1
    assert channel.sent[0].recipient == "her-session"
    last = (await store.list_messages(conv))[-1]
    assert (last.delivery_status, last.external_id) == (DeliveryStatus.SENT, "provider-7")


async def test_permanent_error_fails_at_once(store: SqliteStore) -> None:
    conv, _ = await _reply(store)
    channel = ScriptedChannel([ChannelError("refused", channel="webchat", retryable=False)])
    await _sender(store, channel, Clock()).send_due()
    assert (await store.list_messages(conv))[-1].delivery_status is DeliveryStatus.FAILED
    assert await store.next_outbox_due() is None


async def test_gives_up_after_max_attempts(store: SqliteStore) -> None:
    conv, _ = await _reply(store)
    clock = Clock()
    channel = ScriptedChannel([ChannelError("down", channel="webchat", retryable=True)] * 3)
    sender = _sender(store, channel, clock)
    for _ in range(3):
        await sender.send_due()
        clock.now = clock.now.replace(hour=clock.now.hour + 1)
    assert (await store.list_messages(conv))[-1].delivery_status is DeliveryStatus.FAILED
    assert channel.outcomes == []


async def test_unconfigured_channel_fails_clearly(store: SqliteStore) -> None:
    conv, _ = await _reply(store)
    sender = _sender(store, None, Clock())  # no channel for webchat configured
    await sender.send_due()
    assert (await store.list_messages(conv))[-1].delivery_status is DeliveryStatus.FAILED
    (failed,) = [e for e in await store.list_events() if e.kind == "reply_failed"]
    assert "not configured" in str(failed.data["error"])


class HeldChannel:
    """Sends at once, but a reply whose body is in `held` waits until that event is set."""

    kind = ChannelKind.WEBCHAT

    def __init__(self, held: dict[str, asyncio.Event]) -> None:
        self.held = held
        self.sent: list[str] = []
        self.another = asyncio.Event()  # set at each send

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, msg: OutboundMessage) -> str:
        if msg.body in self.held:
            await self.held[msg.body].wait()
        self.sent.append(msg.body)
        self.another.set()
        return f"provider-{msg.message_id}"


async def test_conversations_go_side_by_side_each_in_its_order(store: SqliteStore) -> None:
    user = await store.create_user(new_user(roles=frozenset({Role.COUNSELOR})), now=at(0))
    a, b = (s.conversation_id for s in await store.save_inbound_batch([inbound("a"), inbound("b")]))
    for conv, body in ((a, "a1"), (b, "b1"), (a, "a2"), (b, "b2")):
        await store.add_reply(conv, author_id=user.id, body=body, now=at(0))
    slow = asyncio.Event()
    channel = HeldChannel({"a1": slow})
    round_ = asyncio.create_task(_sender(store, channel, Clock()).send_due())
    async with asyncio.timeout(5):
        while channel.sent != ["b1", "b2"]:  # b's replies while a's first is held
            channel.another.clear()
            await channel.another.wait()
    slow.set()
    assert await round_ == 4
    assert channel.sent == ["b1", "b2", "a1", "a2"]  # a2 never overtook a1
    for conv in (a, b):
        statuses = [m.delivery_status for m in await store.list_messages(conv) if m.author_id]
        assert statuses == [DeliveryStatus.SENT, DeliveryStatus.SENT]


async def test_a_failed_record_stops_its_conversation_only(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await store.create_user(new_user(roles=frozenset({Role.COUNSELOR})), now=at(0))
    a, b = (s.conversation_id for s in await store.save_inbound_batch([inbound("a"), inbound("b")]))
    for conv, body in ((a, "a1"), (a, "a2"), (b, "b1"), (b, "b2")):
        await store.add_reply(conv, author_id=user.id, body=body, now=at(0))
    channel = ScriptedChannel(
        [ChannelError("refused", channel="webchat", retryable=False), "p1", "p2", "p3"]
    )
    mark_failed = store.mark_failed

    async def failing(*args: object, **kw: object) -> None:
        raise DatabaseUnavailable("gone for a moment")

    monkeypatch.setattr(store, "mark_failed", failing)
    with pytest.raises(DatabaseUnavailable):
        await _sender(store, channel, Clock()).send_due()
    # a1's failure could not be recorded: a2 was not sent before it; b's were, and recorded.
    assert [m.body for m in channel.sent] == ["b1", "b2"]
    assert [m.delivery_status for m in await store.list_messages(b) if m.author_id] == [
        DeliveryStatus.SENT,
        DeliveryStatus.SENT,
    ]
    monkeypatch.setattr(store, "mark_failed", mark_failed)
