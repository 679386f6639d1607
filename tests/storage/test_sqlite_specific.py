"""SQLite only: opening a file that is not a database fails cleanly; multi-row inserts."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from inbox.core.errors import DatabaseUnavailable
from storage.sqlite.bulk import ROWS_PER_STATEMENT, Insert, insert_rows
from storage.sqlite.store import SqliteStore


async def test_a_file_that_is_not_a_database_is_refused_without_a_lingering_thread(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inbox.db"
    path.write_text("not a database, a note someone left here\n" * 100)
    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(DatabaseUnavailable, match="not a database"):
        async with SqliteStore(path):
            pass
    # aiosqlite's threads are not daemons: one left open would keep the process from exiting.
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    for t in left:
        t.join(timeout=2)
    assert not [t for t in left if t.is_alive()]


@pytest.mark.parametrize(
    "count", [0, 1, ROWS_PER_STATEMENT - 1, ROWS_PER_STATEMENT, 2 * ROWS_PER_STATEMENT + 1]
)
def test_insert_rows_writes_every_row_in_order_with_literals(count: int) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, kind TEXT, note TEXT)")
    rows = [(i, f"メモ{i}") for i in range(1, count + 1)]
    insert_rows(db, Insert("INSERT INTO t (id, kind, note) VALUES ", "(?, 'x', ?)"), rows)
    found = db.execute("SELECT id, kind, note FROM t ORDER BY rowid").fetchall()
    assert found == [(i, "x", note) for i, note in rows]


def test_insert_rows_stops_at_the_first_failing_row() -> None:
    """A unique key failing inside a multi-row statement fails the statement as executemany
    would fail the row: the caller's savepoint or transaction decides what is undone."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    rows = [(i,) for i in range(ROWS_PER_STATEMENT)] + [(3,)]  # the repeat is in the remainder
    db.execute("BEGIN")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        insert_rows(db, Insert("INSERT INTO t (id) VALUES ", "(?)"), rows)
    db.execute("ROLLBACK")
    assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)
