"""The router's snapshot and apply on PostgreSQL, and routing at intake: hand-written for speed
(the twin of storage/sqlite/routing.py); the rest of the RoutingStore is written once, in
storage.assignment.

Every change to a counselor's load or availability first locks her users row (FOR NO KEY
UPDATE, in id order), as apply_assignments does, so routers on several instances and a
supervisor's change queue behind each other instead of exceeding a capacity.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from inbox.core.decisions import Assign, RoutingSnapshot
from inbox.core.model import UserId
from inbox.core.shifts import anyone_free
from storage import events
from storage.assignment import PAUSED
from storage.base import IntakeRouter
from storage.intake_routing import (
    Opening,
    assigned_event,
    phone_contacts,
    route_openings,
    routing_failed,
)
from storage.postgres.database import PgTx
from storage.postgres.pool import CONNECTION_LOST
from storage.routing_rows import (
    LOADS,
    agents_from_rows,
    channel_loads,
    fit_assignments,
    staff_roles,
    waiting_from_rows,
)
from storage.rows import parse_native_time as _parse

# The queue as the router sees it: paused channels left out, and for continuity the helper of
# the contact's latest earlier conversation on the same side that had one (her counselor for a
# chat, phone staff for a call: a logged call must not hide her counselor from her next chat);
# for a callback (a phone conversation) its due time and the window she allowed (looked up for
# phone conversations only). A follow-up's task (storage.follow_ups) is offered first to the
# follow-up's counselor, however long ago she last helped her (no continuity_days: no time).
WAITING = """
SELECT c.id, c.channel, c.priority, c.queued_at, c.skill, c.team, c.language, c.declined_by,
       coalesce(f.counselor_id, p.assignee_id),
       CASE WHEN f.counselor_id IS NULL THEN p.updated_at END, c.callback_due_at,
       CASE WHEN c.channel = 'phone'
            THEN (SELECT k.call_window FROM contacts k WHERE k.id = c.contact_id) END
FROM conversations c
LEFT JOIN LATERAL (
    SELECT x.assignee_id, x.updated_at FROM conversations x
    WHERE x.contact_id = c.contact_id AND x.id < c.id AND x.assignee_id IS NOT NULL
      AND (x.channel = 'phone') = (c.channel = 'phone')
    ORDER BY x.id DESC LIMIT 1) p ON true
LEFT JOIN LATERAL (
    SELECT y.counselor_id FROM follow_ups y
    WHERE y.conversation_id = c.id AND y.status = 'due' AND y.counselor_id IS NOT NULL
    ORDER BY y.id DESC LIMIT 1) f ON true
WHERE c.status = 'queued' AND c.assignee_id IS NULL
  AND c.channel NOT IN (SELECT channel FROM channel_settings WHERE paused)
ORDER BY c.priority DESC, c.queued_at, c.id LIMIT $1
"""
# Counselors and phone staff: who takes which channel is the router's (takes_channel).
AGENTS = """
SELECT id, capacity, presence, shift, skills, languages, teams, channel_capacity,
       last_assigned_at, is_counselor, is_phone_staff
FROM users WHERE (is_counselor OR is_phone_staff) AND NOT disabled ORDER BY id
"""
CHANNEL_LOADS = LOADS.postgres  # storage.routing_rows.LOADS
# A router round in ONE transaction: the counselors first, in id order (as `assign` does), so two
# routers or a router and a supervisor queue behind each other instead of deadlocking; then the
# still-queued conversations; then the loads, counted in a statement whose snapshot is taken
# after both locks were granted, so it includes everything the previous lock holder committed.
# With her roles, as stored: the re-check gives a phone conversation only to phone staff.
LOCK_COUNSELORS = """
SELECT id, is_counselor, is_phone_staff, presence = 'available' FROM users
WHERE id = ANY($1::bigint[]) AND (is_counselor OR is_phone_staff) AND NOT disabled
ORDER BY id FOR NO KEY UPDATE
"""
# NO KEY UPDATE, the lock the UPDATE itself takes: it waits for writers of these rows (intake,
# `assign`, `close`, another router) but not for inserts that merely reference them (a note, an
# event), whose foreign-key checks take KEY SHARE. A callback rescheduled since the snapshot (a
# try logged: callback_due_at moved on) is not due any more, so it is not offered now ($2).
LOCK_QUEUED = """
SELECT id, channel FROM conversations
WHERE id = ANY($1::bigint[]) AND status = 'queued' AND assignee_id IS NULL
  AND (callback_due_at IS NULL OR callback_due_at <= $2)
ORDER BY id FOR NO KEY UPDATE
"""
LOADS_OF = """
SELECT assignee_id, channel, count(*) FROM conversations
WHERE assignee_id = ANY($1::bigint[]) AND status IN ('assigned', 'waiting')
GROUP BY assignee_id, channel
"""
# $1, $2: the assignments that passed the re-check, as parallel arrays; $4: their counselors.
APPLY_ASSIGNMENTS = """
WITH c AS (
    UPDATE conversations SET assignee_id = a.user_id, status = 'assigned', updated_at = $3,
                             offered_at = $3, opened_at = NULL
    FROM unnest($1::bigint[], $2::bigint[]) AS a(conversation_id, user_id)
    WHERE conversations.id = a.conversation_id
    RETURNING conversations.id, a.user_id
)
UPDATE users SET last_assigned_at = $3 WHERE id = ANY($4::bigint[])
"""

ROUTING_PAGE = 1000  # the queue a router round (or routing at intake) looks at


# By the conversations_offers index, as REQUEUE_LAPSED.
ANY_LAPSED = """
SELECT true FROM conversations WHERE status = 'assigned' AND opened_at IS NULL AND offered_at < $1
LIMIT 1
"""
# The latest conversation with an assignee of each contact on each side (phone or not), as
# WAITING's continuity reads it.
PREVIOUS_HELPERS = """
SELECT DISTINCT ON (contact_id, channel = 'phone')
       contact_id, channel = 'phone', assignee_id, updated_at FROM conversations
WHERE contact_id = ANY($1::bigint[]) AND assignee_id IS NOT NULL
ORDER BY contact_id, channel = 'phone', id DESC
"""
# As LOCK_COUNSELORS, but routing at intake never waits for a counselor's row: whoever holds it
# (a router, a supervisor, another instance's intake) may be changing her load, so she is left
# out of this batch and its conversations wait for the router. Never waiting here also means an
# intake that holds conversation rows cannot deadlock with a router that holds users rows.
LOCK_FREE_COUNSELORS = f"{LOCK_COUNSELORS.rstrip()} SKIP LOCKED"


# The call windows of some contacts (storage.intake_routing.phone_contacts).
CALL_WINDOWS = """
SELECT id, call_window FROM contacts WHERE id = ANY($1::bigint[]) AND call_window IS NOT NULL
"""


async def route_at_intake(
    conn: Any, router: IntakeRouter, openings: Sequence[Opening], returning: Collection[int]
) -> tuple[dict[int, Assign], datetime]:
    """Routing at intake inside the batch's transaction, with apply_assignments' re-check: the
    chosen counselors locked (SKIP LOCKED), their loads counted after the lock, and only the
    assignments that still fit kept. Nothing is routed when no one has room, when more than a
    page waits already (its order beyond the page is the router's to keep), or when a lapsed
    offer waits to be taken back (a round does that first). A failure other
    than the database's leaves the openings queued (intake_routing.routing_failed)."""
    now = router.clock()
    try:
        return await _route_at_intake(conn, router, openings, returning, now), now
    except (asyncpg.PostgresError, asyncpg.InterfaceError, *CONNECTION_LOST):
        raise  # the database's trouble: the batch fails (or is retried), its sources retry
    except Exception:  # noqa: BLE001  routing_failed logs it, with the traceback
        routing_failed(len(openings))
        return {}, now


async def _route_at_intake(
    conn: Any,
    router: IntakeRouter,
    openings: Sequence[Opening],
    returning: Collection[int],
    now: datetime,
) -> dict[int, Assign]:
    lapsed = router.lapsed_before(now)
    if lapsed is not None and await conn.fetchval(ANY_LAPSED, lapsed):
        return {}
    loads = channel_loads(await conn.fetch(CHANNEL_LOADS))
    agents = agents_from_rows(await conn.fetch(AGENTS), loads, _parse)
    if not anyone_free(agents, now, closed=router.closed_day):
        return {}
    older = waiting_from_rows(await conn.fetch(WAITING, ROUTING_PAGE), _parse)
    if len(older) >= ROUTING_PAGE:
        return {}
    previous = {}
    if returning:
        found = await conn.fetch(PREVIOUS_HELPERS, sorted(returning))
        previous = {(int(r[0]), bool(r[1])): (UserId(r[2]), _parse(r[3])) for r in found}
    phoned = phone_contacts(openings)
    windows = {}
    if phoned:
        windows = {int(r[0]): str(r[1]) for r in await conn.fetch(CALL_WINDOWS, phoned)}
    wanted = route_openings(
        router,
        agents=agents,
        older=older,
        openings=openings,
        previous=previous,
        paused={r[0] for r in await conn.fetch(PAUSED)},
        now=now,
        windows=windows,
    )
    if not wanted:
        return {}
    locked = await conn.fetch(LOCK_FREE_COUNSELORS, sorted({a.user_id for a in wanted.values()}))
    available = staff_roles(r for r in locked if r[3])
    loads = channel_loads(await conn.fetch(LOADS_OF, sorted(available))) if available else {}
    # the openings' channels: this batch's own rows, not yet visible to anyone else
    queued = {o.conversation_id: str(o.channel) for o in openings if o.conversation_id in wanted}
    fit = fit_assignments(list(wanted.values()), queued=queued, available=available, loads=loads)
    return {a.conversation_id: a for a in fit}


async def routing_snapshot(conn: Any) -> RoutingSnapshot:
    waiting = await conn.fetch(WAITING, ROUTING_PAGE)
    agents = await conn.fetch(AGENTS)
    loads = channel_loads(await conn.fetch(CHANNEL_LOADS))
    return RoutingSnapshot(
        waiting=waiting_from_rows(waiting, _parse),
        agents=agents_from_rows(agents, loads, _parse),
    )


async def apply_assignments(conn: Any, assigns: Sequence[Assign], now: datetime) -> list[Assign]:
    # A router round in ONE transaction: counselors, then conversations, then loads (see
    # LOCK_COUNSELORS for the order).
    conv_ids = sorted({a.conversation_id for a in assigns})
    user_ids = sorted({a.user_id for a in assigns})
    counselors = await conn.fetch(LOCK_COUNSELORS, user_ids)
    available = staff_roles(r for r in counselors if r[3])
    queued = {r[0]: r[1] for r in await conn.fetch(LOCK_QUEUED, conv_ids, now)}
    loads = channel_loads(await conn.fetch(LOADS_OF, user_ids))
    applied = fit_assignments(assigns, queued=queued, available=available, loads=loads)
    if applied:
        await conn.execute(
            APPLY_ASSIGNMENTS,
            [a.conversation_id for a in applied],
            [a.user_id for a in applied],
            now,
            sorted({a.user_id for a in applied}),
        )
        await events.record_many(
            PgTx(conn),
            [
                assigned_event(now, a.conversation_id, a.user_id)
                for a in sorted(applied, key=lambda a: a.conversation_id)
            ],
        )
    return applied
