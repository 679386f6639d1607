"""Attachment contents on PostgreSQL: written by the intake (postgres_intake) in the transaction
of their message, read back one at a time by PostgresStore.attachment (mirrors
sqlite_attachments)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inbox.core.errors import NotFound
from inbox.core.model import Attachment, MessageId
from storage import rows
from storage.intake_plan import AttachmentRow
from storage.postgres.base import PostgresBase

# One row per execute, pipelined by executemany: a single unnest() over a whole batch would
# put every content into one parameter, and a parameter cannot exceed 1 GB.
INSERT_ATTACHMENT = """
INSERT INTO attachments (message_id, position, filename, content_type, size_bytes, content)
VALUES ($1, $2, $3, $4, $5, $6)
"""
GET_ATTACHMENT = """
SELECT filename, content_type, size_bytes, content FROM attachments
WHERE message_id = $1 AND position = $2
"""


async def insert_attachments(conn: Any, found: Sequence[AttachmentRow]) -> None:
    """Inside the intake's transaction, after the messages they belong to."""
    await conn.executemany(INSERT_ATTACHMENT, found)


class PostgresAttachments(PostgresBase):
    async def attachment(self, message_id: MessageId, position: int) -> tuple[Attachment, bytes]:
        row = None
        if rows.attachment_key_fits(message_id, position):
            row = await self._fetchrow(GET_ATTACHMENT, message_id, position)
        if row is None:
            raise NotFound(f"message {message_id} has no stored attachment {position}")
        return rows.attachment(row)
