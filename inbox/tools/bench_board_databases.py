"""Where `bench board` keeps its desk: seeded once, and a fresh copy of it for each run's server
(SQLite: a copy of the data folder; PostgreSQL: a database made from the seeded one as its
template, on the server of --database-url, dropped afterwards)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from inbox.config import DatabaseConfig, load_config
from inbox.core.errors import DatabaseUnavailable
from inbox.tools.bench_board_desk import Desk, seed_desk
from storage.base import Store
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore

Seeder = Callable[[Store], Awaitable[object]]
DATA = "data"  # the server's data folder in its run folder (inbox.tools.bench_sockets)


@dataclass(slots=True)
class SqliteDesk:
    """The seeded database in `seed/data`; each run's server gets a copy of that folder."""

    seed: Path
    name: str = "SQLite"

    async def fill(self, seeder: Seeder) -> None:
        data = self.seed / DATA
        cfg = load_config(None, env={"TSUNAGU_DATA_DIR": str(data)})
        assert cfg.database.sqlite_path is not None
        cfg.database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        async with SqliteStore(cfg.database.sqlite_path) as store:
            await store.migrate()
            await seeder(store)

    @asynccontextmanager
    async def copy(self, run_dir: Path) -> AsyncIterator[str | None]:
        """run_dir/data as the seed left it; None: the server's SQLite in its data folder."""
        shutil.copytree(self.seed / DATA, run_dir / DATA)
        yield None

    async def close(self) -> None:
        """Nothing to drop: the folders go with the bench's temporary folder."""


@dataclass(slots=True)
class PostgresDesk:
    admin_url: str
    name: str = "PostgreSQL"
    _seed_db: str = field(default_factory=lambda: f"tsunagu_bench_board_{secrets.token_hex(4)}")
    _made: list[str] = field(default_factory=list)

    def _url(self, db_name: str) -> str:
        return urlsplit(self.admin_url)._replace(path=f"/{db_name}").geturl()

    async def _admin(self, sql: str, *, db_name: str | None = None) -> None:
        url = self.admin_url if db_name is None else self._url(db_name)
        try:
            admin = await asyncpg.connect(url, timeout=10)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            where = DatabaseConfig(url=url).display_url
            raise DatabaseUnavailable(f"cannot connect to {where}: {exc}") from exc
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    async def fill(self, seeder: Seeder) -> None:
        await self._admin(f'CREATE DATABASE "{self._seed_db}" TEMPLATE template0')
        self._made.append(self._seed_db)
        async with PostgresStore(self._url(self._seed_db)) as store:
            await store.migrate()
            await seeder(store)
        # The planner's statistics, as autovacuum would have them on a deployed database
        # minutes after such a fill (a cluster may run with it off: this machine's does, and
        # the queue's and the router's reads then planned for empty tables). Copies keep them.
        await self._admin("ANALYZE", db_name=self._seed_db)

    @asynccontextmanager
    async def copy(self, run_dir: Path) -> AsyncIterator[str | None]:
        """A database made from the seeded one (no one may be connected to that), its URL."""
        (run_dir / DATA).mkdir(parents=True)
        db_name = f"{self._seed_db}_{len(self._made)}"
        await self._admin(f'CREATE DATABASE "{db_name}" TEMPLATE "{self._seed_db}"')
        self._made.append(db_name)
        yield self._url(db_name)

    async def close(self) -> None:
        for db_name in reversed(self._made):
            await self._admin(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        self._made.clear()


BoardDatabase = SqliteDesk | PostgresDesk


async def seeded_desk(
    db: BoardDatabase, *, counselors: int, supervisors: int, capacity: int, waiting: int
) -> Desk:
    """`db` filled with a desk (inbox.tools.bench_board_desk.seed_desk), and that desk."""
    desks: list[Desk] = []

    async def seed(store: Store) -> None:
        desks.append(
            await seed_desk(
                store,
                counselors=counselors,
                supervisors=supervisors,
                capacity=capacity,
                waiting=waiting,
            )
        )

    await db.fill(seed)
    return desks[0]
