"""The live tail of the event log on PostgreSQL: every event exactly once, in commit order.

Ids are taken before commit, so a writer may commit a smaller id after a larger one; the tail
reads by transaction visibility between snapshots instead (schema v5, events.tx).
"""

from __future__ import annotations

from storage import rows
from storage.base import FeedCursor, FeedPage
from storage.sql import Tx

# The live feed's tail (schema v5), as PgQ reads its queues: the news between two snapshots are
# the events whose transaction is visible in the newer one and was not in the older one. A
# transaction becomes visible in exactly one such step whenever it commits, whatever its ids.
# Not visible in `seen` means running then (its xip list) or begun since (from its xmax): two
# ranges of events_tx, each in (tx, id) order, and every xip one sorts before the others, so
# neither rereads what was handed out before, however old the oldest running transaction is.
# Paging keeps `upto` for the rest of the step. Snapshots and xid8 travel as text (no codec).
# $6, $7: the later of the cursor and (seen's xmax, 0), one row bound: beside a second bound on
# tx, PostgreSQL 15 starts the index scan at the row bound and walks the whole log up to the
# other (12 ms in 200,000 events instead of 0.1 ms).
FEED_START = "SELECT pg_current_snapshot()::text"
_FEED_COLUMNS = """id, at, kind, actor_id, conversation_id, message_id, data::text,
    tx::text::bigint AS tx_number"""
FEED_EVENTS = f"""
WITH s AS (
    SELECT $1::text::pg_snapshot AS seen,
           coalesce($2::text::pg_snapshot, pg_current_snapshot()) AS upto
)
SELECT e.id, e.at, e.kind, e.actor_id, e.conversation_id, e.message_id, e.data, e.tx_number,
       s.upto::text
FROM s LEFT JOIN LATERAL (
    (SELECT {_FEED_COLUMNS} FROM events
     WHERE tx = ANY(ARRAY(SELECT pg_snapshot_xip(s.seen))) AND (tx, id) > ($3::text::xid8, $4)
       AND pg_visible_in_snapshot(tx, s.upto)
     ORDER BY tx, id LIMIT $5)
    UNION ALL
    (SELECT {_FEED_COLUMNS} FROM events
     WHERE (tx, id) > ($6::text::xid8, $7) AND tx < pg_snapshot_xmax(s.upto)
       AND pg_visible_in_snapshot(tx, s.upto)
     ORDER BY tx, id LIMIT $5)
    ORDER BY tx_number, id LIMIT $5  -- in order even should the two run in parallel
) e ON true
"""


async def feed_start(tx: Tx) -> FeedCursor:
    return FeedCursor(seen=str(await tx.fetchval(FEED_START)))


async def feed_events(tx: Tx, after: FeedCursor, limit: int) -> FeedPage:
    since_xmax = max((after.tx, after.id), (_snapshot_xmax(after.seen), 0))
    found = await tx.fetch(
        FEED_EVENTS,
        after.seen,
        after.upto or None,
        str(after.tx),
        after.id,
        limit,
        str(since_xmax[0]),
        since_xmax[1],
    )
    events = [rows.event(r, tx.parse_time) for r in found if r[0] is not None]
    upto = found[0][8]
    if len(events) < limit:  # the step is read: its snapshot is what has been seen
        return FeedPage(events, FeedCursor(seen=upto))
    return FeedPage(
        events, FeedCursor(seen=after.seen, upto=upto, tx=found[-1][7], id=events[-1].id)
    )


def _snapshot_xmax(snapshot: str) -> int:
    """The xmax of a pg_snapshot's text, xmin:xmax:xip,...: every later transaction is news."""
    return int(snapshot.split(":")[1])
