"""Attachment contents: written by the intake in the transaction of their message, read back
one at a time for the staff; the same on both stores."""

from __future__ import annotations

from collections.abc import Sequence

from inbox.core.errors import NotFound
from inbox.core.model import Attachment, MessageId
from storage import rows
from storage.intake_plan import AttachmentRow
from storage.sql import Database, Tx

INSERT_ATTACHMENT = """
INSERT INTO attachments (message_id, position, filename, content_type, size_bytes, content)
VALUES ($1, $2, $3, $4, $5, $6)
"""
GET_ATTACHMENT = """
SELECT filename, content_type, size_bytes, content FROM attachments
WHERE message_id = $1 AND position = $2
"""


async def insert_attachments(tx: Tx, found: Sequence[AttachmentRow]) -> None:
    """Inside the intake's transaction, after the messages they belong to. One row per
    statement (pipelined on PostgreSQL): one statement over a whole batch would put every
    content into one parameter, and a parameter cannot exceed 1 GB."""
    await tx.executemany(INSERT_ATTACHMENT, found)


class Attachments:
    """The stored contents of attachments, for both stores, over the store's Database."""

    _db: Database

    async def attachment(self, message_id: MessageId, position: int) -> tuple[Attachment, bytes]:
        row = None
        # Both come from a URL: a key beyond the columns' range names nothing, and must not
        # reach the driver, which fails on it.
        if rows.attachment_key_fits(message_id, position):
            row = await self._db.read(lambda tx: tx.fetchrow(GET_ATTACHMENT, message_id, position))
        if row is None:
            raise NotFound(f"message {message_id} has no stored attachment {position}")
        return rows.attachment(row)
