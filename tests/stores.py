"""Which database a test runs on: SQLite, unless what it asserts could differ on PostgreSQL.

Every fixture that opens a database (`store` in tests/conftest.py, `site` in tests/web/conftest.py)
asks `store_kind`, which is "sqlite" for a plain test: no PostgreSQL database is cloned for tests
that test no storage behaviour. A test marked `both_stores` runs once per store; mark it when it
asserts a PostgreSQL behaviour (SQLSTATE translation, text the database refuses, LISTEN/NOTIFY,
the driver's errors) or a store operation the contract suite (tests/storage, which runs every
test on both) does not cover. Tests that need PostgreSQL alone carry the `postgres` marker.
"""

from __future__ import annotations

from typing import Final

import pytest

SQLITE: Final = "sqlite"
POSTGRES: Final = "postgres"
# The PostgreSQL half carries the `postgres` marker too, so `-m "not postgres"` leaves it out.
BOTH_STORES: Final = (SQLITE, pytest.param(POSTGRES, marks=pytest.mark.postgres))


def runs_on_both(metafunc: pytest.Metafunc) -> bool:
    """Whether this test is marked both_stores; a mark on a test that opens no store is an
    error, since it would claim a PostgreSQL run that never happens."""
    if metafunc.definition.get_closest_marker("both_stores") is None:
        return False
    if "store_kind" not in metafunc.fixturenames:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: both_stores, but it opens no store")
    return True
