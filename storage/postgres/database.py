"""PostgreSQL's Database: an asyncpg pool, and the Tx the operations run on."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from itertools import chain
from typing import Any

import asyncpg

from inbox.core.errors import StorageError
from storage.postgres.pool import CONNECTION_LOST, describe_url, open_pool, translated
from storage.rows import Row, parse_native_time
from storage.sql import Dialects, Operation, Query, T

# Up to this many rows go in as one multi-row INSERT; more by COPY, which costs a round-trip
# more to start but far less per row (an intake batch's events: about a third faster than
# INSERT ... unnest). Either way ONE statement, in list order, so ids follow it: the events
# table's NOTIFY trigger fires once per statement, and other instances hear one notice.
COPY_FROM_ROWS = 8


def pg_text(query: Query) -> str:
    return query.postgres if isinstance(query, Dialects) else query


@lru_cache(maxsize=128)
def _insert(table: str, columns: tuple[str, ...], rows: int) -> str:
    width = len(columns)
    values = ", ".join(
        "(" + ", ".join(f"${row * width + i}" for i in range(1, width + 1)) + ")"
        for row in range(rows)
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"


class PgTx:
    """Tx on one pooled asyncpg connection."""

    parse_time = staticmethod(parse_native_time)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def fetch(self, query: Query, *args: Any) -> list[Row]:
        return list(await self.conn.fetch(pg_text(query), *args))

    async def fetchrow(self, query: Query, *args: Any) -> Row | None:
        row: Row | None = await self.conn.fetchrow(pg_text(query), *args)
        return row

    async def fetchval(self, query: Query, *args: Any) -> Any:
        return await self.conn.fetchval(pg_text(query), *args)

    async def execute(self, query: Query, *args: Any) -> None:
        await self.conn.execute(pg_text(query), *args)

    async def executemany(self, query: Query, args: Iterable[Sequence[Any]]) -> None:
        await self.conn.executemany(pg_text(query), args)

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if len(rows) > COPY_FROM_ROWS:
            await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))
        elif rows:
            await self.conn.execute(_insert(table, tuple(columns), len(rows)), *chain(*rows))


# The intake's own connections (inbox.pipeline's lanes, one writer each). A batch was 8 round
# trips (6 now, storage.postgres.intake); with one writer, at 500 msg/s it was busy all the
# time and messages queued behind it.
INTAKE_CONNECTIONS = 2
# Pools of their own beside the shared one, for work that someone waits on while the consoles'
# reads hold every shared connection (a wait of p99 538 ms at 100 msg/s, for statements of
# 3 ms): the intake's writers (a message is acknowledged once its batch commits) and the tails of
# the event log (the staff feed's news; the deadline watcher's changes).
INTAKE, TAIL = "intake", "tail"
OWN_CONNECTIONS = {INTAKE: INTAKE_CONNECTIONS, TAIL: 1}


class PgDatabase:
    """The pool of one PostgreSQL database; any number of processes may share the database."""

    parse_time = staticmethod(parse_native_time)

    def __init__(
        self,
        url: str,
        *,
        pool_min: int = 1,
        pool_max: int = 10,
        connect_timeout_s: float = 10.0,
        command_timeout_s: float | None = None,
    ) -> None:
        self.url = url
        self.connect_timeout_s = connect_timeout_s
        self._command_timeout_s = command_timeout_s
        self._pool_min = pool_min
        self._pool_max = pool_max
        self._pool: Any = None
        self._own: dict[str, Any] = {}
        # Names this instance's connections, so its listener can skip its own news.
        self.instance = f"tsunagu-{secrets.token_hex(6)}"

    def __repr__(self) -> str:
        return f"PgDatabase({describe_url(self.url)!r})"

    async def open(self) -> None:
        self._pool = await self._open_pool(self._pool_min, self._pool_max)
        try:
            for name, size in OWN_CONNECTIONS.items():
                self._own[name] = await self._open_pool(size, size)
        except BaseException:
            await self.close()
            raise

    async def _open_pool(self, min_size: int, max_size: int) -> Any:
        return await open_pool(
            self.url,
            min_size=min_size,
            max_size=max_size,
            timeout_s=self.connect_timeout_s,
            application_name=self.instance,
            command_timeout_s=self._command_timeout_s,
        )

    async def close(self) -> None:
        pools = [p for p in (self._pool, *self._own.values()) if p is not None]
        self._pool, self._own = None, {}
        for pool in pools:
            try:
                # A graceful close waits for each connection's goodbye, which a server that is
                # down or gone silent never answers; shutdown must not hang on it.
                async with asyncio.timeout(self.connect_timeout_s):
                    await pool.close()
            except (TimeoutError, *CONNECTION_LOST, asyncpg.InterfaceError):
                pool.terminate()

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise StorageError("PostgresStore used outside `async with`")
        return self._pool

    def own_pool(self, name: str) -> Any:
        """One of the pools of OWN_CONNECTIONS (storage.postgres.store)."""
        if name not in self._own:
            raise StorageError("PostgresStore used outside `async with`")
        return self._own[name]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """A pooled connection inside a transaction; asyncpg's errors come out translated."""
        with translated():
            async with self.pool.acquire() as conn, conn.transaction():
                yield conn

    async def write(self, op: Operation[T]) -> T:
        async with self.transaction() as conn:
            return await op(PgTx(conn))

    async def read(self, op: Operation[T], *, own: str | None = None) -> T:
        """`op` on a pooled connection: the shared pool's, or of the pool `own` names."""
        pool = self.pool if own is None else self.own_pool(own)
        with translated():
            async with pool.acquire() as conn:
                return await op(PgTx(conn))

    async def snapshot(self, op: Operation[T]) -> T:
        with translated():
            async with (
                self.pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                return await op(PgTx(conn))
