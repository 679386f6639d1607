"""SQLite only: opening a file that is not a database fails cleanly."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from inbox.errors import DatabaseUnavailable
from storage.sqlite import SqliteStore


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
