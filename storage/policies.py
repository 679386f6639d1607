"""Automatic replies, discretion and anonymity, and what is known of senders: written once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from inbox.core.decisions import HandedToOnCall, LastArrival, UrgentArrival
from inbox.core.errors import Conflict, NotFound
from inbox.core.model import (
    Anonymity,
    ChannelKind,
    ContactAddress,
    ContactFacts,
    ContactId,
    ConversationId,
    Message,
    UserId,
    stricter_anonymity,
)
from storage import events, rows
from storage.desk import INSERT_OUTBOX, INSERT_REPLY
from storage.sql import Database, Dialects, Tx

ByLanguage = Sequence[tuple[str, str, str]]  # (language, body, discreet body)

CONVERSATION_CONTACT = """
SELECT c.channel, c.status, t.discretion, t.id FROM conversations c
JOIN contacts t ON t.id = c.contact_id WHERE c.id = $1
"""
# Her language, where her chat told it (web chat), beside what the claim needs.
CLAIM_CONTACT = """
SELECT c.channel, c.status, t.discretion, l.language FROM conversations c
JOIN contacts t ON t.id = c.contact_id
JOIN channel_identities i ON i.id = c.identity_id
LEFT JOIN consulter_languages l ON l.channel = i.channel AND l.identity_hash = i.identity_hash
WHERE c.id = $1
"""
SET_LANGUAGE = """
INSERT INTO consulter_languages (channel, identity_hash, language, updated_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (channel, identity_hash) DO UPDATE SET language = $3, updated_at = $4
"""
# The primary key of auto_replies is the once-per-conversation guarantee, across restarts and
# instances: the loser of a race inserts nothing and sends nothing.
# A kind another reply stands in for (the on-call message for the after-hours text) is spent:
# claimed with no message, so it is never sent afterwards, nor derived again after a restart.
SPEND_AUTO_REPLY = """
INSERT INTO auto_replies (conversation_id, kind, sent_at) VALUES ($1, $2, $3)
ON CONFLICT (conversation_id, kind) DO NOTHING
"""
CLAIM_AUTO_REPLY = f"{SPEND_AUTO_REPLY.rstrip()} RETURNING kind\n"
LINK_AUTO_REPLY = "UPDATE auto_replies SET message_id = $3 WHERE conversation_id = $1 AND kind = $2"
SET_DISCRETION = "UPDATE contacts SET discretion = $2 WHERE id = $1"
SET_ANONYMITY = "UPDATE contacts SET anonymity = $2 WHERE id = $1"
CONTACT_ADDRESS = """
SELECT c.channel, i.address, t.anonymity, t.discretion, i.display_name FROM conversations c
JOIN channel_identities i ON i.id = c.identity_id
JOIN contacts t ON t.id = c.contact_id WHERE c.id = $1
"""
# --- link: one consulter across channels. Both contacts' rows, locked in id order on PostgreSQL
# (two links at once queue instead of deadlocking); then B's addresses and conversations go to A.
_LINKED_CONTACTS = "SELECT id, anonymity, discretion FROM contacts WHERE id IN ($1, $2) ORDER BY id"
LINKED_CONTACTS = Dialects(postgres=f"{_LINKED_CONTACTS} FOR UPDATE", sqlite=_LINKED_CONTACTS)
MOVE_IDENTITIES = "UPDATE channel_identities SET contact_id = $1 WHERE contact_id = $2"
MOVE_CONVERSATIONS = "UPDATE conversations SET contact_id = $1 WHERE contact_id = $2"
MOVE_FOLLOW_UPS = "UPDATE follow_ups SET contact_id = $1 WHERE contact_id = $2"  # hers too
# The report counts people over conversations and calls together: her calls and referrals are
# the kept contact's now, and her age group is kept where only the merged one had it told.
MOVE_CALLS = "UPDATE calls SET contact_id = $1 WHERE contact_id = $2"
MOVE_REFERRALS = "UPDATE referrals SET contact_id = $1 WHERE contact_id = $2"
KEEP_AGE_GROUP = """
UPDATE contacts SET age_group = (SELECT m.age_group FROM contacts m WHERE m.id = $2)
WHERE id = $1 AND age_group IS NULL
"""
SET_PRIVACY = "UPDATE contacts SET anonymity = $2, discretion = $3 WHERE id = $1"
# The senders come as two parallel lists, channels ($1) and identity hashes ($2): arrays on
# PostgreSQL, JSON arrays on SQLite, where `$2 ->> key` picks the hash at the channel's index
# (a join of two json_each on their keys rescans the second array for each row).
_FACTS = """
SELECT i.channel, i.identity_hash, t.anonymity, t.discretion,
       EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = t.id AND v.status = 'closed')
FROM channel_identities i JOIN contacts t ON t.id = i.contact_id
"""
CONTACT_FACTS = Dialects(
    postgres=_FACTS
    + """JOIN unnest($1::text[], $2::text[]) AS k(channel, identity_hash)
  ON i.channel = k.channel AND i.identity_hash = k.identity_hash
""",
    sqlite=_FACTS
    + """WHERE (i.channel, i.identity_hash) IN (SELECT k.value, $2 ->> k.key FROM json_each($1) k)
""",
)
# The router's hand-off of conversation `c` to the person on call (Store.assign's on_call).
_HANDED_TO_ON_CALL = f"""SELECT 1 FROM events h WHERE h.conversation_id = c.id
  AND h.kind = 'conversation_assigned' AND h.data ->> 'via' = '{events.VIA_ON_CALL}'"""
# Open conversations that never had the auto-reply `kind`: the auto-replier's pending work is
# derivable from them after a restart, since it is only queued after the intake's commit. With
# each, its priority and whether someone has it (an assignee, or a hand-off to the on-call).
UNREPLIED_ARRIVALS = f"""
SELECT c.id, c.channel, c.last_inbound_at, c.priority,
       c.assignee_id IS NOT NULL OR EXISTS ({_HANDED_TO_ON_CALL})
FROM conversations c
WHERE c.status <> 'closed' AND c.last_inbound_at >= $2
  AND NOT EXISTS (SELECT 1 FROM auto_replies a WHERE a.conversation_id = c.id AND a.kind = $1)
ORDER BY c.id
"""
# `->` gives the JSON text of the templates on both (jsonb as text: no codec is set).
DUE_RULE_REPLIES = """
SELECT c.id, c.channel, e.at, e.data -> 'templates' FROM conversations c
JOIN events e ON e.conversation_id = c.id AND e.kind = 'auto_reply_due'
WHERE c.status <> 'closed' AND c.last_inbound_at >= $1
ORDER BY e.id
"""

# The alerted messages of open conversations without the reply `kind` (the safety message): the
# intake stores the alert with the message, the auto-replier queues it after the commit.
UNSENT_SAFETY = """
SELECT c.id, c.channel, m.created_at, e.data ->> 'reason', m.body FROM conversations c
JOIN events e ON e.conversation_id = c.id AND e.kind = 'supervisors_alerted'
JOIN messages m ON m.id = e.message_id
WHERE c.status <> 'closed' AND c.last_inbound_at >= $2
  AND NOT EXISTS (SELECT 1 FROM auto_replies a WHERE a.conversation_id = c.id AND a.kind = $1)
ORDER BY e.id
"""

# Open conversations someone has that the router handed to the person on call at `since` or
# later and that never had the auto-reply `kind` (the on-call message), with what tells her
# language: the rules' routing language, else the words of her first alerted message (of her
# latest message when none was alerted: urgent by a missed response target).
UNSENT_ON_CALL = f"""
SELECT c.id, c.language, COALESCE(
    (SELECT m.body FROM events e JOIN messages m ON m.id = e.message_id
     WHERE e.conversation_id = c.id AND e.kind = 'supervisors_alerted' ORDER BY e.id LIMIT 1),
    (SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'inbound'
     ORDER BY m.id DESC LIMIT 1), '')
FROM conversations c
WHERE c.status <> 'closed' AND c.assignee_id IS NOT NULL
  AND EXISTS ({_HANDED_TO_ON_CALL} AND h.at >= $2)
  AND NOT EXISTS (SELECT 1 FROM auto_replies a WHERE a.conversation_id = c.id AND a.kind = $1)
ORDER BY c.id
"""


async def _contact_of(tx: Tx, conversation_id: ConversationId) -> rows.Row:
    row = await tx.fetchrow(CONVERSATION_CONTACT, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return row


async def claim_auto_reply(
    tx: Tx,
    conversation_id: ConversationId,
    kind: str,
    body: str,
    discreet_body: str,
    now: datetime,
    by_language: ByLanguage = (),
    supersedes: Sequence[str] = (),
) -> Message | None:
    row = await tx.fetchrow(CLAIM_CONTACT, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    channel, status, discretion, language = row
    if status == "closed":
        return None
    if await tx.fetchval(CLAIM_AUTO_REPLY, conversation_id, kind, now) is None:
        return None  # sent before: by this process before a restart, or by another instance
    for spent in supersedes:
        await tx.execute(SPEND_AUTO_REPLY, conversation_id, spent, now)
    # In her language alone where it is known and the text exists in it; else as written
    # (the defaults: Japanese, then English).
    versions = {lang: (plain, discreet) for lang, plain, discreet in by_language}
    body, discreet_body = versions.get(language, (body, discreet_body))
    text = discreet_body if discretion else body
    row = await tx.fetchrow(INSERT_REPLY, conversation_id, channel, text, None, now)
    assert row is not None
    message = rows.message(row, tx.parse_time)
    await tx.execute(INSERT_OUTBOX, message.id, now)
    await tx.execute(LINK_AUTO_REPLY, conversation_id, kind, message.id)
    await events.record(
        tx,
        "auto_reply_queued",
        now,
        conversation_id=conversation_id,
        message_id=message.id,
        data={"kind": kind, "discreet": bool(discretion), "language": language},
    )
    return message


async def contact_address(tx: Tx, conversation_id: ConversationId) -> ContactAddress:
    row = await tx.fetchrow(CONTACT_ADDRESS, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return ContactAddress(
        conversation_id=conversation_id,
        channel=ChannelKind(row[0]),
        address=row[1],
        anonymity=None if row[2] is None else Anonymity(row[2]),
        discretion=bool(row[3]),
        display_name=row[4],
    )


def _mode(value: str | None) -> Anonymity | None:
    return None if value is None else Anonymity(value)


def _arrival(row: rows.Row, parse: rows.TimeParser, templates: Sequence[str] = ()) -> LastArrival:
    return LastArrival(
        conversation_id=ConversationId(row[0]),
        channel=ChannelKind(row[1]),
        received_at=parse(row[2]),
        templates=tuple(templates),
    )


def _unreplied(row: rows.Row, parse: rows.TimeParser) -> LastArrival:
    return LastArrival(
        conversation_id=ConversationId(row[0]),
        channel=ChannelKind(row[1]),
        received_at=parse(row[2]),
        priority=row[3],
        taken=bool(row[4]),
    )


class Policies:
    """The policy operations of both stores (automatic replies, privacy), over `_db`."""

    _db: Database

    async def claim_auto_reply(
        self,
        conversation_id: ConversationId,
        kind: str,
        *,
        body: str,
        discreet_body: str,
        now: datetime,
        by_language: ByLanguage = (),
        supersedes: Sequence[str] = (),
    ) -> Message | None:
        return await self._db.write(
            lambda tx: claim_auto_reply(
                tx, conversation_id, kind, body, discreet_body, now, by_language, supersedes
            )
        )

    async def set_consulter_language(
        self, channel: ChannelKind, identity_hash: str, language: str, *, now: datetime
    ) -> None:
        await self._db.write(
            lambda tx: tx.execute(SET_LANGUAGE, channel.value, identity_hash, language, now)
        )

    async def set_discretion(
        self, conversation_id: ConversationId, discretion: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        async def op(tx: Tx) -> None:
            contact_id = (await _contact_of(tx, conversation_id))[3]
            await tx.execute(SET_DISCRETION, contact_id, discretion)
            kind = "discretion_set" if discretion else "discretion_cleared"
            await events.record(tx, kind, now, actor_id=actor_id, conversation_id=conversation_id)

        await self._db.write(op)

    async def set_anonymity(
        self,
        conversation_id: ConversationId,
        mode: Anonymity | None,
        *,
        actor_id: UserId,
        now: datetime,
    ) -> None:
        value = None if mode is None else mode.value

        async def op(tx: Tx) -> None:
            contact_id = (await _contact_of(tx, conversation_id))[3]
            await tx.execute(SET_ANONYMITY, contact_id, value)
            await events.record(
                tx,
                "anonymity_set",
                now,
                actor_id=actor_id,
                conversation_id=conversation_id,
                data={"mode": value},
            )

        await self._db.write(op)

    async def link_contacts(
        self,
        conversation_id: ConversationId,
        other_id: ConversationId,
        *,
        actor_id: UserId,
        reason: str,
        now: datetime,
    ) -> tuple[ContactId, ContactId]:
        async def op(tx: Tx) -> tuple[ContactId, ContactId]:
            kept = ContactId((await _contact_of(tx, conversation_id))[3])
            merged = ContactId((await _contact_of(tx, other_id))[3])
            if kept == merged:
                raise Conflict(
                    f"conversations {conversation_id} and {other_id} are one consulter's already"
                )
            found = {r[0]: r for r in await tx.fetch(LINKED_CONTACTS, kept, merged)}
            a, b = found[kept], found[merged]
            anonymity = stricter_anonymity(_mode(a[1]), _mode(b[1]))
            discretion = bool(a[2]) or bool(b[2])
            await tx.execute(MOVE_IDENTITIES, kept, merged)
            await tx.execute(MOVE_CONVERSATIONS, kept, merged)
            await tx.execute(MOVE_FOLLOW_UPS, kept, merged)
            await tx.execute(MOVE_CALLS, kept, merged)
            await tx.execute(MOVE_REFERRALS, kept, merged)
            await tx.execute(KEEP_AGE_GROUP, kept, merged)
            value = None if anonymity is None else anonymity.value
            await tx.execute(SET_PRIVACY, kept, value, discretion)
            # Ids and the reason only: never an address (the log is read more widely).
            await events.record(
                tx,
                "contacts_linked",
                now,
                actor_id=actor_id,
                conversation_id=conversation_id,
                data={
                    "contact_id": kept,
                    "merged_contact_id": merged,
                    "linked_conversation_id": other_id,
                    "reason": reason.strip(),
                },
            )
            return kept, merged

        return await self._db.write(op)

    async def contact_facts(
        self, identities: Sequence[tuple[ChannelKind, str]]
    ) -> dict[tuple[ChannelKind, str], ContactFacts]:
        if not identities:
            return {}
        channels, hashes = [c.value for c, _ in identities], [h for _, h in identities]
        found = await self._db.read(lambda tx: tx.fetch(CONTACT_FACTS, channels, hashes))
        return {(ChannelKind(r[0]), r[1]): rows.facts_from_row(r[2], r[3], r[4]) for r in found}

    async def contact_address(self, conversation_id: ConversationId) -> ContactAddress:
        return await self._db.read(lambda tx: contact_address(tx, conversation_id))

    async def due_rule_replies(self, *, since: datetime) -> list[LastArrival]:
        found = await self._db.read(lambda tx: tx.fetch(DUE_RULE_REPLIES, since))
        parse = self._db.parse_time
        return [_arrival(r, parse, json.loads(r[3]) if r[3] else ()) for r in found]

    async def unsent_safety(self, kind: str, *, since: datetime) -> list[UrgentArrival]:
        found = await self._db.read(lambda tx: tx.fetch(UNSENT_SAFETY, kind, since))
        parse = self._db.parse_time
        return [
            UrgentArrival(
                conversation_id=ConversationId(r[0]),
                channel=ChannelKind(r[1]),
                received_at=parse(r[2]),
                category=r[3] or "",
                body=r[4],
            )
            for r in found
        ]

    async def unreplied_arrivals(self, kind: str, *, since: datetime) -> list[LastArrival]:
        found = await self._db.read(lambda tx: tx.fetch(UNREPLIED_ARRIVALS, kind, since))
        return [_unreplied(r, self._db.parse_time) for r in found]

    async def unsent_on_call(self, kind: str, *, since: datetime) -> list[HandedToOnCall]:
        found = await self._db.read(lambda tx: tx.fetch(UNSENT_ON_CALL, kind, since))
        return [
            HandedToOnCall(conversation_id=ConversationId(r[0]), language=r[1], body=r[2])
            for r in found
        ]
