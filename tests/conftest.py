"""Fixtures shared by every test: the store under test (SQLite unless the test is marked
both_stores, see tests/stores.py) and the PostgreSQL template its databases are cloned from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from inbox import auth
from storage.base import Store
from storage.postgres.store import PostgresStore
from storage.sqlite.store import SqliteStore
from tests import pgutil, stores


@pytest.hookimpl(tryfirst=True)  # the store first in a test's id, as before: test_x[postgres-json]
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if stores.runs_on_both(metafunc):
        metafunc.parametrize("store_kind", stores.BOTH_STORES, indirect=True)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2id at its lowest work factor for servers and accounts made in the test process:
    the same algorithm and code paths (hash, verify, the dummy hash for unknown names, the
    rehash check), about 1 ms instead of ~0.1 s of CPU (0.5 s wall on a loaded 2-core CI
    machine) for every account set up and every sign-in. Tests that need the real cost pass
    their own hasher (tests/core/test_signin_guard.py); servers in subprocesses keep it."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", cheap)
        patch.setattr(auth, "_DUMMY_HASH", cheap.hash("not-a-password-anyone-has"))
        yield


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    """The database a test's store lives in: "sqlite", or each in turn under both_stores."""
    return str(getattr(request, "param", stores.SQLITE))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[pgutil.PgTemplate]:
    """A migrated template database on the server named by TSUNAGU_TEST_DATABASE_URL."""
    url = pgutil.pg_admin_url()
    if url is None:
        pgutil.skip_or_fail("TSUNAGU_TEST_DATABASE_URL is not set")
    if not pgutil.run_blocking(pgutil.pg_reachable(url)):
        pgutil.skip_or_fail(f"no PostgreSQL answers at {pgutil.redact(url)}")
    template = pgutil.run_blocking(pgutil.PgTemplate.create(url))
    yield template
    pgutil.run_blocking(template.drop_all())


@pytest.fixture
async def store(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Store]:
    """A migrated, empty store; each test gets its own file or database."""
    if store_kind == stores.SQLITE:
        impl: Store = SqliteStore(tmp_path / "inbox.db")  # the annotation checks conformance
        async with impl:
            await impl.migrate()
            yield impl
        return
    template: pgutil.PgTemplate = request.getfixturevalue("pg_template")
    url = await template.fresh_database()
    impl = PostgresStore(url)
    async with impl:
        await impl.migrate()
        yield impl
    await template.drop(url)
