"""Referrals to partner agencies recorded on a conversation or on a call, written once for both
stores. A referral on a call is also on the call's conversation when it has one (her phone
conversation), so a conversation's referrals include those of its calls; contact_id is whose
(the conversation's or the call's; None for a withheld call). The event never holds the note.
"""

from __future__ import annotations

from datetime import date, datetime

from inbox.core.agencies import AgencyId, NewReferral, Referral, ReferralId
from inbox.core.errors import Conflict, NotFound
from inbox.core.model import ContactId, ConversationId, UserId
from storage import events, rows
from storage.agencies import get_agency
from storage.sql import Database, Tx

COLUMNS = """
r.id, r.conversation_id, r.call_id, r.contact_id, r.agency_id, a.name, a.kind, r.kind, r.on_day,
r.note, r.staff_id, r.created_at
"""
_SELECT = f"SELECT {COLUMNS} FROM referrals r JOIN agencies a ON a.id = r.agency_id"
OF_CONVERSATION = f"{_SELECT} WHERE r.conversation_id = $1 ORDER BY r.on_day, r.id"
OF_CALL = f"{_SELECT} WHERE r.call_id = $1 ORDER BY r.on_day, r.id"
GET = f"{_SELECT} WHERE r.id = $1"
CONVERSATION_CONTACT = "SELECT contact_id FROM conversations WHERE id = $1"
CALL_OWNERS = "SELECT conversation_id, contact_id FROM calls WHERE id = $1"
INSERT = """
INSERT INTO referrals (conversation_id, call_id, contact_id, agency_id, kind, on_day, note,
                       staff_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
"""
DELETE = "DELETE FROM referrals WHERE id = $1"


def referral(row: rows.Row, parse: rows.TimeParser) -> Referral:
    """Columns: COLUMNS."""
    return Referral(
        id=ReferralId(row[0]),
        conversation_id=None if row[1] is None else ConversationId(row[1]),
        call_id=None if row[2] is None else int(row[2]),
        contact_id=None if row[3] is None else ContactId(row[3]),
        agency_id=AgencyId(row[4]),
        agency_name=row[5],
        agency_kind=row[6],
        kind=row[7],
        on_day=date.fromisoformat(row[8]),
        note=row[9],
        staff_id=None if row[10] is None else UserId(row[10]),
        created_at=parse(row[11]),
    )


def event_data(r: Referral) -> dict[str, object]:
    """What the referral's events say: ids, kinds and the day, never the note."""
    return {
        "referral_id": r.id,
        "agency_id": r.agency_id,
        "kind": r.kind,
        "on_day": r.on_day.isoformat(),
        "call_id": r.call_id,
    }


async def _owners(tx: Tx, new: NewReferral) -> tuple[int | None, int | None]:
    """(conversation id, contact id) the referral is on; NotFound for an unknown target."""
    if new.call_id is not None:
        found = await tx.fetchrow(CALL_OWNERS, new.call_id) if rows.id_fits(new.call_id) else None
        if found is None:
            raise NotFound(f"call {new.call_id} does not exist")
        return found[0], found[1]
    assert new.conversation_id is not None
    contact = None
    if rows.id_fits(new.conversation_id):
        contact = await tx.fetchval(CONVERSATION_CONTACT, new.conversation_id)
    if contact is None:
        raise NotFound(f"conversation {new.conversation_id} does not exist")
    return new.conversation_id, contact


async def get_referral(tx: Tx, referral_id: int) -> Referral:
    row = await tx.fetchrow(GET, referral_id) if rows.id_fits(referral_id) else None
    if row is None:
        raise NotFound(f"referral {referral_id} does not exist")
    return referral(row, tx.parse_time)


async def record_referral(tx: Tx, new: NewReferral, now: datetime) -> Referral:
    if (new.conversation_id is None) == (new.call_id is None):
        raise ValueError("a referral is on a conversation or on a call: give exactly one")
    conversation_id, contact_id = await _owners(tx, new)
    found = await get_agency(tx, new.agency_id)
    if found.archived:
        raise Conflict(f"agency {new.agency_id} is archived; choose an active one")
    referral_id = await tx.fetchval(
        INSERT,
        conversation_id,
        new.call_id,
        contact_id,
        new.agency_id,
        new.kind,
        new.on_day.isoformat(),
        new.note,
        new.staff_id,
        now,
    )
    made = await get_referral(tx, referral_id)
    await events.record(
        tx,
        "referral_recorded",
        now,
        actor_id=new.staff_id,
        conversation_id=conversation_id,
        data=event_data(made),
    )
    return made


async def delete_referral(tx: Tx, referral_id: int, actor_id: UserId, now: datetime) -> Referral:
    gone = await get_referral(tx, referral_id)
    await tx.execute(DELETE, referral_id)
    await events.record(
        tx,
        "referral_deleted",
        now,
        actor_id=actor_id,
        conversation_id=gone.conversation_id,
        data=event_data(gone),
    )
    return gone


class Referrals:
    """The ReferralStore operations, the same on both stores, over the store's Database."""

    _db: Database

    async def record_referral(self, new: NewReferral, *, now: datetime) -> Referral:
        return await self._db.write(lambda tx: record_referral(tx, new, now))

    async def referrals_of(
        self, *, conversation_id: ConversationId | None = None, call_id: int | None = None
    ) -> list[Referral]:
        if conversation_id is not None:
            query, key = OF_CONVERSATION, int(conversation_id)
        elif call_id is not None:
            query, key = OF_CALL, call_id
        else:
            return []
        if not rows.id_fits(key):
            return []
        found = await self._db.read(lambda tx: tx.fetch(query, key))
        return [referral(r, self._db.parse_time) for r in found]

    async def get_referral(self, referral_id: ReferralId) -> Referral:
        return await self._db.read(lambda tx: get_referral(tx, referral_id))

    async def delete_referral(
        self, referral_id: ReferralId, *, actor_id: UserId, now: datetime
    ) -> Referral:
        return await self._db.write(lambda tx: delete_referral(tx, referral_id, actor_id, now))
