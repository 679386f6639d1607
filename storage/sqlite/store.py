"""SqliteStore: the embedded default Store, on two aiosqlite connections in WAL mode.

One connection writes, under one lock: SQLite has a single writer anyway, and holding the lock
across a transaction keeps two coroutines from interleaving statements inside each other's
transaction. The other one only reads (query_only), under its own lock and on its own thread,
so the queue, the staff's screens and the router's snapshot do not wait behind an intake batch:
in WAL mode a reader sees the last commit and never blocks the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import aiosqlite

from inbox.core.errors import (
    DatabaseUnavailable,
    SchemaMismatch,
    StorageError,
)
from inbox.core.model import Assign, RoutingSnapshot, StoredInbound
from storage import rows
from storage.accounts import Accounts
from storage.assignment import Assignment
from storage.attachments import Attachments
from storage.base import SCHEMA_VERSION, FeedCursor, FeedPage, IntakeRouter, KeyedInbound
from storage.deadlines import Deadlines
from storage.desk import Desk
from storage.events import Events
from storage.mail_state import Mail
from storage.outbox import Outbox
from storage.policies import Policies
from storage.rows import format_text_time as _ts
from storage.sqlite import routing as sqlite_routing
from storage.sqlite.base import T
from storage.sqlite.database import DRIVER_ERRORS, SqliteDatabase, translated
from storage.sqlite.intake import save_inbound_batch
from storage.sqlite.schema import MIGRATIONS

_parse = rows.parse_text_time


class SqliteStore(
    Accounts,
    Assignment,
    Events,
    Outbox,
    Mail,
    Desk,
    Attachments,
    Policies,
    Deadlines,
):
    """Store on one SQLite file (storage.sqlite.database). `path` may be ":memory:" only for
    throwaway use.

    Here: schema, intake and events; the operations both stores share come from the area
    classes (storage.accounts, ...), over `_db`."""

    _db: SqliteDatabase

    def __init__(self, path: Path | str) -> None:
        self._db = SqliteDatabase(path)

    async def __aenter__(self) -> Self:
        await self._db.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._db.close()

    @property
    def db(self) -> aiosqlite.Connection:
        return self._db._connection(write=True)[0]

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        db, lock = self._db._connection(write=True)
        async with lock:
            try:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
            except DRIVER_ERRORS as exc:
                raise translated(exc) from exc

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """One read statement, on the reader."""
        db, lock = self._db._connection(write=False)
        async with lock:
            try:
                return list(await db.execute_fetchall(sql, params))
            except DRIVER_ERRORS as exc:
                raise translated(exc) from exc

    async def _on_db_thread(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        return await self._db.on_db_thread(fn, write=write)

    async def listen(self, on_change: Callable[[bool], None]) -> None:
        # One process owns an SQLite file: no other instance's news to hear.
        await asyncio.Event().wait()

    # ---- schema -------------------------------------------------------------------------
    async def schema_version(self) -> int:
        found = await self._all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        )
        if not found:
            return 0
        (row,) = await self._all("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return int(row[0])

    async def migrate(self) -> list[int]:
        applied: list[int] = []
        async with self._tx() as db:  # BEGIN IMMEDIATE: a second migrating process waits
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            async with db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations") as c:
                current = int((await c.fetchone() or (0,))[0])
            if current > SCHEMA_VERSION:
                raise SchemaMismatch(_newer_message(current))
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version].split(";\n"):
                    if statement.strip():
                        await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)",
                    (version, _ts(datetime.now(UTC))),
                )
                applied.append(version)
        return applied

    async def ping(self) -> None:
        try:
            await self._all("SELECT 1")
        except StorageError as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    # ---- intake -------------------------------------------------------------------------
    async def save_inbound_batch(
        self, items: Sequence[KeyedInbound], *, router: IntakeRouter | None = None
    ) -> list[StoredInbound]:
        if not items:
            return []
        return await self._on_db_thread(
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

    # ---- events -------------------------------------------------------------------------
    # One writer: ids are taken in commit order, so the id alone is a safe cursor here.
    async def feed_start(self) -> FeedCursor:
        return FeedCursor(id=await self.last_event_id())

    async def feed_events(self, after: FeedCursor, *, limit: int = 500) -> FeedPage:
        events = await self.list_events(after_id=after.id, limit=limit)
        return FeedPage(events, FeedCursor(id=events[-1].id) if events else after)


def _newer_message(found: int) -> str:
    return (
        f"the database schema is version {found}, newer than this code "
        f"(version {SCHEMA_VERSION}); upgrade tsunagu-inbox"
    )
