"""Presence that tells the truth: the PresenceStore operations, written once.

Each instance holds a lease on users.connected_until for every staff member with a socket open
on it, and extends it while the socket stays (inbox.presence). When her last socket anywhere
closes, nobody extends it: once it has run out, `away_disconnected` sets an available counselor
away and marks that the disconnect did it (presence_auto), so that `staff_connected` can make
her available again when she is back, while an away she chose herself stays. Both write a
counselor_updated event with the reason, which wakes the routers of every instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox.core.model import UserId
from storage import events
from storage.events import EventRow
from storage.sql import Database, Dialects, Tx

LOCK_PRESENCE = Dialects(
    postgres="SELECT presence, presence_auto FROM users WHERE id = $1 FOR NO KEY UPDATE",
    sqlite="SELECT presence, presence_auto FROM users WHERE id = $1",
)
LEASE = "UPDATE users SET connected_until = $2 WHERE id = $1"
RESTORE = "UPDATE users SET presence = 'available', presence_auto = $2 WHERE id = $1"
SEEN = Dialects(
    postgres="UPDATE users SET connected_until = $2 WHERE id = ANY($1::bigint[])",
    sqlite="UPDATE users SET connected_until = $2 WHERE id IN (SELECT value FROM json_each($1))",
)
# Only leases that ran out: NULL is someone who never had a socket (an API client, a counselor
# whose presence a supervisor keeps), about whom a socket says nothing.
AWAY_DISCONNECTED = """
UPDATE users SET presence = 'away', presence_auto = $2
WHERE (is_counselor OR is_phone_staff) AND NOT disabled AND presence = 'available'
  AND connected_until IS NOT NULL AND connected_until < $1
RETURNING id
"""
RECONNECTED = "reconnected"
DISCONNECTED = "disconnected"


def presence_event(user_id: int, reason: str, now: datetime) -> EventRow:
    data = events.data_json({"user_id": user_id, "fields": ["presence"], "reason": reason})
    return EventRow(now, "counselor_updated", data=data)


class Presences:
    """The PresenceStore operations of both stores, over `_db`."""

    _db: Database

    async def staff_connected(self, user_id: UserId, *, now: datetime, until: datetime) -> bool:
        """Her socket opened: hold her lease until `until`; if the disconnect had set her away,
        make her available again (True, with a counselor_updated event). Unknown ids: False."""

        async def op(tx: Tx) -> bool:
            row = await tx.fetchrow(LOCK_PRESENCE, user_id)
            if row is None:
                return False
            await tx.execute(LEASE, user_id, until)
            if row[0] != "away" or not row[1]:
                return False  # her own choice, whatever it is, stays
            await tx.execute(RESTORE, user_id, False)
            await events.record_many(tx, [presence_event(user_id, RECONNECTED, now)])
            return True

        return await self._db.write(op)

    async def staff_seen(self, user_ids: Sequence[UserId], *, until: datetime) -> None:
        """Extend the leases of these staff members (their sockets are open here) to `until`."""
        if user_ids:
            ids = sorted(user_ids)
            await self._db.write(lambda tx: tx.execute(SEEN, ids, until))

    async def away_disconnected(self, *, now: datetime) -> list[UserId]:
        """Set away every available counselor whose lease ran out before `now`, marked as set
        by the disconnect; a counselor_updated event each. Returns them."""

        async def op(tx: Tx) -> list[UserId]:
            found = sorted(UserId(int(r[0])) for r in await tx.fetch(AWAY_DISCONNECTED, now, True))
            await events.record_many(tx, [presence_event(u, DISCONNECTED, now) for u in found])
            return found

        return await self._db.write(op)
