"""Typed fakes of our own Protocols (never MagicMock): a channel that fails on cue."""

from __future__ import annotations

from typing import Self

from inbox.errors import ChannelError
from inbox.model import ChannelKind, OutboundMessage


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
