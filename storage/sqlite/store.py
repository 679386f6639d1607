"""SqliteStore: the embedded default Store, on two aiosqlite connections in WAL mode.

One connection writes, under one lock: SQLite has a single writer anyway, and holding the lock
across a transaction keeps two coroutines from interleaving statements inside each other's
transaction. The other one only reads (query_only), under its own lock and on its own thread,
so the queue, the staff's screens and the router's snapshot do not wait behind an intake batch:
in WAL mode a reader sees the last commit and never blocks the writer.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, cast

import aiosqlite

from inbox.core.errors import (
    DatabaseUnavailable,
    DuplicateKey,
    InvalidData,
    SchemaMismatch,
    StorageError,
    error_summary,
)
from inbox.core.model import ConversationId, Event, StoredInbound, UserId
from storage import rows
from storage.base import SCHEMA_VERSION, FeedCursor, FeedPage, IntakeRouter, KeyedInbound
from storage.rows import format_text_time as _ts
from storage.sqlite import sql as q
from storage.sqlite.attachments import SqliteAttachments
from storage.sqlite.base import T
from storage.sqlite.conversations import SqliteConversations
from storage.sqlite.delegates import SqliteDelegates
from storage.sqlite.intake import save_inbound_batch
from storage.sqlite.outbox import SqliteOutbox
from storage.sqlite.schema import MIGRATIONS
from storage.sqlite.users import SqliteUsers

_parse = rows.parse_text_time


class SqliteStore(
    SqliteDelegates, SqliteConversations, SqliteAttachments, SqliteOutbox, SqliteUsers
):
    """Store on one SQLite file. `path` may be ":memory:" only for throwaway use.

    Here: the connection, its lock and transactions, schema, intake and events; the other
    methods come from the mixins (sqlite_delegates, sqlite_conversations, sqlite_attachments,
    sqlite_outbox, sqlite_users), which use the helpers declared in sqlite_base.SqliteBase."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        try:
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            # Kept at once, so that __aexit__ closes them if what follows fails: aiosqlite's
            # thread is not a daemon, and a connection left open keeps the process from exiting.
            self._db = db = await aiosqlite.connect(self._path, isolation_level=None)
            # FULL: a message is acknowledged to its source only after the commit reached the
            # disk. The WAL mode is set before the reader opens: it is a property of the file.
            for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
                await db.execute(f"PRAGMA {pragma}")
            await _tune(db)
            if self._path == ":memory:":
                self._reader = db  # a second connection would open another, empty database
            else:
                self._reader = reader = await aiosqlite.connect(self._path, isolation_level=None)
                await reader.execute("PRAGMA query_only = ON")
                await _tune(reader)
        except (OSError, sqlite3.Error) as exc:
            await self.__aexit__()
            raise DatabaseUnavailable(f"cannot open SQLite database {self._path}: {exc}") from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None and self._reader is not self._db:
            await self._reader.close()
        self._reader = None
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("SqliteStore used outside `async with`")
        return self._db

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self.db
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

    def _connection(self, write: bool) -> tuple[aiosqlite.Connection, asyncio.Lock]:
        if self._db is None or self._reader is None:
            raise StorageError("SqliteStore used outside `async with`")
        if write or self._reader is self._db:
            return self._db, self._lock
        return self._reader, self._read_lock

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """One read statement, on the reader."""
        db, lock = self._connection(write=False)
        async with lock:
            try:
                return list(await db.execute_fetchall(sql, params))
            except DRIVER_ERRORS as exc:
                raise translated(exc) from exc

    async def _on_db_thread(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run `fn` in one transaction as ONE call on aiosqlite's thread.

        The hot paths (intake, routing) use this: each `await db.execute` is a hand-off to the
        database thread and back, and a batch that took ~30 of them spent more time switching
        threads than in SQLite. aiosqlite has no public call for this, so `_execute`/`_conn` are
        used here only; the version range in pyproject.toml and the contract suite guard it.
        """
        db, lock = self._connection(write)
        execute = cast(Callable[..., Awaitable[T]], db._execute)
        async with lock:
            try:
                return await execute(_in_transaction, db._conn, fn, write)
            except DRIVER_ERRORS as exc:
                raise translated(exc) from exc

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

    # ---- events -------------------------------------------------------------------------
    async def list_events(self, *, after_id: int = 0, limit: int = 500) -> list[Event]:
        return [rows.event(r, _parse) for r in await self._all(q.LIST_EVENTS, (after_id, limit))]

    async def last_event_id(self) -> int:
        (row,) = await self._all(q.LAST_EVENT_ID)
        return int(row[0])

    # One writer: ids are taken in commit order, so the id alone is a safe cursor here.
    async def feed_start(self) -> FeedCursor:
        return FeedCursor(id=await self.last_event_id())

    async def feed_events(self, after: FeedCursor, *, limit: int = 500) -> FeedPage:
        events = await self.list_events(after_id=after.id, limit=limit)
        return FeedPage(events, FeedCursor(id=events[-1].id) if events else after)

    async def record_event(
        self,
        kind: str,
        *,
        now: datetime,
        actor_id: UserId | None = None,
        conversation_id: ConversationId | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        async with self._tx() as db:
            await self._event(
                db, kind, now, actor_id=actor_id, conversation_id=conversation_id, data=data
            )


# What binding a value can raise besides sqlite3.Error: a str with a lone surrogate (the
# error's `object` is the whole text), an int beyond 64 bits. asyncpg raises DataError for both.
DRIVER_ERRORS = (sqlite3.Error, UnicodeEncodeError, OverflowError)
# SQLite's own constraint messages name the columns, never the values.
_CONSTRAINT_FAILED = re.compile(r"(UNIQUE|NOT NULL|FOREIGN KEY) constraint failed(: [\w., ]+)?")


# An SQLite failure that passes when retried later: another process holds the file past the
# busy timeout, or the file or its disk is unreadable for now (full disk, NFS, permissions).
_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o error", "readonly database", "full")


def translated(exc: Exception) -> StorageError:
    """The StorageError for a driver error: its type and SQLite's error name, and the message
    only when it is a constraint's (table.column): no driver text that may quote a value."""
    summary = f"SQLite {error_summary(exc)}"
    if isinstance(exc, sqlite3.OperationalError) and any(
        word in str(exc).lower() for word in _UNAVAILABLE
    ):
        return DatabaseUnavailable(summary)
    constraint = _CONSTRAINT_FAILED.fullmatch(str(exc))
    if constraint is None:
        if isinstance(exc, UnicodeEncodeError | OverflowError | sqlite3.DataError):
            return InvalidData(summary)  # a value the driver cannot bind
        return StorageError(summary)
    # Only a unique key is "taken"; a failed CHECK or foreign key is a bad value, not a clash.
    kind = DuplicateKey if constraint[1] == "UNIQUE" else InvalidData
    return kind(f"{summary}: {constraint[0]}")


async def _tune(db: aiosqlite.Connection) -> None:
    # 64 MB of page cache instead of SQLite's 2 MB: the queue's and the intake's look-ups then
    # stay in memory once the database outgrows a few thousand conversations.
    for pragma in ("busy_timeout = 5000", "cache_size = -65536"):
        await db.execute(f"PRAGMA {pragma}")


def _in_transaction(
    db: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], write: bool
) -> T:
    """On the database thread: BEGIN IMMEDIATE (write) or a consistent read, then fn, COMMIT."""
    db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        result = fn(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def _newer_message(found: int) -> str:
    return (
        f"the database schema is version {found}, newer than this code "
        f"(version {SCHEMA_VERSION}); upgrade tsunagu-inbox"
    )
