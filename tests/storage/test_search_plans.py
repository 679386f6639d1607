"""Text search uses its index on each database, over a desk of a few thousand messages from the
search bench's generator: SQLite's FTS5 hands out rowids newest first (no sort), and PostgreSQL's
pg_trgm index serves a rare word and extracts trigrams from Japanese under the test server's
C.UTF-8 ctype."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from inbox.core.context import SearchQuery
from inbox.tools.bench_search import Desk, build_postgres, build_sqlite
from storage.context import search_statements
from storage.postgres.store import PostgresStore
from storage.sqlite.database import sqlite_text, values
from storage.sqlite.store import SqliteStore
from tests.factories import at, new_user

RARE = "旭川の窓口"  # in one message of bench_search.RARE_EVERY


async def _desk(store: SqliteStore | PostgresStore) -> Desk:
    for k in range(3):
        await store.create_user(new_user(f"c{k}"), now=at(0))
    desk = Desk(2000, 20000, [u.id for u in await store.list_users()], 800)
    if isinstance(store, SqliteStore):
        await build_sqlite(store, desk)
    else:
        await build_postgres(store, desk)
    return desk


async def test_sqlite_reads_the_index_newest_first_without_sorting(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "plan.db") as store:
        await store.migrate()
        await _desk(store)
        statements, _ = search_statements(SearchQuery(text="眠れない"), "sqlite")
        tail, indexed = statements
        assert "messages_fts MATCH" in indexed[0] and "messages_fts" not in tail[0]

        rows = await store.database.on_db_thread(
            lambda db: db.execute(
                "EXPLAIN QUERY PLAN " + sqlite_text(indexed[0]), values(indexed[1])
            ).fetchall(),
            write=False,
        )
        steps = [str(r[3]) for r in rows]
        assert any(s.startswith("SCAN f VIRTUAL TABLE INDEX") for s in steps), steps
        assert not any("TEMP B-TREE" in s for s in steps), steps  # no sort of every hit
        page = await store.search(SearchQuery(text=RARE))
        assert page.hits and all(RARE in (h.snippet or "") for h in page.hits)


@pytest.mark.postgres
async def test_postgres_uses_the_trigram_index_for_a_rare_word(db_url: str) -> None:
    async with PostgresStore(db_url) as store:
        await _desk(store)
        (statement,), _ = search_statements(SearchQuery(text=RARE), "postgres")
        conn = await asyncpg.connect(db_url)
        try:
            assert await conn.fetchval("SELECT cardinality(show_trgm('死にたい'))") == 5
            plan = "\n".join(
                r[0] for r in await conn.fetch("EXPLAIN " + statement[0], *statement[1])
            )
        finally:
            await conn.close()
        assert "messages_body_trgm" in plan, plan
        page = await store.search(SearchQuery(text=RARE))
        assert page.hits and all(RARE in (h.snippet or "") for h in page.hits)
