"""The desk: conversations and their messages as the staff read and change them, written once
(attachment contents: storage.attachments)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from inbox.core.decisions import takes_channel
from inbox.core.errors import Conflict, NotFound, ReplyCollision
from inbox.core.follow_ups import FollowUp
from inbox.core.model import (
    ChannelKind,
    Conversation,
    ConversationId,
    ConversationStatus,
    Message,
    MessageId,
    QueueOrder,
    UserId,
)
from storage import events, rows
from storage.follow_up_rows import due_tasks
from storage.sql import Database, Dialects, Tx

CONVERSATION_COLUMNS = """
id, contact_id, channel, status, priority, assignee_id, tags, created_at, updated_at,
last_inbound_at, first_response_due, next_response_due, skill, team, offered_at, opened_at,
closed_at, outcome, outcome_note, consulter_read_message_id
"""
MESSAGE_COLUMNS = """
id, conversation_id, direction, body, author_id, external_id, created_at, delivery_status,
attachments
"""
GET_CONVERSATION = f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"
# The row a change starts from, locked on PostgreSQL until commit so that a reply, an
# assignment and a close of one conversation take turns; SQLite's writer is alone anyway.
LOCK_CONVERSATION = Dialects(postgres=f"{GET_CONVERSATION} FOR UPDATE", sqlite=GET_CONVERSATION)
# CAST: PostgreSQL must know a parameter's type, and `$2 IS NULL` alone does not say it.
_LIST_CONVERSATIONS = f"""
SELECT {CONVERSATION_COLUMNS} FROM conversations
WHERE status {{statuses}}
  AND (CAST($2 AS bigint) IS NULL OR assignee_id = $2
       OR (assignee_id IS NULL AND status = 'queued'))
  AND ({{channels}})
ORDER BY priority DESC, queued_at, id LIMIT $4
"""
LIST_CONVERSATIONS = Dialects(
    postgres=_LIST_CONVERSATIONS.format(
        statuses="= ANY($1::text[])",
        channels="$3::text[] IS NULL OR channel = ANY($3::text[])",
    ),
    sqlite=_LIST_CONVERSATIONS.format(
        statuses="IN (SELECT value FROM json_each($1))",
        channels="$3 IS NULL OR channel IN (SELECT value FROM json_each($3))",
    ),
)
# The queue's three usual shapes, open conversations only, each as the indexes of schema v17
# serve it: in the queue's order from an index, stopping at the limit, where the query above (a
# parameter for each optional part, planned once for all of them) scans and sorts every open
# row. `status <> 'closed'` repeats what the statuses say so that the planner may use the
# partial indexes (it cannot see into a parameter). A counselor's list is two ordered parts that
# never overlap: hers (by assignee) and the unassigned queued ones. Columns: then queued_at.
_OPEN = "status <> 'closed' AND status {statuses}"
_ORDER = "ORDER BY priority DESC, queued_at, id"
_QUEUE_EVERYONE = f"SELECT {CONVERSATION_COLUMNS}, queued_at FROM conversations WHERE {_OPEN}"
_QUEUE_CHANNELS = f"{_QUEUE_EVERYONE} AND channel {{channels}} {_ORDER} LIMIT $3"
_QUEUE_VISIBLE_TO = f"""
SELECT * FROM ({_QUEUE_EVERYONE} AND assignee_id = $2 {_ORDER} LIMIT $3) AS hers
UNION ALL
SELECT * FROM (SELECT {CONVERSATION_COLUMNS}, queued_at FROM conversations
               WHERE status = 'queued' AND assignee_id IS NULL AND 'queued' {{statuses}}
               {_ORDER} LIMIT $3) AS unassigned
{_ORDER} LIMIT $3
"""
# The two parts of a counselor's list apart (the web layer keeps the unassigned part once for
# every counselor's page, and merges each one's own into it: inbox.web.queue_page).
_QUEUE_UNASSIGNED = f"""
SELECT {CONVERSATION_COLUMNS}, queued_at FROM conversations
WHERE status = 'queued' AND assignee_id IS NULL AND 'queued' {{statuses}} {_ORDER} LIMIT $2
"""
_QUEUE_HERS = f"{_QUEUE_EVERYONE} AND assignee_id = $2 {_ORDER} LIMIT $3"
_PG = {"statuses": "= ANY($1::text[])", "channels": "= ANY($2::text[])"}
_LITE = {
    "statuses": "IN (SELECT value FROM json_each($1))",
    "channels": "IN (SELECT value FROM json_each($2))",
}
QUEUE_EVERYONE = Dialects(
    postgres=f"{_QUEUE_EVERYONE} {_ORDER} LIMIT $2".format(**_PG),
    sqlite=f"{_QUEUE_EVERYONE} {_ORDER} LIMIT $2".format(**_LITE),
)
QUEUE_VISIBLE_TO = Dialects(
    postgres=_QUEUE_VISIBLE_TO.format(**_PG), sqlite=_QUEUE_VISIBLE_TO.format(**_LITE)
)
QUEUE_CHANNELS = Dialects(
    postgres=_QUEUE_CHANNELS.format(**_PG), sqlite=_QUEUE_CHANNELS.format(**_LITE)
)
QUEUE_UNASSIGNED = Dialects(
    postgres=_QUEUE_UNASSIGNED.format(**_PG), sqlite=_QUEUE_UNASSIGNED.format(**_LITE)
)
QUEUE_HERS = Dialects(postgres=_QUEUE_HERS.format(**_PG), sqlite=_QUEUE_HERS.format(**_LITE))
# With each failed reply, why (the outbox's last error; a status callback's error code when
# Twilio reported it undelivered), for the counselor: outbox.message_id is unique (indexed).
LIST_MESSAGES = f"""
SELECT {MESSAGE_COLUMNS},
       CASE WHEN delivery_status = 'failed' THEN (
           SELECT coalesce(o.last_error, 'twilio ' || o.provider_error)
           FROM outbox o WHERE o.message_id = messages.id)
       END
FROM messages
WHERE conversation_id = $1 AND ($2 OR direction <> 'note')
ORDER BY id LIMIT $3
"""
GET_MESSAGE = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1"
INSERT_REPLY = f"""
INSERT INTO messages (conversation_id, direction, channel, body, author_id, delivery_status,
                      created_at)
VALUES ($1, 'outbound', $2, $3, $4, 'pending', $5)
RETURNING {MESSAGE_COLUMNS}
"""
INSERT_OUTBOX = """
INSERT INTO outbox (message_id, status, due_at, created_at, updated_at)
VALUES ($1, 'pending', $2, $2, $2)
"""
# A person answered: the consulter no longer waits, so no deadline runs until she writes again.
# opened_at too: answering is the surest sign the counselor took the offer.
REPLIED = """
UPDATE conversations SET status = 'waiting', updated_at = $2, awaiting_since = NULL,
    first_reply_at = coalesce(first_reply_at, $2), first_response_due = NULL,
    next_response_due = NULL, warned_at = NULL, escalated_at = NULL,
    opened_at = coalesce(opened_at, $2)
WHERE id = $1
"""
# Staff whose replies went out after the last message a composer saw (no double replies):
# auto-replies (no author) and her own earlier replies do not count.
REPLIED_SINCE = """
SELECT u.display_name FROM messages m JOIN users u ON u.id = m.author_id
WHERE m.conversation_id = $1 AND m.id > $2 AND m.direction = 'outbound' AND m.author_id <> $3
GROUP BY u.id, u.display_name ORDER BY min(m.id)
"""
# Her latest conversation on a channel (the one her chat shows) and, in it, the latest
# outbound message up to the one her page showed.
READ_UP_TO = """
SELECT c.id, c.consulter_read_message_id,
       (SELECT max(m.id) FROM messages m
        WHERE m.conversation_id = c.id AND m.direction = 'outbound' AND m.id <= $3)
FROM channel_identities i JOIN conversations c ON c.contact_id = i.contact_id
WHERE i.channel = $1 AND i.identity_hash = $2 AND c.identity_id = i.id
ORDER BY c.id DESC LIMIT 1
"""
SET_READ = "UPDATE conversations SET consulter_read_message_id = $2 WHERE id = $1"
# A note may go on a closed conversation too; no row when the conversation does not exist.
INSERT_NOTE = f"""
INSERT INTO messages (conversation_id, direction, channel, body, author_id, delivery_status,
                      created_at)
SELECT id, 'note', channel, $2, $3, 'none', $4 FROM conversations WHERE id = $1
RETURNING {MESSAGE_COLUMNS}
"""
# Taken before the conversation, in the order apply_assignments takes its locks, so that a
# supervisor and a router queue behind each other instead of deadlocking. NO KEY: the
# foreign-key checks of her replies take KEY SHARE on the same row and need not wait.
# Her roles: a phone conversation goes only to phone staff, any other only to counselors.
_ENABLED_COUNSELOR = """
SELECT is_counselor, is_phone_staff FROM users
WHERE id = $1 AND (is_counselor OR is_phone_staff) AND NOT disabled
"""
LOCK_COUNSELOR = Dialects(
    postgres=f"{_ENABLED_COUNSELOR} FOR NO KEY UPDATE", sqlite=_ENABLED_COUNSELOR
)
LOAD_OF = """
SELECT count(*) FROM conversations WHERE assignee_id = $1 AND status IN ('assigned', 'waiting')
"""
# A person chose this assignment, so it is not an offer that can lapse: opened at once.
ASSIGN = f"""
UPDATE conversations SET assignee_id = $2, updated_at = $3, offered_at = $3, opened_at = $3,
    status = CASE WHEN status = 'queued' THEN 'assigned' ELSE status END
WHERE id = $1
RETURNING {CONVERSATION_COLUMNS}
"""
CLOSE = f"""
UPDATE conversations SET status = 'closed', closed_at = $2, updated_at = $2, outcome = $3,
    outcome_note = $4
WHERE id = $1
RETURNING {CONVERSATION_COLUMNS}
"""
# Only the tags column: a conversation closed meanwhile keeps its status, tags may be set on
# it still (a case is often tagged after it ends).
SET_TAGS = f"""
UPDATE conversations SET tags = $2, updated_at = $3 WHERE id = $1
RETURNING {CONVERSATION_COLUMNS}
"""
LOAD_BY_CHANNEL = """
SELECT channel, count(*) FROM conversations
WHERE assignee_id = $1 AND status IN ('assigned', 'waiting')
GROUP BY channel ORDER BY channel
"""
CONSULTER_HISTORY = f"""
SELECT {MESSAGE_COLUMNS} FROM messages WHERE direction <> 'note' AND conversation_id IN (
    -- every conversation of hers at this address, closed ones too: after a close her next
    -- message opens a new one, and her chat goes on showing what came before it; by
    -- contact_id, so that conversations_contact (contact_id, id) finds them without a scan
    SELECT c.id FROM channel_identities i JOIN conversations c ON c.contact_id = i.contact_id
    WHERE i.channel = $1 AND i.identity_hash = $2 AND c.identity_id = i.id)
  AND (CAST($4 AS bigint) IS NULL OR id < $4)
ORDER BY id DESC LIMIT $3
"""


async def get_conversation(tx: Tx, conversation_id: ConversationId) -> Conversation:
    row = await tx.fetchrow(GET_CONVERSATION, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return rows.conversation(row, tx.parse_time)


async def lock_open_conversation(tx: Tx, conversation_id: ConversationId) -> Conversation:
    row = await tx.fetchrow(LOCK_CONVERSATION, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    conv = rows.conversation(row, tx.parse_time)
    if conv.status is ConversationStatus.CLOSED:
        raise Conflict(f"conversation {conversation_id} is closed")
    return conv


def _wrong_desk(conv: Conversation, user_id: UserId, *, counselor: bool, phone: bool) -> str | None:
    """Why she may not take this conversation (its channel is not hers), or None if she may."""
    if takes_channel(conv.channel, counselor=counselor, phone_staff=phone):
        return None
    if conv.channel is ChannelKind.PHONE:
        return f"user {user_id} is not phone staff: callbacks (phone) go only to phone staff"
    return f"user {user_id} is not a counselor: {conv.channel} conversations go only to counselors"


class Desk:
    """The desk's Store operations, the same on both stores, over the store's Database."""

    _db: Database
    # The queue's rows made into Conversations once per content (every console lists them).
    _listed: rows.ConversationRows | None = None

    async def get_conversation(self, conversation_id: ConversationId) -> Conversation:
        return await self._db.read(lambda tx: get_conversation(tx, conversation_id))

    async def list_conversations(
        self,
        *,
        statuses: Collection[ConversationStatus],
        visible_to: UserId | None = None,
        channels: Collection[ChannelKind] | None = None,
        limit: int = 200,
    ) -> list[Conversation]:
        wanted = [str(s) for s in statuses]
        kinds = None if channels is None else [str(c) for c in channels]
        query: tuple[Any, ...] = (LIST_CONVERSATIONS, wanted, visible_to, kinds, limit)
        if ConversationStatus.CLOSED not in statuses:  # the queue: in its order, by index
            if visible_to is None and kinds is None:
                query = (QUEUE_EVERYONE, wanted, limit)
            elif kinds is None:
                query = (QUEUE_VISIBLE_TO, wanted, visible_to, limit)
            elif visible_to is None:
                query = (QUEUE_CHANNELS, wanted, kinds, limit)
        found = await self._db.read(lambda tx: tx.fetch(*query))
        return [self._conversation(r) for r in found]

    async def queue_part(
        self,
        *,
        statuses: Collection[ConversationStatus],
        assignee: UserId | None,
        limit: int = 200,
    ) -> tuple[list[tuple[QueueOrder, Conversation]], dict[ConversationId, FollowUp]]:
        wanted = [str(s) for s in statuses if s is not ConversationStatus.CLOSED]
        if assignee is None:
            query: tuple[Any, ...] = (QUEUE_UNASSIGNED, wanted, limit)
        else:
            query = (QUEUE_HERS, wanted, assignee, limit)

        async def op(tx: Tx) -> tuple[list[rows.Row], dict[ConversationId, FollowUp]]:
            # one read for both: 200 consoles ask after each change, and each hand-off to the
            # database's thread waits behind all of theirs
            found = await tx.fetch(*query)
            return found, await due_tasks(tx, [r[0] for r in found])

        found, tasks = await self._db.read(op)
        parse = self._db.parse_time
        listed = [(self._conversation(r), r[-1]) for r in found]  # then queued_at
        return [((-c.priority, parse(queued_at), c.id), c) for c, queued_at in listed], tasks

    def _conversation(self, row: Any) -> Conversation:
        if self._listed is None:  # made at the first list: the stores' own __init__ set _db
            self._listed = rows.ConversationRows(self._db.parse_time)
        return self._listed(row)

    async def list_messages(
        self, conversation_id: ConversationId, *, include_notes: bool = True, limit: int = 500
    ) -> list[Message]:
        async def op(tx: Tx) -> list[Message]:
            await get_conversation(tx, conversation_id)
            found = await tx.fetch(LIST_MESSAGES, conversation_id, include_notes, limit)
            return [rows.message(r, tx.parse_time) for r in found]

        return await self._db.read(op)

    async def get_message(self, message_id: MessageId) -> Message:
        row = None
        if rows.id_fits(message_id):  # an id from a URL may exceed the column
            row = await self._db.read(lambda tx: tx.fetchrow(GET_MESSAGE, message_id))
        if row is None:
            raise NotFound(f"message {message_id} does not exist")
        return rows.message(row, self._db.parse_time)

    async def add_reply(
        self,
        conversation_id: ConversationId,
        *,
        author_id: UserId,
        body: str,
        now: datetime,
        seen_up_to: MessageId | None = None,
    ) -> Message:
        async def op(tx: Tx) -> Message:
            conv = await lock_open_conversation(tx, conversation_id)
            if seen_up_to is not None:
                # under the conversation's lock: of two replies at once, the second sees the first
                found = await tx.fetch(REPLIED_SINCE, conv.id, seen_up_to, author_id)
                if found:
                    raise ReplyCollision(tuple(r[0] for r in found))
            row = await tx.fetchrow(INSERT_REPLY, conv.id, conv.channel, body, author_id, now)
            assert row is not None
            reply = rows.message(row, tx.parse_time)
            await tx.execute(INSERT_OUTBOX, reply.id, now)
            await tx.execute(REPLIED, conv.id, now)
            await events.record(
                tx,
                "reply_queued",
                now,
                actor_id=author_id,
                conversation_id=conv.id,
                message_id=reply.id,
            )
            return reply

        return await self._db.write(op)

    async def add_note(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        async def op(tx: Tx) -> Message:
            row = await tx.fetchrow(INSERT_NOTE, conversation_id, body, author_id, now)
            if row is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            note = rows.message(row, tx.parse_time)
            await events.record(
                tx,
                "note_added",
                now,
                actor_id=author_id,
                conversation_id=note.conversation_id,
                message_id=note.id,
            )
            return note

        return await self._db.write(op)

    async def assign(
        self,
        conversation_id: ConversationId,
        user_id: UserId,
        *,
        actor_id: UserId,
        now: datetime,
        capacity: int | None,
        on_call: bool = False,
        unclaimed: bool = False,
    ) -> Conversation:
        async def op(tx: Tx) -> Conversation:
            roles = await tx.fetchrow(LOCK_COUNSELOR, user_id)
            conv = await lock_open_conversation(tx, conversation_id)
            if roles is None:
                raise Conflict(f"user {user_id} is not an enabled counselor or phone staff")
            if unclaimed and conv.assignee_id not in (None, user_id):
                raise Conflict(f"conversation {conv.id} is another staff member's")
            refused = _wrong_desk(conv, user_id, counselor=bool(roles[0]), phone=bool(roles[1]))
            if refused is not None:
                raise Conflict(refused)
            if (
                capacity is not None
                and conv.assignee_id != user_id
                and await tx.fetchval(LOAD_OF, user_id) >= capacity
            ):
                raise Conflict(f"user {user_id} is at capacity ({capacity})")
            row = await tx.fetchrow(ASSIGN, conv.id, user_id, now)
            assert row is not None
            await events.record(
                tx,
                "conversation_assigned",
                now,
                actor_id=actor_id,
                conversation_id=conv.id,
                data={"user_id": user_id, "from_user_id": conv.assignee_id}
                | ({"via": events.VIA_ON_CALL} if on_call else {}),
            )
            return rows.conversation(row, tx.parse_time)

        return await self._db.write(op)

    async def close(
        self,
        conversation_id: ConversationId,
        *,
        actor_id: UserId,
        now: datetime,
        outcome: str | None = None,
        note: str | None = None,
    ) -> Conversation:
        async def op(tx: Tx) -> Conversation:
            conv = await lock_open_conversation(tx, conversation_id)
            row = await tx.fetchrow(CLOSE, conv.id, now, outcome, note)
            assert row is not None
            # The outcome is a configured id, so the log may hold it; the note is her case in
            # words, so the log says only that there is one (events never hold bodies).
            data: dict[str, object] | None = (
                None if outcome is None else {"outcome": outcome, "noted": note is not None}
            )
            await events.record(
                tx,
                "conversation_closed",
                now,
                actor_id=actor_id,
                conversation_id=conv.id,
                data=data,
            )
            return rows.conversation(row, tx.parse_time)

        return await self._db.write(op)

    async def set_tags(
        self,
        conversation_id: ConversationId,
        tags: Sequence[str],
        *,
        keep: Collection[str] = (),
        named: Collection[str] = (),
        actor_id: UserId,
        now: datetime,
    ) -> Conversation:
        async def op(tx: Tx) -> Conversation:
            row = await tx.fetchrow(LOCK_CONVERSATION, conversation_id)
            if row is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            before = rows.conversation(row, tx.parse_time).tags
            after = list(dict.fromkeys([*(t for t in before if t in keep), *tags]))
            row = await tx.fetchrow(SET_TAGS, conversation_id, after, now)
            assert row is not None
            added = [t for t in after if t not in before]
            removed = [t for t in before if t not in after]
            if added or removed:
                await events.record(
                    tx,
                    "tags_set",
                    now,
                    actor_id=actor_id,
                    conversation_id=conversation_id,
                    data={
                        "added": [t for t in added if t in named],
                        "removed": [t for t in removed if t in named],
                        "free_added": sum(t not in named for t in added),
                        "free_removed": sum(t not in named for t in removed),
                    },
                )
            return rows.conversation(row, tx.parse_time)

        return await self._db.write(op)

    async def counselor_load(self, user_id: UserId) -> list[tuple[ChannelKind, int]]:
        found = await self._db.read(lambda tx: tx.fetch(LOAD_BY_CHANNEL, user_id))
        return [(ChannelKind(r[0]), int(r[1])) for r in found]

    async def mark_consulter_read(
        self, channel: ChannelKind, identity_hash: str, up_to: MessageId, *, now: datetime
    ) -> tuple[ConversationId, MessageId] | None:
        async def op(tx: Tx) -> tuple[ConversationId, MessageId] | None:
            row = await tx.fetchrow(READ_UP_TO, str(channel), identity_hash, up_to)
            if row is None or row[2] is None or (row[1] is not None and row[1] >= row[2]):
                return None
            conv_id, read_id = ConversationId(row[0]), MessageId(row[2])
            await tx.execute(SET_READ, conv_id, read_id)
            await events.record(
                tx, "consulter_read", now, conversation_id=conv_id, message_id=read_id
            )
            return conv_id, read_id

        if not rows.id_fits(up_to):
            return None
        return await self._db.write(op)

    async def consulter_history(
        self,
        channel: ChannelKind,
        identity_hash: str,
        *,
        limit: int = 200,
        before: MessageId | None = None,
    ) -> list[Message]:
        found = await self._db.read(
            lambda tx: tx.fetch(CONSULTER_HISTORY, str(channel), identity_hash, limit, before)
        )
        return [rows.message(r, self._db.parse_time) for r in reversed(found)]
