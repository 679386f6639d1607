"""PostgreSQL for tests: find the server, migrate a template once, hand out throwaway databases."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage.postgres.store import PostgresStore
from tests import skips

URL_VARIABLE = "TSUNAGU_TEST_DATABASE_URL"
HOW_TO_ENABLE = f"set {URL_VARIABLE}=postgresql://postgres@127.0.0.1:5432/test"
# Short: an unreachable server should skip (or fail) the run at once, not hang it.
CONNECT_TIMEOUT_S = 5.0

T = TypeVar("T")


def pg_admin_url() -> str | None:
    """The server the PostgreSQL tests use, from TSUNAGU_TEST_DATABASE_URL; None when unset."""
    return os.environ.get(URL_VARIABLE) or None


def strict() -> bool:
    """TSUNAGU_TEST_STRICT=1 (CI) turns every 'PostgreSQL is not available' skip into a failure."""
    return skips.strict()


async def pg_reachable(url: str) -> bool:
    """Whether a connection to `url` can be opened."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    await conn.close()
    return True


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a fresh event loop in a worker thread and return its result.

    For sync (session-scoped) fixtures: asyncio.run() fails when such a fixture is set up from
    inside a running loop, e.g. through request.getfixturevalue() in an async fixture.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pgutil") as pool:
        return pool.submit(asyncio.run, coro).result()


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test, or fail it under TSUNAGU_TEST_STRICT=1, saying how to enable it."""
    skips.skip_or_fail(reason, f"to run the PostgreSQL tests, {HOW_TO_ENABLE}")


def redact(url: str) -> str:
    """`url` with its password masked, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def with_database(url: str, database: str) -> str:
    """`url` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class PgTemplate:
    """A migrated template database; each test clones it (CREATE DATABASE ... TEMPLATE), which
    costs a file copy instead of running the migrations again."""

    def __init__(self, admin_url: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        self._created: list[str] = []

    @classmethod
    async def create(cls, admin_url: str) -> PgTemplate:
        """Create and migrate `tsunagu_tpl_<hex>` on the server of `admin_url`."""
        template = cls(admin_url, f"tsunagu_tpl_{uuid.uuid4().hex}")
        await template._admin(f"CREATE DATABASE {_quote(template.name)}")
        try:
            async with PostgresStore(with_database(admin_url, template.name)) as store:
                await store.migrate()
        except BaseException:
            await template.drop_all()
            raise
        return template

    async def fresh_database(self) -> str:
        """A new database cloned from the template; its URL. drop_all() removes it."""
        name = f"t_{uuid.uuid4().hex}"
        await self._admin(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(self.name)}")
        self._created.append(name)
        return with_database(self.admin_url, name)

    async def empty_database(self) -> str:
        """A new database without any schema, for migration tests; drop_all() removes it."""
        name = f"t_{uuid.uuid4().hex}"
        await self._admin(f"CREATE DATABASE {_quote(name)}")
        self._created.append(name)
        return with_database(self.admin_url, name)

    async def drop(self, url: str) -> None:
        """Drop one database made here, now: a test that is done with its database drops it,
        so the session's teardown stays short (each DROP costs ~0.2-0.3 s on a busy disk)."""
        name = urlsplit(url).path.lstrip("/")
        if name not in self._created:
            raise ValueError("not a database this template made")
        await self._admin(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
        self._created.remove(name)

    async def drop_all(self) -> None:
        """Drop every database made here and the template, ending sessions still inside them."""
        conn = await asyncpg.connect(self.admin_url, timeout=CONNECT_TIMEOUT_S)
        try:
            for name in [*self._created, self.name]:
                # FORCE terminates sessions a failed test left inside (PostgreSQL 13+).
                await conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
            self._created.clear()
        finally:
            await conn.close()

    async def _admin(self, sql: str) -> None:
        # CREATE DATABASE cannot run in a transaction block; a plain connection runs it outside.
        conn = await asyncpg.connect(self.admin_url, timeout=CONNECT_TIMEOUT_S)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


async def wait_until_blocked(db_url: str, timeout_s: float = 10.0) -> None:
    """Return once some session of this database waits for a lock (the race is staged)."""
    conn = await asyncpg.connect(db_url)
    try:
        deadline = time.monotonic() + timeout_s
        while not await conn.fetchval(
            "SELECT count(*) > 0 FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ):
            assert time.monotonic() < deadline, "no session started waiting for a lock"
            await asyncio.sleep(0.005)  # polling a condition with a deadline, not a fixed wait
    finally:
        await conn.close()
