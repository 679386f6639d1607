"""Follow-ups (近況確認), written once for both stores: set, cancelled, listed, made due on their
day (a task in the one queue: her identity's open conversation, or a new queued one) and
resolved. Each change writes its event in the same transaction.

Making one due is a conditional update (scheduled -> due): watchers on several instances may
try the same follow-up at the same moment, and only one of them opens its task. The task is
offered first to the follow-up's counselor by the router's continuity (the queue's snapshot
reads her: storage/sqlite/routing.py, storage/postgres/routing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from inbox.core.errors import Conflict, NotFound, ValidationError
from inbox.core.follow_ups import (
    OUTCOME_IDS,
    FollowUp,
    FollowUpStatus,
    NewFollowUp,
    ScheduledFollowUp,
)
from inbox.core.model import ChannelKind, ContactId, ConversationId, UserId
from storage import events
from storage.desk import get_conversation
from storage.follow_up_rows import COLUMNS, FROM, due_tasks, follow_up
from storage.sql import Database, Dialects, Tx

GET_FOLLOW_UP = f"SELECT {COLUMNS} {FROM} WHERE f.id = $1"
LOCK_FOLLOW_UP = Dialects(postgres=f"{GET_FOLLOW_UP} FOR UPDATE OF f", sqlite=GET_FOLLOW_UP)
OF_CONTACT = f"""
SELECT {COLUMNS} {FROM} WHERE f.contact_id = $1 ORDER BY f.due_on DESC, f.id DESC LIMIT $2
"""
IDENTITY_OF_CONVERSATION = "SELECT identity_id FROM conversations WHERE id = $1"
IDENTITY_OF_CONTACT = "SELECT id FROM channel_identities WHERE id = $1 AND contact_id = $2"
INSERT_FOLLOW_UP = """
INSERT INTO follow_ups (contact_id, identity_id, from_conversation_id, counselor_id, due_on,
                        note, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id
"""
# By follow_ups_due (partial: scheduled ones only); the oldest days first.
SCHEDULED = """
SELECT f.id, f.due_on, i.channel,
       CASE WHEN i.channel = 'phone'
            THEN (SELECT k.call_window FROM contacts k WHERE k.id = f.contact_id) END
FROM follow_ups f JOIN channel_identities i ON i.id = f.identity_id
WHERE f.status = 'scheduled' AND f.due_on <= $1
  AND (f.due_on > $3 OR (f.due_on = $3 AND f.id > $4))
ORDER BY f.due_on, f.id LIMIT $2
"""
MAKE_DUE = """
UPDATE follow_ups SET status = 'due' WHERE id = $1 AND status = 'scheduled'
RETURNING contact_id, identity_id
"""
_OPEN_ON_IDENTITY = """
SELECT c.id FROM conversations c WHERE c.identity_id = $1 AND c.status <> 'closed'
"""
OPEN_ON_IDENTITY = Dialects(postgres=f"{_OPEN_ON_IDENTITY} FOR UPDATE", sqlite=_OPEN_ON_IDENTITY)
# ON CONFLICT: her message may open a conversation on this identity at the same moment; then
# no row comes back and that one becomes the task. The target is conversations_one_open.
OPEN_TASK = """
INSERT INTO conversations (contact_id, identity_id, channel, status, created_at, updated_at,
                           queued_at)
VALUES ($1, $2, $3, 'queued', $4, $4, $4)
ON CONFLICT (identity_id) WHERE status <> 'closed' DO NOTHING
RETURNING id
"""
CHANNEL_OF_IDENTITY = "SELECT channel FROM channel_identities WHERE id = $1"
SET_TASK = "UPDATE follow_ups SET conversation_id = $2 WHERE id = $1"
SET_STATUS = """
UPDATE follow_ups SET status = $2, resolved_at = $3, resolved_by = $4 WHERE id = $1
"""
IDENTITIES = "SELECT id, channel FROM channel_identities WHERE contact_id = $1 ORDER BY id"
DUE_COUNT = "SELECT count(*) FROM follow_ups WHERE status = 'due'"
LIST_MAX = 100


async def _get(tx: Tx, follow_up_id: int, *, lock: bool = False) -> FollowUp:
    row = await tx.fetchrow(LOCK_FOLLOW_UP if lock else GET_FOLLOW_UP, follow_up_id)
    if row is None:
        raise NotFound(f"follow-up {follow_up_id} does not exist")
    return follow_up(row, tx.parse_time)


def _event_data(f: FollowUp, **more: object) -> dict[str, object]:
    """Ids and the day only: never the note (the event log is read more widely)."""
    return {"follow_up_id": f.id, "due_on": f.due_on.isoformat(), **more}


async def set_follow_up(tx: Tx, new: NewFollowUp, actor_id: UserId, now: datetime) -> FollowUp:
    source = await get_conversation(tx, new.from_conversation_id)
    identity_id = new.identity_id
    if identity_id is None:
        identity_id = int(await tx.fetchval(IDENTITY_OF_CONVERSATION, source.id))
    elif await tx.fetchval(IDENTITY_OF_CONTACT, identity_id, source.contact_id) is None:
        raise ValidationError("not one of this consulter's identities", field="identity")
    found = await tx.fetchval(
        INSERT_FOLLOW_UP,
        source.contact_id,
        identity_id,
        source.id,
        new.counselor_id or actor_id,
        new.due_on.isoformat(),
        new.note,
        actor_id,
        now,
    )
    made = await _get(tx, int(found))
    await events.record(
        tx,
        "follow_up_set",
        now,
        actor_id=actor_id,
        conversation_id=source.id,
        data=_event_data(made, channel=made.channel.value),
    )
    return made


async def make_due(tx: Tx, follow_up_id: int, now: datetime) -> FollowUp | None:
    """scheduled -> due, and its task: her identity's open conversation (queued, assigned or
    waiting: marked, left as it is) or a new queued one. None: not scheduled any more (another
    instance made it due first, or it was cancelled)."""
    row = await tx.fetchrow(MAKE_DUE, follow_up_id)
    if row is None:
        return None
    contact_id, identity_id = int(row[0]), int(row[1])
    task = await tx.fetchval(OPEN_ON_IDENTITY, identity_id)
    new = task is None
    if new:
        channel = await tx.fetchval(CHANNEL_OF_IDENTITY, identity_id)
        task = await tx.fetchval(OPEN_TASK, contact_id, identity_id, channel, now)
        if task is None:  # her message opened one meanwhile
            task = await tx.fetchval(OPEN_ON_IDENTITY, identity_id)
            new = False
    assert task is not None
    await tx.execute(SET_TASK, follow_up_id, int(task))
    made = await _get(tx, follow_up_id)
    await events.record(
        tx,
        "follow_up_due",
        now,
        conversation_id=int(task),
        data=_event_data(made, new=new, counselor_id=made.counselor_id),
    )
    return made


async def close_follow_up(
    tx: Tx, follow_up_id: int, status: FollowUpStatus, actor_id: UserId, now: datetime
) -> FollowUp:
    """Cancelled (only before its day: scheduled) or resolved with an outcome (scheduled or
    due); Conflict otherwise."""
    current = await _get(tx, follow_up_id, lock=True)
    allowed = (
        (FollowUpStatus.SCHEDULED,)
        if status is FollowUpStatus.CANCELLED
        else (FollowUpStatus.SCHEDULED, FollowUpStatus.DUE)
    )
    if current.status not in allowed:
        raise Conflict(f"follow-up {follow_up_id} is {current.status.value}")
    await tx.execute(SET_STATUS, follow_up_id, status.value, now, actor_id)
    done = await _get(tx, follow_up_id)
    kind = "follow_up_cancelled" if status is FollowUpStatus.CANCELLED else "follow_up_resolved"
    await events.record(
        tx,
        kind,
        now,
        actor_id=actor_id,
        conversation_id=done.conversation_id or done.from_conversation_id,
        data=_event_data(done, status=status.value),
    )
    return done


class FollowUps:
    """The FollowUpStore operations of both stores, over the store's Database."""

    _db: Database

    async def set_follow_up(self, new: NewFollowUp, *, actor_id: UserId, now: datetime) -> FollowUp:
        return await self._db.write(lambda tx: set_follow_up(tx, new, actor_id, now))

    async def get_follow_up(self, follow_up_id: int) -> FollowUp:
        return await self._db.read(lambda tx: _get(tx, follow_up_id))

    async def follow_ups_of(
        self, contact_id: ContactId, *, limit: int = LIST_MAX
    ) -> list[FollowUp]:
        found = await self._db.read(lambda tx: tx.fetch(OF_CONTACT, contact_id, limit))
        return [follow_up(r, self._db.parse_time) for r in found]

    async def cancel_follow_up(
        self, follow_up_id: int, *, actor_id: UserId, now: datetime
    ) -> FollowUp:
        return await self._db.write(
            lambda tx: close_follow_up(tx, follow_up_id, FollowUpStatus.CANCELLED, actor_id, now)
        )

    async def resolve_follow_up(
        self, follow_up_id: int, outcome: str, *, actor_id: UserId, now: datetime
    ) -> FollowUp:
        if outcome not in OUTCOME_IDS:
            raise ValidationError(f"one of {', '.join(sorted(OUTCOME_IDS))}", field="outcome")
        status = FollowUpStatus(outcome)
        return await self._db.write(
            lambda tx: close_follow_up(tx, follow_up_id, status, actor_id, now)
        )

    async def scheduled_follow_ups(
        self, *, through: date, limit: int = 500, after: tuple[date, int] | None = None
    ) -> list[ScheduledFollowUp]:
        day, last_id = ("", 0) if after is None else (after[0].isoformat(), after[1])
        found = await self._db.read(
            lambda tx: tx.fetch(SCHEDULED, through.isoformat(), limit, day, last_id)
        )
        return [
            ScheduledFollowUp(
                id=int(r[0]),
                due_on=date.fromisoformat(r[1]),
                channel=ChannelKind(r[2]),
                call_window=r[3],
            )
            for r in found
        ]

    async def make_follow_up_due(self, follow_up_id: int, *, now: datetime) -> FollowUp | None:
        return await self._db.write(lambda tx: make_due(tx, follow_up_id, now))

    async def follow_up_tasks(
        self, conversation_ids: Sequence[ConversationId]
    ) -> dict[ConversationId, FollowUp]:
        if not conversation_ids:
            return {}
        return await self._db.read(lambda tx: due_tasks(tx, conversation_ids))

    async def follow_ups_due(self) -> int:
        return int(await self._db.read(lambda tx: tx.fetchval(DUE_COUNT)))

    async def identities_of(self, contact_id: ContactId) -> list[tuple[int, ChannelKind]]:
        found = await self._db.read(lambda tx: tx.fetch(IDENTITIES, contact_id))
        return [(int(r[0]), ChannelKind(r[1])) for r in found]
