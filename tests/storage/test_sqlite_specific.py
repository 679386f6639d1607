"""SQLite only: opening a file that is not a database fails cleanly; multi-row inserts; the
feed's reads of the log on a connection of their own."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from inbox.core.errors import DatabaseUnavailable
from storage.sqlite.bulk import ROWS_PER_STATEMENT, Insert, insert_rows
from storage.sqlite.store import SqliteStore
from tests.factories import inbound


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


async def test_the_feeds_read_of_the_log_does_not_wait_behind_the_reader(tmp_path: Path) -> None:
    """After each change some 200 consoles' refetches queue on the reader's thread; the staff
    feed's read of the news has a connection of its own, so it is not queued behind them."""
    async with SqliteStore(tmp_path / "inbox.db") as store:
        await store.migrate()
        start = await store.feed_start()
        (stored,) = await store.save_inbound_batch([inbound("her")])
        running, release = threading.Event(), threading.Event()

        def hold(_db: sqlite3.Connection) -> bool:
            running.set()
            return release.wait(5)

        busy = asyncio.ensure_future(store._db.on_db_thread(hold, write=False))
        try:
            assert await asyncio.to_thread(running.wait, 2)
            async with asyncio.timeout(2):
                page = await store.feed_events(start)
            assert not busy.done()  # the reader was held all along
        finally:
            release.set()
            await busy
        assert [e.conversation_id for e in page.events] == [stored.conversation_id] * len(
            page.events
        )
        assert "message_received" in [e.kind for e in page.events]
