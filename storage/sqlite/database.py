"""SQLite's Database: two aiosqlite connections in WAL mode, and the Tx the operations run on.

One connection writes: SQLite has a single writer anyway, and each transaction is one call on
aiosqlite's thread, which runs its calls one at a time, so two coroutines never interleave
statements inside each other's transaction (SqliteDatabase.on_db_thread). The other one only
reads (query_only), on its own thread, so the queue, the staff's screens and the router's
snapshot do not wait behind an intake batch: in WAL mode a reader sees the last commit and never
blocks the writer. A third one reads the event log's tail for the staff feed alone
(SqliteDatabase.read_tail): after each change some 200 consoles' refetches queue on the reader,
and the feed's read waited behind them (up to 100 ms at 1,000 msg/s: the push's tail).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import aiosqlite

from inbox.core.errors import (
    DatabaseUnavailable,
    DuplicateKey,
    InvalidData,
    StorageError,
    error_summary,
)
from storage.rows import Row, format_text_time, parse_text_time
from storage.sql import Dialects, Operation, Query, T, run_sync
from storage.sqlite.bulk import Insert, insert_rows


class SqliteTx:
    """Tx on the sqlite3 connection, on aiosqlite's thread: each call runs at once (run_sync)."""

    parse_time = staticmethod(parse_text_time)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    async def fetch(self, query: Query, *args: Any) -> list[Row]:
        return self.db.execute(sqlite_text(query), values(args)).fetchall()

    async def fetchrow(self, query: Query, *args: Any) -> Row | None:
        found = self.db.execute(sqlite_text(query), values(args)).fetchall()
        return found[0] if found else None

    async def fetchval(self, query: Query, *args: Any) -> Any:
        row = await self.fetchrow(query, *args)
        return None if row is None else row[0]

    async def execute(self, query: Query, *args: Any) -> None:
        self.db.execute(sqlite_text(query), values(args)).fetchall()  # steps a RETURNING through

    async def executemany(self, query: Query, args: Iterable[Sequence[Any]]) -> None:
        self.db.executemany(sqlite_text(query), (values(a) for a in args))

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        insert_rows(self.db, _insert(table, tuple(columns)), _rows_values(rows))


_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=1024)
def sqlite_text(query: Query) -> str:
    """The statement as SQLite takes it: `$1` becomes `?1` (SQLite's numbered parameter)."""
    text = query.sqlite if isinstance(query, Dialects) else query
    return _PLACEHOLDER.sub(r"?\1", text)


@lru_cache(maxsize=64)
def _insert(table: str, columns: tuple[str, ...]) -> Insert:
    return Insert(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ",
        f"({', '.join('?' * len(columns))})",
    )


def values(args: Sequence[Any]) -> tuple[Any, ...]:
    """Values as the SQLite schema keeps them: times as fixed-width UTC text (so text order is
    time order), lists and sets as JSON arrays (PostgreSQL's text[] columns)."""
    return tuple(_value(a) for a in args)


def _rows_values(rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """`values` of each row, or the rows as they are when none holds a value to convert: the
    intake's events come as SQLite keeps them, and are checked by type a column at a time."""
    kinds = {kind for column in zip(*rows, strict=True) for kind in set(map(type, column))}
    if any(issubclass(kind, _CONVERTED) for kind in kinds):
        return [values(r) for r in rows]
    return rows


_CONVERTED = (datetime, list, tuple, frozenset, set)


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_text_time(value)
    if isinstance(value, list | tuple | frozenset | set):
        return json.dumps(list(value), ensure_ascii=False)
    return value


class SqliteDatabase:
    """The connections of one SQLite file. `path` may be ":memory:" only for throwaway use."""

    parse_time = staticmethod(parse_text_time)

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._tail: aiosqlite.Connection | None = None

    async def open(self) -> None:
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Kept at once, so that close() closes them if what follows fails: aiosqlite's
            # thread is not a daemon, and a connection left open keeps the process from exiting.
            self._db = db = await aiosqlite.connect(self.path, isolation_level=None)
            # FULL: a message is acknowledged to its source only after the commit reached the
            # disk. The WAL mode is set before the reader opens: it is a property of the file.
            for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
                await db.execute(f"PRAGMA {pragma}")
            await _tune(db)
            if self.path == ":memory:":
                # a second connection would open another, empty database
                self._reader = self._tail = db
            else:
                self._reader = await self._open_reader()
                # a few small reads a second of the last pages: SQLite's default cache will do
                self._tail = await self._open_reader(cache=False)
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            raise DatabaseUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc

    async def _open_reader(self, *, cache: bool = True) -> aiosqlite.Connection:
        reader = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await reader.execute("PRAGMA query_only = ON")
            await _tune(reader, cache=cache)
        except BaseException:
            await reader.close()
            raise
        return reader

    async def close(self) -> None:
        for reader in (self._tail, self._reader):
            if reader is not None and reader is not self._db:
                await reader.close()
        self._reader = self._tail = None
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def write(self, op: Operation[T]) -> T:
        return await self.on_db_thread(_whole(op), write=True)

    async def read(self, op: Operation[T]) -> T:
        return await self.on_db_thread(_whole(op), write=False)

    async def snapshot(self, op: Operation[T]) -> T:
        # the reader's BEGIN already makes every read one consistent read (WAL)
        return await self.read(op)

    async def read_tail(self, op: Operation[T]) -> T:
        """`read`, on the connection that only the staff feed's reads of the log use."""
        if self._tail is None:
            raise StorageError("SqliteStore used outside `async with`")
        return await self._run(self._tail, _whole(op), write=False)

    async def on_db_thread(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run `fn` in one transaction (BEGIN IMMEDIATE to write) as ONE call on aiosqlite's
        thread: each `await db.execute` is a hand-off to that thread and back, and a batch
        that took ~30 of them spent more time switching threads than in SQLite. aiosqlite has
        no public call for this, so `_execute`/`_conn` are used here only; the version range in
        pyproject.toml and the contract suite guard it.

        No lock around it: the whole transaction is that one call, and aiosqlite's thread runs
        its calls one at a time in the order they came. A lock held until the caller resumed
        made every next transaction wait for a turn of the event loop as well: under 750 msg/s
        a read waited p50 39 / p99 466 ms for one that ran 0.2 ms, and the staff feed's read of
        the news with it (push p99 267 ms)."""
        return await self._run(self._connection(write), fn, write=write)

    async def _run(
        self, db: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T], *, write: bool
    ) -> T:
        execute = cast(Callable[..., Awaitable[T]], db._execute)
        try:
            return await execute(_in_transaction, db._conn, fn, write)
        except DRIVER_ERRORS as exc:
            raise translated(exc) from exc

    @property
    def writer(self) -> aiosqlite.Connection:
        return self._connection(write=True)

    def _connection(self, write: bool) -> aiosqlite.Connection:
        if self._db is None or self._reader is None:
            raise StorageError("SqliteStore used outside `async with`")
        return self._db if write else self._reader


def _whole(op: Operation[T]) -> Callable[[sqlite3.Connection], T]:
    """`op` as one call on a connection's thread (run_sync: SQLite's Tx never suspends)."""
    return lambda db: run_sync(op(SqliteTx(db)))


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


async def _tune(db: aiosqlite.Connection, *, cache: bool = True) -> None:
    await db.execute("PRAGMA busy_timeout = 5000")
    if cache:
        # 64 MB of page cache instead of SQLite's 2 MB: the queue's and the intake's look-ups
        # then stay in memory once the database outgrows a few thousand conversations.
        await db.execute("PRAGMA cache_size = -65536")


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
