"""Builders for test data, so each test states only what it is about."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from channels.base import Channel
from inbox.core.model import (
    Attachment,
    ChannelKind,
    ConversationId,
    InboundMessage,
    NewUser,
    Presence,
    Role,
    User,
)
from inbox.outbox import OutboxSender
from inbox.pipeline import Intake
from inbox.resilience import Outages
from inbox.router import Router
from inbox.web.hub import Hub
from inbox.web.server import Services, WebSettings
from storage.base import KeyedInbound, Store

T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
_seq = itertools.count(1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def inbound(
    sender: str = "alice@example.jp",
    *,
    body: str = "こんにちは",
    external_id: str | None = None,
    channel: ChannelKind = ChannelKind.WEBCHAT,
    received_at: datetime | None = None,
    attachments: tuple[Attachment, ...] = (),
    conversation_hint: int | None = None,
) -> KeyedInbound:
    n = next(_seq)
    msg = InboundMessage(
        channel=channel,
        external_id=external_id or f"ext-{n}",
        sender=sender,
        body=body,
        received_at=received_at or at(n),
        attachments=attachments,
        conversation_hint=None if conversation_hint is None else ConversationId(conversation_hint),
    )
    return KeyedInbound(message=msg, identity_hash=hashlib.sha256(sender.encode()).hexdigest())


def new_user(
    username: str = "sato",
    *,
    roles: frozenset[Role] = frozenset({Role.COUNSELOR}),
    capacity: int = 3,
    presence: Presence = Presence.AVAILABLE,
) -> NewUser:
    """Seeded staff, on duty (available) unless told otherwise: the product's new accounts start
    offline (NewUser's default), which the tests of account creation check."""
    return NewUser(
        username=username,
        display_name=username.title(),
        password_hash="$argon2id$not-a-real-hash",
        roles=roles,
        capacity=capacity,
        presence=presence,
    )


async def counselor(store: Store, name: str, capacity: int = 3) -> User:
    return await store.create_user(new_user(name, capacity=capacity), now=at(0))


ROUTED_AT = at(3600)  # the clock of router_for's router: after every message the tests make


def router_for(store: Store) -> Router:
    """A router with default policy whose clock stands still at ROUTED_AT."""
    return Router(store, clock=lambda: ROUTED_AT)


def outbox_sender(
    store: Store,
    channels: Mapping[ChannelKind, Channel] | None = None,
    *,
    clock: Callable[[], datetime] = lambda: T0,
    max_attempts: int = 3,
    backoff_base_s: float = 1.0,
    backoff_max_s: float = 1.0,
    send_timeout_s: float = 5.0,
    outages: Outages | None = None,
) -> OutboxSender:
    """An OutboxSender with the settings no test is about (batch 10, lease 30 s)."""
    return OutboxSender(
        store,
        channels or {},
        clock=clock,
        batch=10,
        max_attempts=max_attempts,
        backoff_base_s=backoff_base_s,
        backoff_max_s=backoff_max_s,
        lease_s=30,
        send_timeout_s=send_timeout_s,
        outages=outages,
    )


def web_services(
    store: Store,
    *,
    clock: Callable[[], datetime],
    on_event: Callable[[], None],
    outages: Outages | None = None,
) -> Services:
    """The web layer's services over `store`, with small queues and test settings."""
    return Services(
        store=store,
        intake=Intake(store, b"k" * 32, queue_max=10, batch_max=10, ack_timeout_s=1),
        router=Router(store, clock=clock),
        outbox=outbox_sender(store, clock=clock),
        staff_hub=Hub(client_queue=10),
        chat_hub=Hub(client_queue=10),
        clock=clock,
        settings=WebSettings(
            base_url="http://127.0.0.1",
            secure_cookies=False,
            session_ttl_h=1,
            max_body_bytes=10_000,
            allowed_origins=(),
            max_message_chars=1000,
            heartbeat_s=30,
            webchat_enabled=True,
        ),
        on_event=on_event,
        outages=outages or Outages(),
    )
