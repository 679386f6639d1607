"""Typed fakes of our own Protocols (never MagicMock): a channel that fails on cue, a store's
intake that refuses some messages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Self

from inbox.core.errors import ChannelError
from inbox.core.model import ChannelKind, InboundMessage, OutboundMessage, StoredInbound
from storage.base import IntakeRouter, IntakeStore, KeyedInbound


class ScriptedChannel:
    """Answers each send with the next scripted outcome: a provider id, or an error to raise."""

    kind = ChannelKind.WEBCHAT

    def __init__(self, outcomes: list[str | ChannelError]) -> None:
        self.outcomes = outcomes
        self.sent: list[OutboundMessage] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, msg: OutboundMessage) -> str:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, ChannelError):
            raise outcome
        self.sent.append(msg)
        return outcome


class RefusingIntake:
    """Stands in for a real store's save_inbound_batch (monkeypatch it onto the store): raises
    `error` for any batch holding a message `refuses` picks, else stores; counts the calls."""

    def __init__(
        self, store: IntakeStore, refuses: Callable[[InboundMessage], bool], error: Exception
    ) -> None:
        self.save = store.save_inbound_batch
        self.refuses, self.error, self.calls = refuses, error, 0

    async def __call__(
        self, items: Sequence[KeyedInbound], *, router: IntakeRouter | None = None
    ) -> list[StoredInbound]:
        self.calls += 1
        if any(self.refuses(i.message) for i in items):
            raise self.error
        return await self.save(items, router=router)
