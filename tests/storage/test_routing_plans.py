"""The router's queue read keeps its indexes on PostgreSQL with continuity on one side (phone or
not): over a desk of thousands of conversations (the search bench's generator), each queued
conversation's previous helper is found by conversations_contact, never by a scan of every
conversation."""

from __future__ import annotations

import asyncpg
import pytest

from storage.postgres import routing
from storage.postgres.store import PostgresStore
from tests.storage.test_search_plans import _desk

QUEUE_SOME = """
UPDATE conversations SET channel = 'phone' WHERE id % 3 = 0;
INSERT INTO conversations (id, contact_id, identity_id, channel, status, created_at, updated_at,
                           queued_at)
SELECT (SELECT max(id) FROM conversations) + row_number() OVER (ORDER BY i.id), i.contact_id,
       i.id, CASE WHEN i.id % 4 = 0 THEN 'phone' ELSE i.channel END, 'queued', now(), now(), now()
FROM channel_identities i
WHERE NOT EXISTS (SELECT 1 FROM conversations o WHERE o.identity_id = i.id AND o.status <> 'closed')
ORDER BY i.id LIMIT 400;
"""


@pytest.mark.postgres
async def test_postgres_finds_the_previous_helper_by_the_contact_index(db_url: str) -> None:
    async with PostgresStore(db_url) as store:
        await _desk(store)
        conn = await asyncpg.connect(db_url)
        try:
            # a third of her past conversations were calls; a few hundred of the contacts
            # are back, queued (on the phone too), each on an identity with nothing open
            await conn.execute(QUEUE_SOME)
            await conn.execute("ANALYZE conversations")
            counts = dict(
                await conn.fetch("SELECT status, count(*) FROM conversations GROUP BY status")
            )
            plan = "\n".join(
                r[0] for r in await conn.fetch("EXPLAIN " + routing.WAITING, routing.ROUTING_PAGE)
            )
            returning = [3, 14, 159, 265, 358]  # a batch's returning contacts
            helpers = "\n".join(
                r[0] for r in await conn.fetch("EXPLAIN " + routing.PREVIOUS_HELPERS, returning)
            )
        finally:
            await conn.close()
        assert counts["queued"] >= 300, counts
        assert "conversations_contact" in plan, plan
        assert "Seq Scan on conversations x" not in plan, plan
        # routing at intake: the returning contacts' helpers, on each side
        assert "conversations_contact" in helpers, helpers
        assert "Seq Scan on conversations" not in helpers, helpers
