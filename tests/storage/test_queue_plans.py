"""The queue's list keeps schema 17's indexes: over a desk of 3,000 open conversations (the
board bench's: every counselor full, the rest waiting), a supervisor's and a counselor's lists
are read in the queue's order from an index and stop at the limit, never a scan and sort of
every open conversation."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from inbox.tools.bench_board_desk import seed_desk
from storage import desk
from storage.postgres.store import PostgresStore
from storage.sqlite.database import sqlite_text
from storage.sqlite.store import SqliteStore

# A tenth of them assigned, a counselor's each, as the router leaves them.
ASSIGN_SOME = """
UPDATE conversations SET status = 'assigned', assignee_id = (SELECT min(id) FROM users),
                         priority = id % 3
WHERE id % 10 = 1
"""
OPEN = ["queued", "assigned", "waiting"]


@pytest.mark.postgres
async def test_postgres_reads_the_queue_in_order_from_its_indexes(db_url: str) -> None:
    async with PostgresStore(db_url) as store:
        await seed_desk(store, counselors=1, supervisors=0, capacity=1, waiting=2999)
        conn = await asyncpg.connect(db_url)
        try:
            await conn.execute(ASSIGN_SOME)
            await conn.execute("ANALYZE conversations")
            me = await conn.fetchval("SELECT min(id) FROM users")
            plans = {}
            for name, sql, args in [
                ("everyone", desk.QUEUE_EVERYONE.postgres, (OPEN, 200)),
                ("counselor", desk.QUEUE_VISIBLE_TO.postgres, (OPEN, me, 200)),
            ]:
                rows = await conn.fetch("EXPLAIN " + sql, *args)
                plans[name] = "\n".join(r[0] for r in rows)
        finally:
            await conn.close()
    assert "conversations_open_order" in plans["everyone"], plans
    assert "conversations_assignee_order" in plans["counselor"], plans
    assert "conversations_unassigned_order" in plans["counselor"], plans
    for plan in plans.values():  # no sort of every open row (a Merge Append merges, in order)
        assert "Seq Scan" not in plan and not re.search(r"\bSort\s+\(", plan), plan


async def test_sqlite_reads_the_queue_in_order_from_its_indexes(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "plan.db") as store:
        await store.migrate()
        await seed_desk(store, counselors=1, supervisors=0, capacity=1, waiting=2999)
        await store.db.executescript(ASSIGN_SOME + ";\nANALYZE;")
        await store.db.commit()
        for sql, args in [
            (desk.QUEUE_EVERYONE.sqlite, ('["queued","assigned","waiting"]', 200)),
            (desk.QUEUE_VISIBLE_TO.sqlite, ('["queued","assigned","waiting"]', 1, 200)),
        ]:

            def plan(db: sqlite3.Connection, sql: str = sql, args: Any = args) -> list[Any]:
                return db.execute("EXPLAIN QUERY PLAN " + sqlite_text(sql), args).fetchall()

            rows = await store.database.on_db_thread(plan, write=False)
            steps = [str(r[3]) for r in rows]
            # conversations only through an index, in the queue's order; a sort only of a part
            # already cut at the limit (a counselor's two parts, merged)
            assert all("USING INDEX" in s for s in steps if "conversations" in s), steps
            assert any("_order" in s for s in steps), steps
            for i, step in enumerate(steps):
                if "TEMP B-TREE" in step:
                    assert steps[i - 1] in ("SCAN hers", "SCAN unassigned"), steps
