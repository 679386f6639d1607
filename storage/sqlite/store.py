"""SqliteStore: the embedded default Store, on one SQLite file (storage.sqlite.database)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from inbox.core.decisions import Assign, RoutingSnapshot
from inbox.core.model import StoredInbound
from storage.base import SCHEMA_VERSION, FeedCursor, FeedPage, IntakeRouter, KeyedInbound
from storage.events import list_events
from storage.sql import Tx
from storage.sqlite import routing as sqlite_routing
from storage.sqlite.database import SqliteDatabase
from storage.sqlite.intake import save_inbound_batch
from storage.sqlite.schema import MIGRATIONS
from storage.store import CURRENT_VERSION, SqlStore, schema_too_new

CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
)
RECORD_MIGRATION = "INSERT INTO schema_migrations VALUES ($1, $2)"


class SqliteStore(SqlStore):
    """Store on one SQLite file. `path` may be ":memory:" only for throwaway use. Here: what
    SQLite does by hand (storage.store.SqlStore has the rest)."""

    _db: SqliteDatabase
    _dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self._db = SqliteDatabase(path)

    @property
    def database(self) -> SqliteDatabase:
        """Its connections, for tests and benchmarks that use the database directly."""
        return self._db

    @property
    def db(self) -> aiosqlite.Connection:
        """The writer connection, for tests that read the database directly."""
        return self._db.writer

    async def listen(
        self,
        on_change: Callable[[bool], None],
        on_arrival: Callable[[int, datetime], None] | None = None,
    ) -> None:
        # One process owns an SQLite file: no other instance's news to hear.
        await asyncio.Event().wait()

    async def lead_router(self, leading: asyncio.Event) -> None:
        leading.set()  # one process owns an SQLite file: its router is the only one
        await asyncio.Event().wait()

    # ---- schema -------------------------------------------------------------------------
    async def migrate(self) -> list[int]:
        async def op(tx: Tx) -> list[int]:  # BEGIN IMMEDIATE: a second migrating process waits
            await tx.execute(CREATE_SCHEMA_MIGRATIONS)
            current = int(await tx.fetchval(CURRENT_VERSION))
            if current > SCHEMA_VERSION:
                raise schema_too_new(current)
            applied = list(range(current + 1, SCHEMA_VERSION + 1))
            for version in applied:
                for statement in MIGRATIONS[version].split(";\n"):
                    if statement.strip():
                        await tx.execute(statement)
                await tx.execute(RECORD_MIGRATION, version, datetime.now(UTC))
            return applied

        return await self._db.write(op)

    # ---- intake -------------------------------------------------------------------------
    async def save_inbound_batch(
        self, items: Sequence[KeyedInbound], *, router: IntakeRouter | None = None
    ) -> list[StoredInbound]:
        if not items:
            return []
        return await self._db.on_db_thread(
            lambda db: save_inbound_batch(db, items, router), write=True
        )

    # ---- routing: the router's two, hand-written ----------------------------------------
    async def routing_snapshot(self) -> RoutingSnapshot:
        # One read transaction, so loads and the queue describe the same moment.
        return await self._db.on_db_thread(sqlite_routing.routing_snapshot, write=False)

    async def apply_assignments(self, assigns: Sequence[Assign], *, now: datetime) -> list[Assign]:
        if not assigns:
            return []
        # Holding the write transaction, nobody can change loads between the check and the write.
        return await self._db.on_db_thread(
            lambda db: sqlite_routing.apply_assignments(db, assigns, now), write=True
        )

    # ---- the live tail of events --------------------------------------------------------
    # One writer: ids are taken in commit order, so the id alone is a safe cursor here.
    async def feed_start(self) -> FeedCursor:
        return FeedCursor(id=await self.last_event_id())

    async def feed_events(self, after: FeedCursor, *, limit: int = 500) -> FeedPage:
        events = await self._db.read_tail(lambda tx: list_events(tx, after.id, limit))
        return FeedPage(events, FeedCursor(id=events[-1].id) if events else after)
