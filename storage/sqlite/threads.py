"""Finding or opening each batch's contacts, identities and conversations on SQLite (the twin
of storage/postgres/threads.py): synchronous, inside the intake's write transaction.
"""

from __future__ import annotations

import json
import sqlite3

from inbox.core.decisions import Assign
from inbox.core.model import NO_LABELS, IntakeLabels
from storage.base import IntakeRouter, KeyedInbound
from storage.events import EventRow
from storage.intake_plan import identity_key
from storage.intake_routing import (
    NewConversation,
    Opening,
    Threads,
    assigned_event,
    new_conversation,
    opened_event,
    unassigned_after,
)
from storage.rows import format_text_time
from storage.sqlite.bulk import Insert, insert_rows
from storage.sqlite.routing import route_at_intake

FIND_IDENTITIES = """
SELECT channel, identity_hash, id, contact_id FROM channel_identities
WHERE (channel, identity_hash) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))
"""
# New rows get their ids here, from max(id) + 1: the batch runs under BEGIN IMMEDIATE, so no one
# else writes meanwhile, and inserts with known ids are as fast as the plain insert baseline
# (json_each with RETURNING re-parses each row once per column).
NEXT_IDS = """
SELECT (SELECT coalesce(max(id), 0) FROM contacts), (SELECT coalesce(max(id), 0) FROM
channel_identities), (SELECT coalesce(max(id), 0) FROM conversations),
(SELECT coalesce(max(id), 0) FROM messages)
"""
INSERT_CONTACTS = Insert("INSERT INTO contacts (id, created_at) VALUES ", "(?, ?)")
INSERT_IDENTITIES = Insert(
    "INSERT INTO channel_identities (id, contact_id, channel, identity_hash, address, created_at)"
    " VALUES ",
    "(?, ?, ?, ?, ?, ?)",
)
FIND_OPEN_CONVERSATIONS = """
SELECT identity_id, id, assignee_id, status FROM conversations
WHERE status <> 'closed' AND identity_id IN (SELECT value FROM json_each(?))
"""
# Status 'queued', or 'assigned' with assignee and offered_at when routing at intake gave it
# to someone (the state a router round would leave it in).
INSERT_CONVERSATIONS = Insert(
    "INSERT INTO conversations (id, contact_id, identity_id, channel, status, created_at,"
    " updated_at, queued_at, last_inbound_at, priority, skill, team, tags, awaiting_since,"
    " language, assignee_id, offered_at) VALUES ",
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
)
MARK_ASSIGNED_AT = "UPDATE users SET last_assigned_at = ? WHERE id = ?"
# A consulter writing again puts a conversation that waited on her back in front of a counselor.
TOUCH_CONVERSATION = """
UPDATE conversations SET
    last_inbound_at = max(coalesce(last_inbound_at, ?1), ?1),
    updated_at = max(updated_at, ?1),
    awaiting_since = coalesce(awaiting_since, ?1),
    queued_at = CASE WHEN status = 'waiting' AND assignee_id IS NULL THEN ?1 ELSE queued_at END,
    status = CASE WHEN status <> 'waiting' THEN status
                  WHEN assignee_id IS NULL THEN 'queued' ELSE 'assigned' END
WHERE id = ?2
"""
# What the rules decided for the new messages: priority only rises, tags only add, and a skill
# team or language already set stays (the counselor may have been chosen for it).
LABEL_CONVERSATION = """
UPDATE conversations SET
    priority = max(priority, ?1),
    skill = coalesce(skill, ?2),
    team = coalesce(team, ?3),
    language = coalesce(language, ?6),
    tags = (SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(tags) UNION SELECT value FROM json_each(?4)))
WHERE id = ?5
"""


def rows_of(db: sqlite3.Connection, sql: str, payload: object) -> list[sqlite3.Row]:
    """The rows of a look-up that takes its keys as one JSON parameter (json_each)."""
    return db.execute(sql, (json.dumps(payload, ensure_ascii=False),)).fetchall()


def _tags(labels: IntakeLabels) -> str:
    if not labels.tags:
        return "[]"
    return json.dumps(sorted(labels.tags), ensure_ascii=False)


class NextIds:
    """The next free id per table, handed out in order."""

    def __init__(self, contacts: int, identities: int, conversations: int, messages: int) -> None:
        self._last = {
            "contacts": contacts,
            "identities": identities,
            "conversations": conversations,
            "messages": messages,
        }

    def take(self, table: str) -> int:
        self._last[table] += 1
        return self._last[table]

    def take_many(self, table: str, n: int) -> int:
        """Reserve n ids in a row; returns the one before the first."""
        before = self._last[table]
        self._last[table] += n
        return before


def find_or_create_identities(
    db: sqlite3.Connection, items: list[KeyedInbound], ats: list[str], next_id: NextIds
) -> tuple[dict[tuple[str, str], tuple[int, int]], set[int]]:
    """(channel, identity_hash) -> (identity id, contact id), creating contacts for new senders;
    also the contacts created here. `ats`: the items' times, as stored."""
    wanted: dict[tuple[str, str], tuple[KeyedInbound, str]] = {}
    for item, at in zip(items, ats, strict=True):
        wanted.setdefault(identity_key(item), (item, at))
    found = {
        (r[0], r[1]): (int(r[2]), int(r[3])) for r in rows_of(db, FIND_IDENTITIES, list(wanted))
    }
    missing = [(key, item, at) for key, (item, at) in wanted.items() if key not in found]
    contact_id = next_id.take_many("contacts", len(missing))
    ident = next_id.take_many("identities", len(missing))
    contacts: list[tuple[int, str]] = []
    identities: list[tuple[object, ...]] = []
    for key, item, at in missing:
        contact_id, ident = contact_id + 1, ident + 1
        contacts.append((contact_id, at))
        identities.append((ident, contact_id, key[0], key[1], item.message.sender, at))
        found[key] = (ident, contact_id)
    if contacts:
        insert_rows(db, INSERT_CONTACTS, contacts)
        insert_rows(db, INSERT_IDENTITIES, identities)
    return found, {c[0] for c in contacts}


def find_or_open_conversations(
    db: sqlite3.Connection,
    items: list[KeyedInbound],
    idents: list[int],
    ats: list[str],
    identity_of: dict[tuple[str, str], tuple[int, int]],
    last_at: dict[int, str],
    labels_of: dict[tuple[str, str], IntakeLabels],
    next_id: NextIds,
    router: IntakeRouter | None,
    new_contacts: set[int],
) -> Threads:
    """Each identity's open conversation, opening one where there is none: queued, or already
    assigned when `router` gives it to someone. `idents`, `ats`: each item's identity id and
    time as stored."""
    first_item: dict[int, tuple[KeyedInbound, str]] = {}  # identity id -> its first message
    for ident, item, at in zip(idents, items, ats, strict=True):
        if ident not in first_item:
            first_item[ident] = (item, at)
    found: dict[int, int] = {}
    unassigned_before: set[int] = set()
    requeued: set[int] = set()
    for r in rows_of(db, FIND_OPEN_CONVERSATIONS, list(first_item)):
        found[int(r[0])] = int(r[1])
        if r[2] is None:
            unassigned_before.add(int(r[1]))
            if r[3] == "waiting":
                requeued.add(int(r[1]))
    # Before routing: what the batch changes in the conversations that existed (a waiting one
    # back in the queue, a priority the rules raise) is what the decision must see.
    _touch_and_label(db, found, last_at, labels_of, identity_of)
    openings: list[Opening] = []
    opened_at: list[str] = []
    conv_id = next_id.take_many("conversations", len(first_item) - len(found))
    for ident, (item, at) in first_item.items():
        if ident in found:
            continue
        conv_id += 1
        found[ident] = conv_id
        msg, key = item.message, identity_key(item)
        labels = labels_of.get(key, NO_LABELS)
        openings.append(
            Opening(conv_id, identity_of[key][1], ident, msg.channel, msg.received_at, labels)
        )
        opened_at.append(at)
    assigned: dict[int, Assign] = {}
    now = ""
    if router is not None and openings:
        returning = {o.contact_id for o in openings} - new_contacts
        assigned, routed_at = route_at_intake(db, router, openings, returning)
        now = format_text_time(routed_at)
    rows: list[NewConversation] = []
    opened: list[EventRow] = []
    assigned_events: list[EventRow] = []
    for o, at in zip(openings, opened_at, strict=True):
        given = assigned.get(o.conversation_id)
        last, tags = last_at[o.identity_id], _tags(o.labels)
        rows.append(new_conversation(o, at=at, last=last, given=given, now=now, tags=tags))
        opened.append(opened_event(at, o.conversation_id))
        if given is not None:
            assigned_events.append(assigned_event(now, o.conversation_id, given.user_id))
    insert_rows(db, INSERT_CONVERSATIONS, rows)
    if assigned:
        users = sorted({a.user_id for a in assigned.values()})
        db.executemany(MARK_ASSIGNED_AT, [(now, u) for u in users])
    return Threads(
        conversation_of=found,
        opened={o.identity_id for o in openings},
        assigned=assigned,
        unassigned=unassigned_after(openings, assigned, unassigned_before),
        requeued=requeued,
        opened_events=opened,
        assigned_events=assigned_events,
    )


def _touch_and_label(
    db: sqlite3.Connection,
    found: dict[int, int],
    last_at: dict[int, str],
    labels_of: dict[tuple[str, str], IntakeLabels],
    identity_of: dict[tuple[str, str], tuple[int, int]],
) -> None:
    """The new messages' effect on the conversations they join (identity id -> `found`)."""
    if not found:
        return
    db.executemany(TOUCH_CONVERSATION, [(last_at[ident], conv) for ident, conv in found.items()])
    labelled = [
        (
            *(labels.priority, labels.skill, labels.team, _tags(labels)),
            *(found[ident], labels.language),
        )
        for key, labels in labels_of.items()
        if (ident := identity_of[key][0]) in found
    ]
    if labelled:
        db.executemany(LABEL_CONVERSATION, labelled)
