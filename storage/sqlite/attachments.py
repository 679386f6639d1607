"""Attachment contents on SQLite: written by the intake (sqlite_intake) in the transaction of
their message, read back one at a time by SqliteStore.attachment."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from inbox.core.errors import NotFound
from inbox.core.model import Attachment, MessageId
from storage import rows
from storage.intake_plan import AttachmentRow
from storage.sqlite.base import SqliteBase

INSERT_ATTACHMENTS = """
INSERT INTO attachments (message_id, position, filename, content_type, size_bytes, content)
VALUES (?, ?, ?, ?, ?, ?)
"""
GET_ATTACHMENT = """
SELECT filename, content_type, size_bytes, content FROM attachments
WHERE message_id = ? AND position = ?
"""


def insert_attachments(db: sqlite3.Connection, found: Sequence[AttachmentRow]) -> None:
    """Inside the intake's write transaction, after the messages they belong to."""
    db.executemany(INSERT_ATTACHMENTS, found)


class SqliteAttachments(SqliteBase):
    async def attachment(self, message_id: MessageId, position: int) -> tuple[Attachment, bytes]:
        found = []
        if rows.attachment_key_fits(message_id, position):
            found = await self._all(GET_ATTACHMENT, (message_id, position))
        if not found:
            raise NotFound(f"message {message_id} has no stored attachment {position}")
        return rows.attachment(found[0])
