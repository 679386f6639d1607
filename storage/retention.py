"""The retention rule for bodies, written once for both stores: the messages of conversations
closed before a cutoff, written before it, lose their body (set to '') and the list and contents
of their attachments, and their e-mail thread its subject; messages.purged_at says when. The row
stays, and with it everything the grant report counts (storage.report counts no body), so a
report after a purge equals the one before.

A batch at a time, each in its own transaction with its bodies_purged event (the messages
purged, the cutoff; never a body), walking the messages' ids upwards once: a purge that stops
half-way (a restart) keeps what it did, and the next run takes the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from storage import events
from storage.sql import Database, Tx

BODIES_PURGED = "bodies_purged"
# The purgeable messages: hers or ours, of a conversation closed before the cutoff ($2), written
# before it, not purged yet; the next batch after id $1, the last id of which bounds the update.
_PURGEABLE = """
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE m.id > $1 AND m.purged_at IS NULL AND m.created_at < $2
  AND c.status = 'closed' AND c.closed_at < $2
"""
NEXT_BATCH = f"""
SELECT max(id), count(*) FROM (SELECT m.id {_PURGEABLE} ORDER BY m.id LIMIT $3) b
"""
PURGE = """
UPDATE messages SET body = '', attachments = '[]', purged_at = $4
WHERE id > $1 AND id <= $3 AND purged_at IS NULL AND created_at < $2
  AND conversation_id IN (SELECT id FROM conversations WHERE status = 'closed' AND closed_at < $2)
"""
DROP_CONTENTS = """
DELETE FROM attachments WHERE message_id IN (
    SELECT id FROM messages WHERE id > $1 AND id <= $2 AND purged_at = $3
)
"""

# An e-mail's subject is her words too (often what the consultation is about): it goes with the
# bodies of its conversation.
CLEAR_SUBJECTS = """
UPDATE mail_threads SET subject = '' WHERE subject <> '' AND conversation_id IN (
    SELECT conversation_id FROM messages WHERE id > $1 AND id <= $2 AND purged_at = $3
)
"""

Progress = Callable[[int], None]


async def purge_batch(
    tx: Tx, after_id: int, before: datetime, now: datetime, limit: int
) -> tuple[int, int] | None:
    """Purge the next batch after `after_id`: (its last id, messages purged), None when none is
    left."""
    row = await tx.fetchrow(NEXT_BATCH, after_id, before, limit)
    if row is None or row[0] is None:
        return None
    last, count = int(row[0]), int(row[1])
    await tx.execute(PURGE, after_id, before, last, now)
    await tx.execute(DROP_CONTENTS, after_id, last, now)
    await tx.execute(CLEAR_SUBJECTS, after_id, last, now)
    await events.record(
        tx, BODIES_PURGED, now, data={"before": before.isoformat(), "messages": count}
    )
    return last, count


class Retention:
    """The RetentionStore operations of both stores, over the store's Database."""

    _db: Database

    async def purge_bodies(
        self,
        *,
        before: datetime,
        now: datetime,
        batch: int = 5000,
        progress: Progress | None = None,
    ) -> int:
        after, total = 0, 0
        while True:

            async def op(tx: Tx, after: int = after) -> tuple[int, int] | None:
                return await purge_batch(tx, after, before, now, batch)

            done = await self._db.write(op)
            if done is None:
                return total
            after, total = done[0], total + done[1]
            if progress is not None:
                progress(total)
