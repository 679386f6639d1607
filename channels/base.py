"""The Channel seam: each adapter normalizes its source into InboundMessage and sends replies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, Self

from inbox.core.errors import Unstorable
from inbox.core.model import ChannelKind, InboundMessage, OutboundMessage, StoredInbound


class Intake(Protocol):
    """What a channel hands messages to (inbox.pipeline.Intake implements it)."""

    async def submit(self, msg: InboundMessage) -> StoredInbound:
        """Wait for room in the queue, then until the message is durably stored. Acknowledge
        the source only after this returns. Raises IntakeBusy when it cannot be stored now,
        Unstorable when the store refused it (answer the sender; a resend will not help)."""

    async def offer(self, msg: InboundMessage) -> StoredInbound:
        """Like submit, but raises IntakeBusy at once when the queue is full (for webhooks and
        sockets, which answer 'busy, retry' instead of holding the request)."""

    async def submit_many(self, msgs: Sequence[InboundMessage]) -> list[StoredInbound]:
        """submit for what a source hands over at once (an IMAP fetch, a webhook's events):
        one wait for all of them, answers in order. Raises Unstorable when the store refused
        one of them even on its own (the others are stored)."""

    async def submit_each(self, msgs: Sequence[InboundMessage]) -> list[StoredInbound | Unstorable]:
        """submit_many, but a message the store refused comes back as its Unstorable error in
        its place, so the source can store it in another form or set it aside, and go on."""

    async def offer_many(self, msgs: Sequence[InboundMessage]) -> list[StoredInbound]:
        """offer for several messages: all are queued, or IntakeBusy and none is."""


class Channel(Protocol):
    kind: ChannelKind

    async def send(self, msg: OutboundMessage) -> str:
        """Deliver one reply; return the provider's id for it (unique per channel).
        Raises ChannelError(retryable=...) on failure; never logs the recipient or body."""

    async def __aenter__(self) -> Self:
        """Open clients (HTTP sessions, SMTP/IMAP connections)."""

    async def __aexit__(self, *exc: object) -> None:
        """Close what __aenter__ opened."""
