"""The router service: snapshot, pure decision, conditional apply, whenever something changed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from inbox.model import Assign
from routing.assign import RoutingPolicy, decide
from storage.base import Store

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class Router:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        on_assigned: Callable[[Sequence[Assign]], None] = lambda _: None,
        page: int = 1000,
        policy: RoutingPolicy | None = None,
    ) -> None:
        self._store = store
        self._policy = policy or RoutingPolicy()
        self._clock = clock
        self._on_assigned = on_assigned
        self._page = page
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something changed (new message, closed conversation, counselor added): route soon."""
        self._wake.set()

    async def run(self) -> None:
        """Route at start (recovering what a crash left unrouted), then on every wake."""
        self._wake.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.route_once()

    async def route_once(self) -> list[Assign]:
        applied: list[Assign] = []
        while True:
            snapshot = await self._store.routing_snapshot()
            decisions = decide(snapshot, now=self._clock(), policy=self._policy)
            wanted = [d for d in decisions if isinstance(d, Assign)]
            done = await self._store.apply_assignments(wanted, now=self._clock())
            applied.extend(done)
            if done:
                log.info("assigned", extra={"action": "conversations_assigned", "count": len(done)})
                self._on_assigned(done)
            # A full page may hide more waiting conversations behind it.
            if len(snapshot.waiting) < self._page or not done:
                return applied
