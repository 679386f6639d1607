"""The databases `tsunagu bench pipeline` and `bench email` run on: each run gets a fresh, migrated
store with COUNSELORS counselors, and each kind has its fastest plain insert as the baseline."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from inbox.app import utc_now
from inbox.config import DatabaseConfig
from inbox.core import model
from inbox.core.errors import DatabaseUnavailable
from storage.base import Store
from storage.postgres.store import PostgresStore
from storage.sqlite.bulk import Insert, insert_rows
from storage.sqlite.store import SqliteStore

COUNSELORS = 50
Row = tuple[Any, ...]
Table = tuple[str, list[str], list[Row]]  # name, columns, rows in column order


async def add_counselors(store: Store, capacity: int) -> None:
    await store.migrate()
    for k in range(COUNSELORS):
        user = model.NewUser(
            username=f"bench{k:02d}",
            display_name=f"相談員{k:02d}",
            password_hash="-",
            roles=frozenset({model.Role.COUNSELOR}),
            capacity=capacity,
            presence=model.Presence.AVAILABLE,  # on duty: the benchmark routes to them
        )
        await store.create_user(user, now=utc_now())


def _sqlite_value(v: object) -> object:
    return v.astimezone(UTC).isoformat(timespec="microseconds") if isinstance(v, datetime) else v


@dataclass(slots=True)
class SqliteBackend:
    dir: Path
    capacity: int
    name: str = "SQLite"

    @property
    def where(self) -> str:
        return str(self.dir)

    @asynccontextmanager
    async def store(self, label: str) -> AsyncIterator[SqliteStore]:
        """A fresh migrated store with COUNSELORS counselors."""
        async with SqliteStore(self.dir / f"{label}.db") as store:
            await add_counselors(store, self.capacity)
            yield store

    async def baseline(self, tables: list[Table], label: str) -> dict[str, float]:
        """The rows in ONE transaction on the store's own connection and thread, as the intake
        writes: by multi-row INSERT (storage.sqlite.bulk, the fastest we know), and by
        executemany per table (what this baseline was until it was found slower)."""
        statements = [
            (
                Insert(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ", _placeholders(cols)),
                [tuple(map(_sqlite_value, r)) for r in rows],
            )
            for table, cols, rows in tables
        ]

        def multi_row(db: sqlite3.Connection) -> None:
            for insert, rows in statements:
                insert_rows(db, insert, rows)

        def executemany(db: sqlite3.Connection) -> None:
            for insert, rows in statements:
                db.executemany(insert.head + insert.row, rows)

        took: dict[str, float] = {}
        for method, fn in (("multi-row INSERT", multi_row), ("executemany", executemany)):
            async with self.store(f"{label}-{len(took)}") as store:
                start = perf_counter()
                # the store's own transaction on its database thread, as save_inbound_batch's
                await store.database.on_db_thread(fn, write=True)
                took[method] = perf_counter() - start
        return took


def _placeholders(cols: Sequence[str]) -> str:
    return f"({', '.join('?' * len(cols))})"


@dataclass(slots=True)
class PostgresBackend:
    admin_url: str
    capacity: int
    name: str = "PostgreSQL"

    @property
    def where(self) -> str:
        return DatabaseConfig(url=self.admin_url).display_url

    @asynccontextmanager
    async def store(self, label: str) -> AsyncIterator[PostgresStore]:
        """A fresh migrated store with COUNSELORS counselors in a scratch database on the server
        of --database-url, dropped afterwards."""
        db_name = f"tsunagu_bench_{label}_{secrets.token_hex(4)}"
        try:
            admin = await asyncpg.connect(self.admin_url, timeout=10)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise DatabaseUnavailable(f"cannot connect to {self.where}: {exc}") from exc
        try:
            await admin.execute(f'CREATE DATABASE "{db_name}" TEMPLATE template0')
            try:
                url = urlsplit(self.admin_url)._replace(path=f"/{db_name}").geturl()
                async with PostgresStore(url) as store:
                    await add_counselors(store, self.capacity)
                    yield store
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        finally:
            await admin.close()

    async def baseline(self, tables: list[Table], label: str) -> dict[str, float]:
        """COPY (copy_records_to_table) per table in ONE transaction."""
        async with self.store(label) as store, store.pool.acquire() as conn:
            start = perf_counter()
            async with conn.transaction():
                for table, cols, rows in tables:
                    await conn.copy_records_to_table(table, records=rows, columns=cols)
            return {"COPY": perf_counter() - start}


Backend = SqliteBackend | PostgresBackend
