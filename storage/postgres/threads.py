"""Who wrote and where it goes, for PostgreSQL's batch intake (storage.postgres.intake): the
senders' identities and contacts, and each one's open conversation, opened here when there is
none, already assigned when routing at intake gives it to someone. Every insert that a
concurrent writer may race is ON CONFLICT DO NOTHING followed by a look-up of what it committed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from inbox.core.decisions import Assign
from inbox.core.model import NO_LABELS, IntakeLabels
from storage.base import IntakeRouter, KeyedInbound
from storage.intake_plan import first_per_identity, identity_key
from storage.intake_routing import (
    NewConversation,
    Opening,
    Threads,
    assigned_event,
    new_conversation,
    opened_event,
    unassigned_after,
)
from storage.postgres.routing import route_at_intake

Key = tuple[str, str]


class BatchRaced(Exception):
    """Rolls the batch back for PostgresStore to retry: a concurrent writer changed what it
    relied on (a conversation closed under it); the retry sees that writer's rows."""


FIND_IDENTITIES = """
SELECT i.channel, i.identity_hash, i.id, i.contact_id
FROM channel_identities i
JOIN unnest($1::text[], $2::text[]) AS k(channel, identity_hash)
  ON i.channel = k.channel AND i.identity_hash = k.identity_hash
"""
# Contact ids are drawn up front so one statement can pair each contact with its identity;
# the CTE calls nextval, so PostgreSQL evaluates it exactly once (volatile CTEs are not inlined).
# A contact is created only for an identity actually inserted (the foreign key is checked at the
# end of the statement, after both inserts).
INSERT_IDENTITIES = """
WITH k AS (
    SELECT nextval(pg_get_serial_sequence('contacts', 'id')) AS contact_id,
           channel, identity_hash, address, created_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
         AS u(channel, identity_hash, address, created_at)
), i AS (
    INSERT INTO channel_identities (contact_id, channel, identity_hash, address, created_at)
    SELECT contact_id, channel, identity_hash, address, created_at FROM k
    ON CONFLICT (channel, identity_hash) DO NOTHING
    RETURNING channel, identity_hash, id, contact_id
), c AS (
    INSERT INTO contacts (id, created_at)
    SELECT k.contact_id, k.created_at FROM k JOIN i ON i.contact_id = k.contact_id
)
SELECT channel, identity_hash, id, contact_id FROM i
"""
# Each sender's open conversation, locked and changed by her new messages in ONE statement (it
# was three round trips, each a turn of a busy event loop with the rows locked): she writes
# again, so a conversation that waited on her is back in front of a counselor; what the rules
# decided for the new messages raises the priority, adds tags, and sets a skill, team or
# language not set yet (the counselor may have been chosen for it). A sender with no labels
# has NULLs there, which leave the row as it was.
# FOR UPDATE in the CTE: a conversation closed meanwhile drops out (READ COMMITTED re-checks
# `status <> 'closed'` on the row it waited for) instead of receiving the message; locking in
# id order keeps two writers from deadlocking on each other's conversations. The UPDATE then
# changes the locked rows' latest versions; RETURNING gives the status and assignee as the lock
# found them (a 'waiting' one with no assignee is requeued by this batch).
JOIN_OPEN_CONVERSATIONS = """
WITH u AS (
    SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::text[], $5::text[],
                         $6::text[], $7::text[])
         AS u(identity_id, at, priority, skill, team, tags, language)
), o AS (
    SELECT c.id, c.identity_id, c.assignee_id, c.status FROM conversations c
    WHERE c.status <> 'closed' AND c.identity_id IN (SELECT identity_id FROM u)
    ORDER BY c.id
    FOR UPDATE
)
UPDATE conversations c SET
    last_inbound_at = greatest(c.last_inbound_at, u.at),
    updated_at = greatest(c.updated_at, u.at),
    awaiting_since = coalesce(c.awaiting_since, u.at),
    queued_at = CASE WHEN c.status = 'waiting' AND c.assignee_id IS NULL
                     THEN u.at ELSE c.queued_at END,
    status = CASE WHEN c.status <> 'waiting' THEN c.status
                  WHEN c.assignee_id IS NULL THEN 'queued' ELSE 'assigned' END,
    priority = greatest(c.priority, u.priority),
    skill = coalesce(c.skill, u.skill),
    team = coalesce(c.team, u.team),
    language = coalesce(c.language, u.language),
    tags = CASE WHEN u.tags IS NULL THEN c.tags ELSE ARRAY(
        SELECT DISTINCT t FROM unnest(c.tags || ARRAY(
            SELECT jsonb_array_elements_text(u.tags::jsonb))) AS t ORDER BY t) END
FROM o JOIN u ON u.identity_id = o.identity_id
WHERE c.id = o.id
RETURNING o.identity_id, o.id, o.assignee_id, o.status
"""
# The ids of the conversations a batch opens are drawn first, so that routing at intake can
# decide over them before they are written (in their final state, assigned or queued).
DRAW_CONVERSATION_IDS = """
SELECT nextval(pg_get_serial_sequence('conversations', 'id')) FROM generate_series(1, $1)
"""
# Tags travel as JSON text: unnest() would flatten an array of arrays.
# `at` is the identity's first message in the batch, `last` its latest: a conversation opened
# here is written in its final state, not touched again by TOUCH_CONVERSATIONS.
# The columns of intake_routing.NewConversation, in its order.
INSERT_CONVERSATIONS = """
INSERT INTO conversations (id, contact_id, identity_id, channel, status, created_at, updated_at,
                           queued_at, last_inbound_at, priority, skill, team, tags,
                           awaiting_since, language, assignee_id, offered_at)
SELECT id, contact_id, identity_id, channel, status, created_at, updated_at, queued_at,
       last_inbound_at, priority, skill, team,
       ARRAY(SELECT jsonb_array_elements_text(tags::jsonb)), awaiting_since, language,
       assignee_id, offered_at
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
            $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[],
            $10::int[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::text[],
            $16::bigint[], $17::timestamptz[]) WITH ORDINALITY
     AS u(id, contact_id, identity_id, channel, status, created_at, updated_at, queued_at,
          last_inbound_at, priority, skill, team, tags, awaiting_since, language, assignee_id,
          offered_at, ord)
ORDER BY ord
ON CONFLICT (identity_id) WHERE status <> 'closed' DO NOTHING
RETURNING identity_id, id
"""
MARK_ASSIGNED_AT = "UPDATE users SET last_assigned_at = $1 WHERE id = ANY($2::bigint[])"


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to the column arrays that unnest() takes back apart."""
    return [[row[i] for row in rows] for i in range(width)]


def tags_json(labels: IntakeLabels) -> str:
    return json.dumps(sorted(labels.tags), ensure_ascii=False)


async def find_or_create_identities(
    conn: Any, items: list[KeyedInbound], known: dict[Key, tuple[int, int]]
) -> tuple[dict[Key, tuple[int, int]], set[int]]:
    """(channel, identity_hash) -> (identity id, contact id), creating contacts for new senders;
    also the contacts created here. `known`: the identities the batch's look-up found, which
    holds every one of these that existed then (storage.postgres.intake.LOOK_UP)."""
    wanted = {identity_key(i): i for i in reversed(items)}
    found = {key: known[key] for key in wanted if key in known}
    # Sorted by key, so two writers creating the same identities lock them in the same order.
    missing = sorted(
        (key[0], key[1], item.message.sender, item.message.received_at)
        for key, item in wanted.items()
        if key not in found
    )
    created: set[int] = set()
    if missing:
        for r in await conn.fetch(INSERT_IDENTITIES, *columns(missing, 4)):
            found[(r[0], r[1])] = (int(r[2]), int(r[3]))
            created.add(int(r[3]))
        raced = [(m[0], m[1]) for m in missing if (m[0], m[1]) not in found]
        if raced:  # a concurrent writer created these; its rows are committed and visible now
            for r in await conn.fetch(FIND_IDENTITIES, *columns(raced, 2)):
                found[(r[0], r[1])] = (int(r[2]), int(r[3]))
    return found, created


async def find_or_open_conversations(
    conn: Any,
    items: list[KeyedInbound],
    identity_of: dict[Key, tuple[int, int]],
    labels_of: dict[Key, IntakeLabels],
    router: IntakeRouter | None,
    new_contacts: set[int],
) -> Threads:
    """Each identity's open conversation, opening one where there is none: queued, or already
    assigned when `router` gives it to someone. The conversation_opened and _assigned events
    are returned, to go in with the batch's other events."""
    first_item = first_per_identity(items, identity_of)
    last_at: dict[int, datetime] = {}  # identity id -> its latest message in the batch
    for item in items:
        ident = identity_of[identity_key(item)][0]
        at = item.message.received_at
        last_at[ident] = max(last_at.get(ident, at), at)
    labels_of_identity = {identity_of[key][0]: lab for key, lab in labels_of.items()}
    found: dict[int, int] = {}
    unassigned: set[int] = set()
    requeued: set[int] = set()
    # Before routing: what the batch changes in the conversations that existed (a waiting one
    # back in the queue, a priority the rules raise) is what the decision must see.
    await _join_open(
        conn, list(first_item), last_at, labels_of_identity, found, unassigned, requeued
    )
    wanted = [(ident, item) for ident, item in first_item.items() if ident not in found]
    if not wanted:
        return Threads(
            conversation_of=found,
            opened=set(),
            assigned={},
            unassigned=unassigned,
            requeued=requeued,
            opened_events=[],
            assigned_events=[],
        )
    drawn = sorted(r[0] for r in await conn.fetch(DRAW_CONVERSATION_IDS, len(wanted)))
    openings = [
        Opening(
            conversation_id=conv_id,
            contact_id=identity_of[identity_key(item)][1],
            identity_id=ident,
            channel=item.message.channel,
            at=item.message.received_at,
            labels=labels_of.get(identity_key(item), NO_LABELS),
        )
        for (ident, item), conv_id in zip(wanted, drawn, strict=True)
    ]
    assigned: dict[int, Assign] = {}
    now: datetime | None = None
    if router is not None:
        returning = {o.contact_id for o in openings} - new_contacts
        assigned, now = await route_at_intake(conn, router, openings, returning)
    rows = [
        new_conversation(
            o,
            at=o.at,
            last=last_at[o.identity_id],
            given=assigned.get(o.conversation_id),
            now=now or o.at,  # read only for an assigned one, and those have it
            tags=tags_json(o.labels),
        )
        for o in openings
    ]
    inserted = await conn.fetch(INSERT_CONVERSATIONS, *columns(rows, len(NewConversation._fields)))
    opened_ids = {int(r[1]) for r in inserted}
    found.update({int(r[0]): int(r[1]) for r in inserted})
    raced = [o.identity_id for o in openings if o.conversation_id not in opened_ids]
    if raced:  # a concurrent writer opened these; FOR UPDATE waits for it and locks them
        theirs: dict[int, int] = {}
        await _join_open(conn, raced, last_at, labels_of_identity, theirs, unassigned, requeued)
        if len(theirs) < len(raced):
            raise BatchRaced("a conversation another writer opened was closed meanwhile")
        found.update(theirs)
    assigned = {c: a for c, a in assigned.items() if c in opened_ids}
    if assigned:
        await conn.execute(MARK_ASSIGNED_AT, now, sorted({a.user_id for a in assigned.values()}))
    opened = [o for o in openings if o.conversation_id in opened_ids]
    return Threads(
        conversation_of=found,
        opened={o.identity_id for o in opened},
        assigned=assigned,
        unassigned=unassigned_after(opened, assigned, unassigned),
        requeued=requeued,
        opened_events=[opened_event(o.at, o.conversation_id) for o in opened],
        assigned_events=[]
        if now is None  # no routing at intake: nothing was assigned
        else [assigned_event(now, c, a.user_id) for c, a in sorted(assigned.items())],
    )


async def _join_open(
    conn: Any,
    identities: list[int],
    last_at: dict[int, datetime],
    labels_of: dict[int, IntakeLabels],
    found: dict[int, int],
    unassigned: set[int],
    requeued: set[int],
) -> None:
    """The open conversations of these identities, locked and changed by the batch's messages
    (JOIN_OPEN_CONVERSATIONS): each one's id in `found` (identity id -> conversation id), and
    in `unassigned` and `requeued` as the lock found it."""
    rows: list[tuple[Any, ...]] = []
    for ident in identities:
        lab = labels_of.get(ident)
        if lab is None:
            rows.append((ident, last_at[ident], None, None, None, None, None))
        else:
            labels = (lab.priority, lab.skill, lab.team, tags_json(lab), lab.language)
            rows.append((ident, last_at[ident], *labels))
    for r in await conn.fetch(JOIN_OPEN_CONVERSATIONS, *columns(rows, 7)):
        found[int(r[0])] = int(r[1])
        if r[2] is None:
            unassigned.add(int(r[1]))
            if r[3] == "waiting":
                requeued.add(int(r[1]))
