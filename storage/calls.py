"""The phone desk's calls, written once: calls logged, callbacks worked by the retry rule, and
the calls phone staff's screens and her timeline read (callback requests and the list of open
ones: storage.callbacks).

A callback is an open conversation on channel phone; her number is its identity (matched by
keyed hash, the number itself only in channel_identities.address). No number is in a calls row
or an event. The retry rule is the command layer's pure function (inbox.core.phone.RetryRuleFn),
called inside the transaction with the tries as they stand, so two staff logging tries on one
callback at once take turns (the conversation's row lock) and each sees the other's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from inbox.core.errors import CallbackTaken, Conflict, NotFound
from inbox.core.model import (
    ChannelKind,
    ContactId,
    Conversation,
    ConversationId,
    ConversationStatus,
    UserId,
)
from inbox.core.phone import (
    Call,
    CallbackBy,
    CallDirection,
    Caller,
    LoggedCall,
    NewCall,
    PastTry,
    RetryAt,
    RetryRuleFn,
    TryDecision,
)
from storage import events, rows
from storage.desk import ASSIGN, CONVERSATION_COLUMNS, LOCK_CONVERSATION
from storage.sql import Database, Dialects, Tx

CALL_COLUMNS = """
id, conversation_id, contact_id, direction, started_at, duration_s, withheld, outcome, note,
referrals, follow_up, staff_id, call_sid, call_status, created_at
"""
# follow_up is a date: given as YYYY-MM-DD text, which PostgreSQL must be told to read as one.
_INSERT_CALL = f"""
INSERT INTO calls (conversation_id, contact_id, direction, started_at, duration_s, withheld,
                   outcome, note, referrals, follow_up, staff_id, call_sid, call_status,
                   created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {{follow_up}}, $11, $12, $13, $14, $14)
RETURNING {CALL_COLUMNS}
"""
INSERT_CALL = Dialects(
    postgres=_INSERT_CALL.format(follow_up="CAST($10 AS text)::date"),
    sqlite=_INSERT_CALL.format(follow_up="$10"),
)
FIND_IDENTITY = """
SELECT id, contact_id FROM channel_identities WHERE channel = 'phone' AND identity_hash = $1
"""
INSERT_CONTACT = "INSERT INTO contacts (created_at) VALUES ($1) RETURNING id"
# ON CONFLICT: another instance may store the same number at the same moment; then its row is
# read back (the contact made here for it stays unused).
INSERT_IDENTITY = """
INSERT INTO channel_identities (contact_id, channel, identity_hash, address, created_at)
VALUES ($1, 'phone', $2, $3, $4)
ON CONFLICT (channel, identity_hash) DO NOTHING
RETURNING id, contact_id
"""
# Her open phone conversation (one at most: conversations_one_open), locked as desk.py locks one.
_OPEN_PHONE = f"""
SELECT {CONVERSATION_COLUMNS} FROM conversations
WHERE identity_id = $1 AND status <> 'closed'
"""
OPEN_PHONE_CONVERSATION = Dialects(postgres=f"{_OPEN_PHONE} FOR UPDATE", sqlite=_OPEN_PHONE)
IDENTITY_OF = "SELECT identity_id FROM conversations WHERE id = $1"
IDENTITY_HASH_OF = """
SELECT i.identity_hash FROM conversations c JOIN channel_identities i ON i.id = c.identity_id
WHERE c.id = $1
"""
# A phone conversation opened by the desk: a callback (queued, due at $5: NULL now) or a call
# already over (closed at $7 with its outcome, handled by the one who logged it: $6).
# ON CONFLICT: another writer (another instance's missed call, a second hand log) may open her
# phone conversation at the same moment; then no row comes back and the open one is read
# (open_phone). The target is conversations_one_open, the same text in both dialects.
INSERT_PHONE = f"""
INSERT INTO conversations (contact_id, identity_id, channel, status, created_at, updated_at,
                           queued_at, callback_due_at, assignee_id, opened_at, closed_at, outcome)
VALUES ($1, $2, 'phone', $3, $4, $4, $4, $5, $6, $7, $7, $8)
ON CONFLICT (identity_id) WHERE status <> 'closed' DO NOTHING
RETURNING {CONVERSATION_COLUMNS}
"""
# Her tries on this callback: the desk's calls out, and the call just logged ($2), with their
# outcome logged (a call out Twilio could not place, or one still without outcome, is no try),
# logged after the callback opened: the call that opened it (a follow-up date's, stored in the
# same transaction, so at the same instant) was made before and is not one of its tries.
TRIES = """
SELECT k.started_at, k.outcome FROM calls k JOIN conversations c ON c.id = k.conversation_id
WHERE k.conversation_id = $1 AND k.outcome IS NOT NULL
  AND (k.id = $2 OR (k.direction = 'outbound' AND k.created_at > c.created_at))
ORDER BY k.started_at, k.id
"""
WINDOW_OF = "SELECT call_window FROM contacts WHERE id = $1"
RETRY_LATER = """
UPDATE conversations SET status = 'queued', assignee_id = NULL, offered_at = NULL,
    opened_at = NULL, callback_due_at = $2, callback_tries = callback_tries + 1, updated_at = $3
WHERE id = $1
"""
# Worked from the queue, it was nobody's: the one whose try ended it handled it ($4).
CLOSE_CALLBACK = """
UPDATE conversations SET status = 'closed', closed_at = $2, updated_at = $2, outcome = $3,
    callback_due_at = NULL, callback_tries = callback_tries + 1,
    assignee_id = coalesce(assignee_id, $4)
WHERE id = $1
"""
RECENT_CALLS = f"""
SELECT {CALL_COLUMNS} FROM calls WHERE (CAST($1 AS bigint) IS NULL OR staff_id = $1)
ORDER BY started_at DESC, id DESC LIMIT $2
"""
CALLS_OF = f"SELECT {CALL_COLUMNS} FROM calls WHERE conversation_id = $1 ORDER BY started_at, id"
_CALLS_IN = f"""
SELECT {CALL_COLUMNS} FROM calls WHERE conversation_id {{ids}} ORDER BY started_at, id
"""
CALLS_IN = Dialects(
    postgres=_CALLS_IN.format(ids="= ANY($1::bigint[])"),
    sqlite=_CALLS_IN.format(ids="IN (SELECT value FROM json_each($1))"),
)


def call(row: rows.Row, parse: rows.TimeParser) -> Call:
    """Columns: CALL_COLUMNS."""
    follow_up = row[10]
    if isinstance(follow_up, str):  # SQLite keeps the date as its text
        follow_up = date.fromisoformat(follow_up)
    return Call(
        id=int(row[0]),
        conversation_id=None if row[1] is None else ConversationId(row[1]),
        contact_id=None if row[2] is None else ContactId(row[2]),
        direction=CallDirection(row[3]),
        started_at=parse(row[4]),
        duration_s=row[5],
        withheld=bool(row[6]),
        outcome=row[7],
        note=row[8],
        referrals=tuple(rows.json_value(row[9])),
        follow_up=follow_up,
        staff_id=None if row[11] is None else UserId(row[11]),
        call_sid=row[12],
        call_status=row[13],
        created_at=parse(row[14]),
    )


async def phone_identity(
    tx: Tx, caller: Caller, contact_id: int | None, now: datetime
) -> tuple[int, int]:
    """(identity id, contact id) of her number, stored on `contact_id` (a new contact when
    None) if it is new; a number known before keeps its own contact."""
    found = await tx.fetchrow(FIND_IDENTITY, caller.identity_hash)
    if found is not None:
        return int(found[0]), int(found[1])
    if contact_id is None:
        contact_id = int(await tx.fetchval(INSERT_CONTACT, now))
    made = await tx.fetchrow(INSERT_IDENTITY, contact_id, caller.identity_hash, caller.e164, now)
    if made is None:  # stored by another instance meanwhile
        made = await tx.fetchrow(FIND_IDENTITY, caller.identity_hash)
    assert made is not None
    return int(made[0]), int(made[1])


def call_event(c: Call) -> dict[str, object]:
    """The data of a call's events (call_logged, call_outcome_logged): ids, direction, outcome
    and duration. Never the number, never the note: the event log is read more widely than
    the case."""
    return {
        "call_id": c.id,
        "direction": c.direction.value,
        "outcome": c.outcome,
        "withheld": c.withheld,
        "duration_s": c.duration_s,
        "referrals": list(c.referrals),
    }


async def record_call(tx: Tx, kind: str, c: Call, actor: int | None, now: datetime) -> None:
    """A call's event (call_logged, call_outcome_logged) on its conversation, if it has one."""
    await events.record(
        tx, kind, now, actor_id=actor, conversation_id=c.conversation_id, data=call_event(c)
    )


async def lock_phone(tx: Tx, conversation_id: ConversationId) -> Conversation:
    """The phone conversation, locked for this transaction (NotFound, or Conflict if not phone)."""
    row = await tx.fetchrow(LOCK_CONVERSATION, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    conv = rows.conversation(row, tx.parse_time)
    if conv.channel is not ChannelKind.PHONE:
        raise Conflict(f"conversation {conversation_id} is not a phone conversation")
    return conv


async def insert_call(
    tx: Tx, entry: NewCall, conv_id: int | None, contact_id: int | None, now: datetime
) -> Call:
    """Store the entry as a calls row on this conversation and contact (None: nobody's) and
    return it; no event: the caller writes the one its operation means."""
    row = await tx.fetchrow(
        INSERT_CALL,
        conv_id,
        contact_id,
        entry.direction.value,
        entry.started_at,
        entry.duration_s,
        entry.withheld,
        entry.outcome,
        entry.note,
        list(entry.referrals),
        None if entry.follow_up is None else entry.follow_up.isoformat(),
        entry.staff_id,
        entry.call_sid,
        entry.call_status,
        now,
    )
    assert row is not None
    return call(row, tx.parse_time)


async def work_callback(
    tx: Tx, conv: Conversation, logged: Call, retry: RetryRuleFn, actor: int | None, now: datetime
) -> TryDecision:
    """Apply the retry rule to the callback `conv` (locked by the caller) after the try just
    logged: back to the queue due at the rule's time (callback_retry_scheduled), or closed
    with its reason (callback_closed, conversation_closed); `actor` handled it."""
    tries = [
        PastTry(at=tx.parse_time(r[0]), outcome=r[1])
        for r in await tx.fetch(TRIES, conv.id, logged.id)
    ]
    window = await tx.fetchval(WINDOW_OF, conv.contact_id)
    decided = retry(tries, window)
    if isinstance(decided, RetryAt):
        await tx.execute(RETRY_LATER, conv.id, decided.at, now)
        await events.record(
            tx,
            "callback_retry_scheduled",
            now,
            actor_id=actor,
            conversation_id=conv.id,
            data={"tries": len(tries), "at": decided.at.isoformat()},
        )
        return decided
    outcome = decided.outcome if decided.reason == "reached" else f"callback_{decided.reason}"
    await tx.execute(CLOSE_CALLBACK, conv.id, now, outcome, actor)
    data: dict[str, object] = {"reason": decided.reason}
    if decided.outcome is not None:
        data["outcome"] = decided.outcome
    await events.record(
        tx, "callback_closed", now, actor_id=actor, conversation_id=conv.id, data=data
    )
    # Also the close every conversation's end writes: routers of other instances route after
    # it (the NOTIFY trigger's kinds), and the closing counts see it.
    await events.record(
        tx,
        "conversation_closed",
        now,
        actor_id=actor,
        conversation_id=conv.id,
        data={"outcome": outcome, "noted": False},
    )
    if decided.follow_up_at is not None:
        await open_follow_up(tx, conv, decided.follow_up_at, actor, window is not None, now)
    return decided


async def open_phone(
    tx: Tx,
    contact_id: int,
    identity_id: int,
    now: datetime,
    *,
    due_at: datetime | None = None,
    closed: bool = False,
    closed_by: int | None = None,
    outcome: str | None = None,
) -> tuple[Conversation, bool]:
    """A new phone conversation (a callback due at `due_at`, or `closed` already with the
    outcome of the call `closed_by` logged), and True; or, when another writer opened hers
    meanwhile, that open one (locked) and False."""
    row = await tx.fetchrow(
        INSERT_PHONE,
        contact_id,
        identity_id,
        "closed" if closed else "queued",
        now,
        due_at,
        closed_by,
        now if closed else None,
        outcome,
    )
    if row is not None:
        return rows.conversation(row, tx.parse_time), True
    row = await tx.fetchrow(OPEN_PHONE_CONVERSATION, identity_id)
    assert row is not None  # the conflict was the open one's
    return rows.conversation(row, tx.parse_time), False


async def open_follow_up(
    tx: Tx, conv: Conversation, due_at: datetime, actor: int | None, window: bool, now: datetime
) -> None:
    """A try that ended the callback gave a follow-up date: a new callback, due then."""
    identity_id = int(await tx.fetchval(IDENTITY_OF, conv.id))
    follow, _ = await open_phone(tx, conv.contact_id, identity_id, now, due_at=due_at)
    await events.record(
        tx,
        "callback_requested",
        now,
        actor_id=actor,
        conversation_id=follow.id,
        data={"window": window, "by": CallbackBy.STAFF.value, "from_conversation_id": conv.id},
    )


async def _lock_callback(tx: Tx, conversation_id: ConversationId) -> Conversation:
    conv = await lock_phone(tx, conversation_id)
    if conv.status is ConversationStatus.CLOSED:
        raise Conflict(f"conversation {conversation_id} is closed")
    return conv


async def log_call(tx: Tx, entry: NewCall, now: datetime, retry: RetryRuleFn) -> LoggedCall:
    actor = entry.staff_id
    if entry.conversation_id is not None:
        conv = await _lock_callback(tx, entry.conversation_id)
        if entry.caller is not None:
            known = await tx.fetchval(IDENTITY_HASH_OF, conv.id)
            if known != entry.caller.identity_hash:
                raise Conflict("the number given is not this callback's number")
        if actor is not None and not entry.any_callback and conv.assignee_id != actor:
            conv = await _claim(tx, conv, actor, now, take=_is_try(entry))
        return await _log_on(tx, conv, entry, now, retry)
    if entry.caller is None:  # withheld: the call alone, nobody's
        logged = await insert_call(tx, entry, None, None, now)
        await record_call(tx, "call_logged", logged, actor, now)
        return LoggedCall(call=logged)
    identity_id, contact_id = await phone_identity(tx, entry.caller, None, now)
    row = await tx.fetchrow(OPEN_PHONE_CONVERSATION, identity_id)
    if row is not None:  # her callback is open: this call is on it
        return await _log_on(tx, rows.conversation(row, tx.parse_time), entry, now, retry)
    return await _log_new(tx, entry, identity_id, contact_id, now, retry)


def _is_try(entry: NewCall) -> bool:
    """A try works the callback: a call out, or any call that reached her."""
    return entry.direction is CallDirection.OUTBOUND or entry.reached


async def _claim(
    tx: Tx, conv: Conversation, actor: UserId, now: datetime, *, take: bool
) -> Conversation:
    """Phone staff working a queued callback take it, as if assigned to it (`take`: a try;
    her unanswered call only joins it); one that is someone else's is not theirs to work."""
    if conv.assignee_id is not None or conv.status is not ConversationStatus.QUEUED:
        raise CallbackTaken(f"conversation {conv.id} is assigned to someone else")
    if not take:
        return conv
    row = await tx.fetchrow(ASSIGN, conv.id, actor, now)
    assert row is not None
    await events.record(
        tx,
        "conversation_assigned",
        now,
        actor_id=actor,
        conversation_id=conv.id,
        data={"user_id": actor, "from_user_id": None},
    )
    return rows.conversation(row, tx.parse_time)


async def _log_on(
    tx: Tx, conv: Conversation, entry: NewCall, now: datetime, retry: RetryRuleFn
) -> LoggedCall:
    """A call on an open phone conversation. A try (a call out, or any call that reached her)
    works the callback; a call of hers that nobody answered only joins it."""
    logged = await insert_call(tx, entry, conv.id, conv.contact_id, now)
    await record_call(tx, "call_logged", logged, entry.staff_id, now)
    if not _is_try(entry):
        return LoggedCall(call=logged)
    decided = await work_callback(tx, conv, logged, retry, entry.staff_id, now)
    return LoggedCall(call=logged, callback=decided)


async def _log_new(
    tx: Tx, entry: NewCall, identity_id: int, contact_id: int, now: datetime, retry: RetryRuleFn
) -> LoggedCall:
    """Her number, no open phone conversation: one is made so the call is in her timeline,
    closed already, or a callback due when the entry asks for one."""
    ask = entry.callback
    if ask is None:
        conv, _ = await open_phone(
            tx,
            contact_id,
            identity_id,
            now,
            closed=True,
            closed_by=entry.staff_id,
            outcome=entry.outcome,
        )
    else:
        conv, created = await open_phone(tx, contact_id, identity_id, now, due_at=ask.due_at)
        if not created:  # opened by another writer meanwhile: the call is on that one
            return await _log_on(tx, conv, entry, now, retry)
    logged = await insert_call(tx, entry, conv.id, contact_id, now)
    actor = entry.staff_id if ask is None or ask.by is CallbackBy.STAFF else None
    await record_call(tx, "call_logged", logged, entry.staff_id, now)
    if ask is None:
        return LoggedCall(call=logged)
    await events.record(
        tx,
        "callback_requested",
        now,
        actor_id=actor,
        conversation_id=conv.id,
        data={"window": False, "by": ask.by.value},
    )
    return LoggedCall(call=logged, callback=RetryAt(at=ask.due_at))


class Calls:
    """The CallStore operations of both stores, over the store's Database."""

    _db: Database

    async def log_call(self, entry: NewCall, *, now: datetime, retry: RetryRuleFn) -> LoggedCall:
        return await self._db.write(lambda tx: log_call(tx, entry, now, retry))

    async def recent_calls(self, staff_id: UserId | None, *, limit: int = 50) -> list[Call]:
        found = await self._db.read(lambda tx: tx.fetch(RECENT_CALLS, staff_id, limit))
        return [call(r, self._db.parse_time) for r in found]

    async def calls_of(self, conversation_id: ConversationId) -> list[Call]:
        found = await self._db.read(lambda tx: tx.fetch(CALLS_OF, conversation_id))
        return [call(r, self._db.parse_time) for r in found]

    async def calls_in(self, conversation_ids: Sequence[ConversationId]) -> list[Call]:
        if not conversation_ids:
            return []
        ids = list(conversation_ids)
        found = await self._db.read(lambda tx: tx.fetch(CALLS_IN, ids))
        return [call(r, self._db.parse_time) for r in found]
