"""Canned replies of the program (one program per deployment), written once for both stores.
A new database starts with a few (storage.seeds, through migration 7)."""

from __future__ import annotations

from datetime import datetime

from inbox.core.errors import NotFound
from inbox.core.model import CannedReply, CannedReplyDraft, CannedReplyId, UserId
from storage import events, rows
from storage.sql import Database, Tx

COLUMNS = "id, title_ja, title_en, body_ja, body_en, position, updated_by, updated_at"
LIST = f"SELECT {COLUMNS} FROM canned_replies ORDER BY position, id"
GET = f"SELECT {COLUMNS} FROM canned_replies WHERE id = $1"
# A new one without a position goes last.
INSERT = f"""
INSERT INTO canned_replies (title_ja, title_en, body_ja, body_en, position, updated_by,
                            updated_at)
VALUES ($1, $2, $3, $4,
        coalesce(CAST($5 AS integer), (SELECT coalesce(max(position), 0) + 1 FROM canned_replies)),
        $6, $7)
RETURNING {COLUMNS}
"""
UPDATE = f"""
UPDATE canned_replies SET title_ja = $2, title_en = $3, body_ja = $4, body_en = $5,
    position = coalesce(CAST($6 AS integer), position), updated_by = $7, updated_at = $8
WHERE id = $1
RETURNING {COLUMNS}
"""
DELETE = "DELETE FROM canned_replies WHERE id = $1 RETURNING id"


def canned_reply(row: rows.Row, parse: rows.TimeParser) -> CannedReply:
    return CannedReply(
        id=CannedReplyId(row[0]),
        draft=CannedReplyDraft(
            title_ja=row[1], title_en=row[2], body_ja=row[3], body_en=row[4], position=row[5]
        ),
        updated_by=None if row[6] is None else UserId(row[6]),
        updated_at=parse(row[7]),
    )


def _missing(reply_id: int) -> NotFound:
    return NotFound(f"canned reply {reply_id} does not exist")


class CannedReplies:
    """The canned-reply operations, the same on both stores, over the store's Database."""

    _db: Database

    async def list_canned_replies(self) -> list[CannedReply]:
        found = await self._db.read(lambda tx: tx.fetch(LIST))
        return [canned_reply(r, self._db.parse_time) for r in found]

    async def get_canned_reply(self, reply_id: CannedReplyId) -> CannedReply:
        row = None
        if rows.id_fits(reply_id):
            row = await self._db.read(lambda tx: tx.fetchrow(GET, reply_id))
        if row is None:
            raise _missing(reply_id)
        return canned_reply(row, self._db.parse_time)

    async def create_canned_reply(
        self,
        draft: CannedReplyDraft,
        *,
        actor_id: UserId,
        now: datetime,
    ) -> CannedReply:
        d = draft

        async def op(tx: Tx) -> CannedReply:
            row = await tx.fetchrow(
                INSERT, d.title_ja, d.title_en, d.body_ja, d.body_en, d.position, actor_id, now
            )
            assert row is not None
            made = canned_reply(row, tx.parse_time)
            await events.record(
                tx, "canned_reply_created", now, actor_id=actor_id, data={"id": made.id}
            )
            return made

        return await self._db.write(op)

    async def update_canned_reply(
        self, reply_id: CannedReplyId, draft: CannedReplyDraft, *, actor_id: UserId, now: datetime
    ) -> CannedReply:
        d = draft

        async def op(tx: Tx) -> CannedReply:
            row = None
            if rows.id_fits(reply_id):
                row = await tx.fetchrow(
                    UPDATE,
                    reply_id,
                    d.title_ja,
                    d.title_en,
                    d.body_ja,
                    d.body_en,
                    d.position,
                    actor_id,
                    now,
                )
            if row is None:
                raise _missing(reply_id)
            await events.record(
                tx, "canned_reply_updated", now, actor_id=actor_id, data={"id": reply_id}
            )
            return canned_reply(row, tx.parse_time)

        return await self._db.write(op)

    async def delete_canned_reply(
        self, reply_id: CannedReplyId, *, actor_id: UserId, now: datetime
    ) -> None:
        async def op(tx: Tx) -> None:
            if not rows.id_fits(reply_id) or await tx.fetchval(DELETE, reply_id) is None:
                raise _missing(reply_id)
            await events.record(
                tx, "canned_reply_deleted", now, actor_id=actor_id, data={"id": reply_id}
            )

        await self._db.write(op)
