"""Fixtures of the storage tests: the contract suite on both stores, and for the PostgreSQL-only
tests one database, two instances on it, and a raw connection standing for a third caught
mid-transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from storage.postgres.store import PostgresStore
from tests import pgutil
from tests.stores import BOTH_STORES

Stores = tuple[PostgresStore, PostgresStore]


@pytest.fixture(params=BOTH_STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Every test here that takes `store` runs on SQLite and on PostgreSQL: this is the contract
    both implementations keep (elsewhere a test gets SQLite unless marked both_stores)."""
    return str(request.param)


@pytest.fixture
async def db_url(pg_template: pgutil.PgTemplate) -> AsyncIterator[str]:
    """A migrated database of this test's own (pg_template is the session one in conftest)."""
    url = await pg_template.fresh_database()
    yield url
    await pg_template.drop(url)


@pytest.fixture
async def stores(db_url: str) -> AsyncIterator[Stores]:
    """Two instances on the same database, as two processes would be."""
    async with PostgresStore(db_url) as a, PostgresStore(db_url) as b:
        yield a, b


@pytest.fixture
async def other(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection standing for another instance caught in the middle of a transaction."""
    conn = await asyncpg.connect(db_url)
    yield conn
    await conn.close()
