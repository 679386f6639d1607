"""A follow-up's row (storage.follow_ups), and the due follow-ups whose tasks are some
conversations: read with the queue's rows in the same read (storage.desk queue_part), which
is why it is not in storage.follow_ups (that module builds on storage.desk)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from inbox.core.follow_ups import FollowUp, FollowUpStatus
from inbox.core.model import ChannelKind, ContactId, ConversationId, UserId
from storage import rows
from storage.sql import Dialects, Tx

COLUMNS = """
f.id, f.contact_id, f.identity_id, i.channel, f.from_conversation_id, f.counselor_id, f.due_on,
f.note, f.status, f.conversation_id, f.created_by, f.created_at, f.resolved_at, f.resolved_by
"""
FROM = "FROM follow_ups f JOIN channel_identities i ON i.id = f.identity_id"
_TASKS = f"""
SELECT {COLUMNS} {FROM} WHERE f.conversation_id {{ids}} AND f.status = 'due' ORDER BY f.id
"""
TASKS = Dialects(
    postgres=_TASKS.format(ids="= ANY($1::bigint[])"),
    sqlite=_TASKS.format(ids="IN (SELECT value FROM json_each($1))"),
)


def follow_up(row: rows.Row, parse: rows.TimeParser) -> FollowUp:
    """Columns: COLUMNS."""
    return FollowUp(
        id=int(row[0]),
        contact_id=ContactId(row[1]),
        identity_id=int(row[2]),
        channel=ChannelKind(row[3]),
        from_conversation_id=None if row[4] is None else ConversationId(row[4]),
        counselor_id=None if row[5] is None else UserId(row[5]),
        due_on=date.fromisoformat(row[6]),
        note=row[7],
        status=FollowUpStatus(row[8]),
        conversation_id=None if row[9] is None else ConversationId(row[9]),
        created_by=None if row[10] is None else UserId(row[10]),
        created_at=parse(row[11]),
        resolved_at=None if row[12] is None else parse(row[12]),
        resolved_by=None if row[13] is None else UserId(row[13]),
    )


async def due_tasks(tx: Tx, conversation_ids: Sequence[int]) -> dict[ConversationId, FollowUp]:
    """The due follow-ups whose task is one of these conversations, by conversation."""
    if not conversation_ids:
        return {}
    found = (follow_up(r, tx.parse_time) for r in await tx.fetch(TASKS, list(conversation_ids)))
    return {f.conversation_id: f for f in found if f.conversation_id is not None}
