"""Twilio Voice's calls, written once: a call that came in (kept once per CallSid), its dial
result and status callbacks (a state never replaced by an earlier one), a missed call made a
callback, a call out from the desk (click-to-call), and the outcome staff give it afterwards.

Built on storage.calls (the calls row, her phone identity, the callback worked by the retry
rule): a Voice call is a call like any logged by hand, only filled in by Twilio's webhooks.
No number is stored in a call or an event; her number stays in channel_identities.address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from inbox.core.errors import Conflict, NotFound
from inbox.core.model import ConversationId, ConversationStatus, UserId
from inbox.core.phone import (
    Call,
    CallbackBy,
    CallbackRequest,
    CallDirection,
    Caller,
    LoggedCall,
    NewCall,
    RetryRuleFn,
)
from inbox.core.voice import (
    BRIDGED,
    CALL_STATUS_RANK,
    END_RANK,
    ENDED,
    DialResult,
    VoiceChange,
)
from storage import events, rows
from storage.calls import (
    CALL_COLUMNS,
    FIND_IDENTITY,
    INSERT_PHONE,
    OPEN_PHONE_CONVERSATION,
    WINDOW_OF,
    call,
    insert_call,
    lock_phone,
    phone_identity,
    record_call,
    work_callback,
)
from storage.desk import LOCK_CONVERSATION
from storage.sql import Database, Dialects, Tx

_BY_SID = f"SELECT {CALL_COLUMNS} FROM calls WHERE call_sid = $1"
CALL_BY_SID = Dialects(postgres=f"{_BY_SID} FOR UPDATE", sqlite=_BY_SID)
_BY_ID = f"SELECT {CALL_COLUMNS} FROM calls WHERE id = $1"
LOCK_CALL = Dialects(postgres=f"{_BY_ID} FOR UPDATE", sqlite=_BY_ID)
# A redelivered webhook (same CallSid) inserts nothing: ON CONFLICT, then the row is read.
INSERT_ARRIVED = f"""
INSERT INTO calls (conversation_id, contact_id, direction, started_at, withheld, call_sid,
                   call_status, created_at, updated_at)
VALUES ($1, $2, 'inbound', $3, $4, $5, $6, $3, $3)
ON CONFLICT (call_sid) DO NOTHING
RETURNING {CALL_COLUMNS}
"""
CONTACT_OF = "SELECT contact_id FROM conversations WHERE id = $1"
_OPEN_PHONE_ID = "SELECT id FROM conversations WHERE identity_id = $1 AND status <> 'closed'"
SET_STATUS = f"""
UPDATE calls SET call_status = $2, duration_s = coalesce($3, duration_s), updated_at = $4
WHERE id = $1
RETURNING {CALL_COLUMNS}
"""
SET_DURATION = f"""
UPDATE calls SET duration_s = $2, updated_at = $3 WHERE id = $1
RETURNING {CALL_COLUMNS}
"""
ATTACH = f"""
UPDATE calls SET conversation_id = $2, updated_at = $3 WHERE id = $1
RETURNING {CALL_COLUMNS}
"""
# The CallSid Twilio gave: from calls.create's answer, or from a status callback that named
# the call by id and came first (the status it took is kept: never back to queued).
SET_SID = f"""
UPDATE calls SET call_sid = $2, updated_at = $3
WHERE id = $1 AND call_sid IS NULL
RETURNING {CALL_COLUMNS}
"""
# Refused, or no answer in time: failed, even if a status callback named it meanwhile (Twilio
# placed it after all): the bridge then refuses it, as staff were told it failed.
SET_FAILED = f"""
UPDATE calls SET call_status = 'failed', updated_at = $2
WHERE id = $1
RETURNING {CALL_COLUMNS}
"""
# A missed call's callback withdrawn when the dial result said she was answered after all:
# only when nothing else happened on it (no other call or try, not opened, one request).
OTHER_CALLS = "SELECT count(*) FROM calls WHERE conversation_id = $1 AND id <> $2"
REQUESTS = """
SELECT count(*) FROM events WHERE conversation_id = $1 AND kind = 'callback_requested'
"""
WITHDRAW = """
UPDATE conversations SET status = 'closed', closed_at = $2, updated_at = $2,
    outcome = 'callback_withdrawn', callback_due_at = NULL, offered_at = NULL
WHERE id = $1
"""
_SET_OUTCOME = f"""
UPDATE calls SET outcome = $2, note = $3, referrals = $4, follow_up = {{follow_up}},
    staff_id = coalesce(staff_id, $6), updated_at = $7
WHERE id = $1
RETURNING {CALL_COLUMNS}
"""
SET_OUTCOME = Dialects(
    postgres=_SET_OUTCOME.format(follow_up="CAST($5 AS text)::date"),
    sqlite=_SET_OUTCOME.format(follow_up="$5"),
)

# Calls waiting for staff's outcome: her call someone at the desk answered (Twilio logged it,
# nobody's yet), and the desk's calls out once over. A missed or withheld call of hers is not
# one: nobody spoke to her, the callback it made is the work. $1: her own and nobody's (NULL: all).
_ENDED_SQL = ", ".join(f"'{status}'" for status in sorted(ENDED))  # constants, not input
OPEN_CALLS = f"""
SELECT {CALL_COLUMNS} FROM calls
WHERE outcome IS NULL
  AND ((direction = 'inbound' AND call_status = '{DialResult.ANSWERED.value}')
       OR (direction = 'outbound' AND call_status IN ({_ENDED_SQL})))
  AND (CAST($1 AS bigint) IS NULL OR staff_id IS NULL OR staff_id = $1)
ORDER BY started_at DESC, id DESC LIMIT $2
"""


def _rank(status: str | None) -> int:
    return CALL_STATUS_RANK.get(status or "", 0)


async def _changed(tx: Tx, c: Call, now: datetime) -> None:
    await events.record(
        tx,
        "call_updated",
        now,
        conversation_id=c.conversation_id,
        data={"call_id": c.id, "status": c.call_status, "duration_s": c.duration_s},
    )


async def call_arrived(
    tx: Tx, call_sid: str, status: str, caller: Caller | None, now: datetime
) -> VoiceChange:
    found = await tx.fetchrow(CALL_BY_SID, call_sid)
    if found is not None:  # Twilio asked again: the call is stored already
        return VoiceChange(call=call(found, tx.parse_time), changed=False)
    conv_id = contact_id = None
    if caller is not None:
        identity_id, contact_id = await phone_identity(tx, caller, None, now)
        conv_id = await tx.fetchval(_OPEN_PHONE_ID, identity_id)
    row = await tx.fetchrow(
        INSERT_ARRIVED, conv_id, contact_id, now, caller is None, call_sid, status
    )
    if row is None:  # another instance stored the same CallSid meanwhile
        row = await tx.fetchrow(CALL_BY_SID, call_sid)
        assert row is not None
        return VoiceChange(call=call(row, tx.parse_time), changed=False)
    arrived = call(row, tx.parse_time)
    await events.record(
        tx,
        "call_started",
        now,
        conversation_id=arrived.conversation_id,
        data={"call_id": arrived.id, "direction": "inbound", "withheld": arrived.withheld},
    )
    return VoiceChange(call=arrived, changed=True)


async def advance_call(
    tx: Tx,
    call_sid: str,
    status: str,
    duration_s: int | None,
    caller: Caller | None,
    now: datetime,
    call_id: int | None = None,
) -> VoiceChange | None:
    if call_id is None:
        row = await tx.fetchrow(CALL_BY_SID, call_sid)
    else:  # the desk's call out, named by id in the callback's URL
        row = await tx.fetchrow(LOCK_CALL, call_id)
        if row is not None and (row[3] != "outbound" or row[12] not in (None, call_sid)):
            row = None  # another call's sid: not this one's news
        elif row is not None and row[12] is None:  # before call_placed stored the sid
            row = await tx.fetchrow(SET_SID, call_id, call_sid, now)
    if row is None:
        return None  # not ours (or from before a restore): nothing to change
    before = call(row, tx.parse_time)
    old = _rank(before.call_status)
    inbound = before.direction is CallDirection.INBOUND
    if _rank(status) <= old:
        # An earlier or the same state, late or twice: only the end's duration is kept, as
        # Twilio's CallDuration is the whole call's.
        if _rank(status) >= END_RANK and duration_s is not None and duration_s != before.duration_s:
            row = await tx.fetchrow(SET_DURATION, before.id, duration_s, now)
            assert row is not None
            await _changed(tx, after := call(row, tx.parse_time), now)
            return VoiceChange(call=after, changed=True)
        return VoiceChange(call=before, changed=False)
    # after the call's end, its duration (the whole call's) is the one kept
    kept = None if old >= END_RANK else duration_s
    row = await tx.fetchrow(SET_STATUS, before.id, status, kept, now)
    assert row is not None
    after = call(row, tx.parse_time)
    if old >= END_RANK or _rank(status) < END_RANK:
        await _changed(tx, after, now)
    if old >= END_RANK:
        # Her call's end came first (a miss inferred, its callback made); the dial result
        # says more: answered, the callback is withdrawn if nothing else happened on it.
        if inbound and status == DialResult.ANSWERED.value:
            await _withdraw(tx, after, now)
        return VoiceChange(call=after, changed=True)
    if _rank(status) < END_RANK:
        return VoiceChange(call=after, changed=True)
    # Her call ended with no dial result yet (she hung up while the desk's phones rang, or
    # the dial's answer is late or lost): nobody is known to have spoken to her: missed.
    missed = inbound and status != DialResult.ANSWERED.value
    return await _ended(tx, after, caller, now, missed=missed)


async def _withdraw(tx: Tx, answered: Call, now: datetime) -> None:
    if answered.conversation_id is None:
        return
    found = await tx.fetchrow(LOCK_CONVERSATION, answered.conversation_id)
    assert found is not None
    conv = rows.conversation(found, tx.parse_time)
    # Only offered so far (the router is quick: it offers a new callback at once) is
    # untouched; opened, claimed or worked is not.
    offered = conv.status is ConversationStatus.ASSIGNED and conv.offered_at is not None
    untouched = (
        (conv.status is ConversationStatus.QUEUED or offered)
        and conv.opened_at is None
        and await tx.fetchval(OTHER_CALLS, conv.id, answered.id) == 0
        and await tx.fetchval(REQUESTS, conv.id) == 1
    )
    if not untouched:
        return  # worked, claimed or asked for otherwise: staff decide
    await tx.execute(WITHDRAW, conv.id, now)
    await events.record(
        tx,
        "callback_withdrawn",
        now,
        conversation_id=conv.id,
        data={"call_id": answered.id, "reason": "answered"},
    )
    await events.record(
        tx,
        "conversation_closed",
        now,
        conversation_id=conv.id,
        data={"outcome": "callback_withdrawn", "noted": False},
    )


async def _ended(
    tx: Tx, ended: Call, caller: Caller | None, now: datetime, *, missed: bool
) -> VoiceChange:
    """The call ended just now: it joins her phone conversation (a callback when nobody
    answered her), and is logged in her timeline."""
    callback = None
    inbound = ended.direction is CallDirection.INBOUND
    identity_id = await _identity_of(tx, ended, caller) if inbound else None
    if identity_id is not None:
        found = await tx.fetchrow(OPEN_PHONE_CONVERSATION, identity_id)
        conv_id = None if found is None else int(found[0])
        if conv_id is None:
            # A call nobody answered becomes a callback, due now; an answered one gets a
            # phone conversation closed already, so it is in her timeline.
            made = await tx.fetchrow(
                INSERT_PHONE,
                ended.contact_id,
                identity_id,
                "queued" if missed else "closed",
                now,
                None,  # due now
                None,  # nobody's yet; the call's outcome is staff's to give
                None if missed else now,
                None,
            )
            if made is None:  # another instance opened hers meanwhile (INSERT_PHONE)
                made = await tx.fetchrow(OPEN_PHONE_CONVERSATION, identity_id)
            assert made is not None
            conv_id = int(made[0])
        if missed:
            callback = CallbackRequest(
                conversation_id=ConversationId(conv_id), created=found is None, other_contact=False
            )
            await events.record(
                tx,
                "callback_requested",
                now,
                conversation_id=conv_id,
                data={"window": False, "by": CallbackBy.MISSED_CALL.value, "new": found is None},
            )
        if ended.conversation_id != conv_id:
            row = await tx.fetchrow(ATTACH, ended.id, conv_id, now)
            assert row is not None
            ended = call(row, tx.parse_time)
    await record_call(tx, "call_logged", ended, ended.staff_id, now)
    return VoiceChange(call=ended, changed=True, ended=True, callback=callback)


async def _identity_of(tx: Tx, c: Call, caller: Caller | None) -> int | None:
    """Her phone identity's id: from the number Twilio's request names, when it is the call's
    contact's (never another's: a callback must ring the number that called)."""
    if c.contact_id is None or caller is None:
        return None
    found = await tx.fetchrow(FIND_IDENTITY, caller.identity_hash)
    if found is None or int(found[1]) != c.contact_id:
        return None
    return int(found[0])


async def start_call(
    tx: Tx, conversation_id: ConversationId, staff_id: UserId, now: datetime
) -> Call:
    conv = await lock_phone(tx, conversation_id)
    entry = NewCall(
        direction=CallDirection.OUTBOUND,
        started_at=now,
        duration_s=None,
        outcome=None,
        staff_id=staff_id,
        conversation_id=conversation_id,
        call_status="queued",
    )
    started = await insert_call(tx, entry, conv.id, conv.contact_id, now)
    await events.record(
        tx,
        "call_started",
        now,
        actor_id=staff_id,
        conversation_id=conv.id,
        data={"call_id": started.id, "direction": "outbound", "withheld": False},
    )
    return started


async def call_placed(tx: Tx, call_id: int, call_sid: str | None, now: datetime) -> Call:
    """Twilio's answer to the call out: its CallSid, or None when it refused (the call failed
    and is logged so)."""
    if call_sid is None:
        row = await tx.fetchrow(SET_FAILED, call_id, now)
    else:
        row = await tx.fetchrow(SET_SID, call_id, call_sid, now)
        if row is None:  # a status callback named it by id first, with this very sid
            found = await tx.fetchrow(LOCK_CALL, call_id)
            row = found if found is not None and found[12] == call_sid else None
            if row is not None:
                return call(row, tx.parse_time)
    if row is None:
        raise Conflict(f"call {call_id} was placed already")
    placed = call(row, tx.parse_time)
    if call_sid is None:
        await record_call(tx, "call_logged", placed, placed.staff_id, now)
    else:
        await _changed(tx, placed, now)
    return placed


async def log_outcome(
    tx: Tx,
    call_id: int,
    entry: NewCall,
    now: datetime,
    retry: RetryRuleFn,
) -> LoggedCall:
    """Staff's outcome, note, referrals and follow-up on a call Twilio logged; on her open
    callback a try (a call out, or her call that reached her) works it by the retry rule."""
    row = await tx.fetchrow(LOCK_CALL, call_id)
    if row is None:
        raise NotFound(f"call {call_id} does not exist")
    if row[7] is not None:
        raise Conflict(f"call {call_id} has its outcome already")
    row = await tx.fetchrow(
        SET_OUTCOME,
        call_id,
        entry.outcome,
        entry.note,
        list(entry.referrals),
        None if entry.follow_up is None else entry.follow_up.isoformat(),
        entry.staff_id,
        now,
    )
    assert row is not None
    logged = call(row, tx.parse_time)
    await record_call(tx, "call_outcome_logged", logged, entry.staff_id, now)
    if logged.conversation_id is None:
        return LoggedCall(call=logged)
    found = await tx.fetchrow(LOCK_CONVERSATION, logged.conversation_id)
    assert found is not None
    conv = rows.conversation(found, tx.parse_time)
    works = logged.direction is CallDirection.OUTBOUND or entry.reached
    if conv.status is ConversationStatus.CLOSED or not works:
        return LoggedCall(call=logged)
    decided = await work_callback(tx, conv, logged, retry, entry.staff_id, now)
    return LoggedCall(call=logged, callback=decided)


async def bridge_call(tx: Tx, call_id: int, call_sid: str, now: datetime) -> Call | None:
    """The bridge's <Dial> to her may be served for this call now: the desk's call out, this
    CallSid (a replayed request of another call's is not), not over and not bridged before.
    It is marked bridged (call_updated); None when refused."""
    row = await tx.fetchrow(LOCK_CALL, call_id)
    if row is None:
        return None
    found = call(row, tx.parse_time)
    if (
        found.direction is not CallDirection.OUTBOUND
        or found.call_sid is None
        or found.call_sid != call_sid
        or _rank(found.call_status) >= _rank(BRIDGED)
    ):
        return None
    row = await tx.fetchrow(SET_STATUS, call_id, BRIDGED, None, now)
    assert row is not None
    await _changed(tx, bridged := call(row, tx.parse_time), now)
    return bridged


class Voice:
    """The VoiceStore operations of both stores, over the store's Database."""

    _db: Database

    async def call_arrived(
        self, call_sid: str, status: str, caller: Caller | None, *, now: datetime
    ) -> VoiceChange:
        return await self._db.write(lambda tx: call_arrived(tx, call_sid, status, caller, now))

    async def advance_call(
        self,
        call_sid: str,
        status: str,
        duration_s: int | None,
        caller: Caller | None,
        *,
        now: datetime,
        call_id: int | None = None,
    ) -> VoiceChange | None:
        return await self._db.write(
            lambda tx: advance_call(tx, call_sid, status, duration_s, caller, now, call_id)
        )

    async def bridge_call(self, call_id: int, call_sid: str, *, now: datetime) -> Call | None:
        return await self._db.write(lambda tx: bridge_call(tx, call_id, call_sid, now))

    async def start_call(
        self, conversation_id: ConversationId, staff_id: UserId, *, now: datetime
    ) -> Call:
        return await self._db.write(lambda tx: start_call(tx, conversation_id, staff_id, now))

    async def call_placed(self, call_id: int, call_sid: str | None, *, now: datetime) -> Call:
        return await self._db.write(lambda tx: call_placed(tx, call_id, call_sid, now))

    async def log_outcome(
        self, call_id: int, entry: NewCall, *, now: datetime, retry: RetryRuleFn
    ) -> LoggedCall:
        return await self._db.write(lambda tx: log_outcome(tx, call_id, entry, now, retry))

    async def get_call(self, call_id: int) -> Call:
        found = await self._db.read(lambda tx: tx.fetchrow(_BY_ID, call_id))
        if found is None:
            raise NotFound(f"call {call_id} does not exist")
        return call(found, self._db.parse_time)

    async def open_calls(self, staff_id: UserId | None, *, limit: int = 50) -> list[Call]:
        found = await self._db.read(lambda tx: tx.fetch(OPEN_CALLS, staff_id, limit))
        return [call(r, self._db.parse_time) for r in found]

    async def call_window_of(self, conversation_id: ConversationId) -> str | None:
        """Her contact's call window (JSON text; None: the desk's hours)."""
        return await self._db.read(lambda tx: _window_of(tx, conversation_id))


async def _window_of(tx: Tx, conversation_id: ConversationId) -> str | None:
    contact = await tx.fetchval(CONTACT_OF, conversation_id)
    if contact is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    found = await tx.fetchval(WINDOW_OF, contact)
    return None if found is None else str(found)


__all__: Sequence[str] = ("Voice",)
