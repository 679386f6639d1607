"""The search-index worker: adds new messages to SQLite's text-search index in batches, off the
intake's path (storage.context: the index costs far less a batch at a time than a message per
intake transaction, and search reads what it has not reached yet without it)."""

from __future__ import annotations

import asyncio

from inbox.resilience import Outages
from storage.roles import ContextStore


class SearchIndexer:
    def __init__(
        self, store: ContextStore, outages: Outages, *, interval_s: float, batch: int
    ) -> None:
        self._store = store
        self._outages = outages
        self._interval_s = interval_s
        self._batch = batch

    async def run(self) -> None:
        """A batch every interval_s; batch after batch while there is a backlog (a restart, a
        burst), yielding between them so the intake's writes take turns with it."""
        while True:
            added = await self._outages.retrying("search-index", self.index_once)
            await asyncio.sleep(0 if added >= self._batch else self._interval_s)

    async def index_once(self) -> int:
        return await self._store.index_text(limit=self._batch)
