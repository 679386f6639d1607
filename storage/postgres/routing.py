"""Routing and supervision on PostgreSQL: functions over one asyncpg connection inside the
transaction PostgresStore opened (mirrors storage/sqlite_routing.py).

Every change to a counselor's load or availability first locks her users row (FOR NO KEY
UPDATE, in id order), as apply_assignments does, so routers on several instances and a
supervisor's change queue behind each other instead of exceeding a capacity.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from inbox.core.errors import Conflict, NotFound
from inbox.core.model import (
    Assign,
    ChannelKind,
    ConversationId,
    CounselorUpdate,
    QueueDepth,
    UserId,
)
from inbox.core.shifts import anyone_free
from storage.base import IntakeRouter
from storage.intake_routing import Opening, route_openings, routing_failed
from storage.postgres import sql as q
from storage.postgres.pool import CONNECTION_LOST
from storage.routing_rows import (
    agents_from_rows,
    channel_loads,
    counselor_columns,
    fit_assignments,
    waiting_from_rows,
)
from storage.rows import parse_native_time as _parse

ROUTING_PAGE = 1000  # the queue a router round (or routing at intake) looks at

LOCK_USER = "SELECT is_counselor FROM users WHERE id = $1 FOR NO KEY UPDATE"
UPDATE_COUNSELOR = f"UPDATE users SET {{sets}} WHERE id = $1 RETURNING {q.USER_COLUMNS}"
MARK_OPENED = """
WITH c AS (
    UPDATE conversations SET opened_at = $3
    WHERE id = $1 AND assignee_id = $2 AND opened_at IS NULL AND status <> 'closed'
    RETURNING id
), e AS (
    INSERT INTO events (at, kind, actor_id, conversation_id)
    SELECT $3, 'offer_opened', $2, id FROM c
)
SELECT count(*) FROM c
"""
# Back to the queue at its old place (queued_at unchanged), never again to the one who let it
# lapse. SKIP LOCKED: another instance handling the same offers takes the others.
REQUEUE_LAPSED = """
WITH lapsed AS (
    SELECT id, assignee_id FROM conversations
    WHERE status = 'assigned' AND opened_at IS NULL AND offered_at < $1
    ORDER BY offered_at LIMIT $3 FOR UPDATE SKIP LOCKED
), c AS (
    UPDATE conversations SET status = 'queued', assignee_id = NULL, offered_at = NULL,
        updated_at = $2, declined_by = array_append(declined_by, lapsed.assignee_id)
    FROM lapsed WHERE conversations.id = lapsed.id
    RETURNING conversations.id, lapsed.assignee_id
), e AS (
    INSERT INTO events (at, kind, conversation_id, data)
    SELECT $2, 'offer_lapsed', id, jsonb_build_object('user_id', assignee_id) FROM c
)
SELECT id, assignee_id FROM c ORDER BY id
"""
ADD_NOTE = """
INSERT INTO messages (conversation_id, direction, channel, body, author_id, delivery_status,
                      created_at)
VALUES ($1, 'note', $2, $3, $4, 'none', $5)
"""
REQUEUE = f"""
WITH c AS (
    UPDATE conversations SET status = 'queued', assignee_id = NULL, offered_at = NULL,
        opened_at = NULL, updated_at = $2
    WHERE id = $1
    RETURNING {q.CONVERSATION_COLUMNS}
), e AS (
    INSERT INTO events (at, kind, actor_id, conversation_id, data)
    SELECT $2, 'conversation_requeued', $3, id, $4::jsonb FROM c
)
SELECT {q.CONVERSATION_COLUMNS} FROM c
"""
SET_PAUSED = """
WITH s AS (
    INSERT INTO channel_settings (channel, paused, updated_at) VALUES ($1, $2, $3)
    ON CONFLICT (channel) DO UPDATE SET paused = $2, updated_at = $3
)
INSERT INTO events (at, kind, actor_id, data)
VALUES ($3, CASE WHEN $2 THEN 'channel_paused' ELSE 'channel_resumed' END, $4,
        jsonb_build_object('channel', $1::text))
"""
PAUSED = "SELECT channel FROM channel_settings WHERE paused ORDER BY channel"
QUEUE_DEPTH = """
SELECT channel, priority, count(*), min(queued_at) FROM conversations
WHERE status = 'queued' AND assignee_id IS NULL
GROUP BY channel, priority ORDER BY priority DESC, channel
"""


# By the conversations_offers index, as REQUEUE_LAPSED.
ANY_LAPSED = """
SELECT true FROM conversations WHERE status = 'assigned' AND opened_at IS NULL AND offered_at < $1
LIMIT 1
"""
# The latest conversation with an assignee of each contact, as WAITING's continuity reads it.
PREVIOUS_HELPERS = """
SELECT DISTINCT ON (contact_id) contact_id, assignee_id, updated_at FROM conversations
WHERE contact_id = ANY($1::bigint[]) AND assignee_id IS NOT NULL
ORDER BY contact_id, id DESC
"""
# As LOCK_COUNSELORS, but routing at intake never waits for a counselor's row: whoever holds it
# (a router, a supervisor, another instance's intake) may be changing her load, so she is left
# out of this batch and its conversations wait for the router. Never waiting here also means an
# intake that holds conversation rows cannot deadlock with a router that holds users rows.
LOCK_FREE_COUNSELORS = f"{q.LOCK_COUNSELORS.rstrip()} SKIP LOCKED"


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
    loads = channel_loads(await conn.fetch(q.CHANNEL_LOADS))
    agents = agents_from_rows(await conn.fetch(q.AGENTS), loads, _parse)
    if not anyone_free(agents, now):
        return {}
    older = waiting_from_rows(await conn.fetch(q.WAITING, ROUTING_PAGE), _parse)
    if len(older) >= ROUTING_PAGE:
        return {}
    previous = {}
    if returning:
        found = await conn.fetch(PREVIOUS_HELPERS, sorted(returning))
        previous = {int(r[0]): (UserId(r[1]), _parse(r[2])) for r in found}
    wanted = route_openings(
        router,
        agents=agents,
        older=older,
        openings=openings,
        previous=previous,
        paused={r[0] for r in await conn.fetch(PAUSED)},
        now=now,
    )
    if not wanted:
        return {}
    locked = await conn.fetch(LOCK_FREE_COUNSELORS, sorted({a.user_id for a in wanted.values()}))
    available = {r[0] for r in locked if r[1]}
    loads = channel_loads(await conn.fetch(q.LOADS_OF, sorted(available))) if available else {}
    fit = fit_assignments(
        list(wanted.values()), queued=set(wanted), available=available, loads=loads
    )
    return {a.conversation_id: a for a in fit}


async def apply_assignments(conn: Any, assigns: Sequence[Assign], now: datetime) -> list[Assign]:
    # A router round in ONE transaction: counselors, then conversations, then loads (see
    # postgres_sql.LOCK_COUNSELORS for the order).
    conv_ids = sorted({a.conversation_id for a in assigns})
    user_ids = sorted({a.user_id for a in assigns})
    counselors = await conn.fetch(q.LOCK_COUNSELORS, user_ids)
    available = {r[0] for r in counselors if r[1]}
    queued = {r[0] for r in await conn.fetch(q.LOCK_QUEUED, conv_ids)}
    loads = channel_loads(await conn.fetch(q.LOADS_OF, user_ids))
    applied = fit_assignments(assigns, queued=queued, available=available, loads=loads)
    if applied:
        await conn.execute(
            q.APPLY_ASSIGNMENTS,
            [a.conversation_id for a in applied],
            [a.user_id for a in applied],
            now,
            sorted({a.user_id for a in applied}),
        )
    return applied


async def update_counselor(
    conn: Any, user_id: UserId, change: CounselorUpdate, actor_id: UserId, now: datetime
) -> Any:
    is_counselor = await conn.fetchval(LOCK_USER, user_id)
    if is_counselor is None:
        raise NotFound(f"user {user_id} does not exist")
    if not is_counselor:
        raise Conflict(f"user {user_id} is not a counselor")
    columns = counselor_columns(change)
    if not columns:
        return await conn.fetchrow(q.GET_USER, user_id)
    sets = ", ".join(
        f"{name} = ${i}" + ("::jsonb" if isinstance(value, dict) or name == "shift" else "")
        for i, (name, value) in enumerate(columns, start=2)
    )
    params = [json.dumps(value) if isinstance(value, dict) else value for _, value in columns]
    row = await conn.fetchrow(UPDATE_COUNSELOR.format(sets=sets), user_id, *params)
    data = json.dumps({"user_id": user_id, "fields": change.changed()})
    await conn.execute(q.INSERT_EVENT, now, "counselor_updated", actor_id, None, None, data)
    return row


async def mark_opened(
    conn: Any, conversation_id: ConversationId, user_id: UserId, now: datetime
) -> bool:
    return bool(await conn.fetchval(MARK_OPENED, conversation_id, user_id, now))


async def requeue_lapsed_offers(
    conn: Any, offered_before: datetime, now: datetime, limit: int
) -> list[tuple[ConversationId, UserId]]:
    found = await conn.fetch(REQUEUE_LAPSED, offered_before, now, limit)
    return [(ConversationId(r[0]), UserId(r[1])) for r in found]


async def requeue(
    conn: Any,
    conversation_id: ConversationId,
    actor_id: UserId,
    note: str | None,
    now: datetime,
) -> Any:
    row = await conn.fetchrow(q.LOCK_CONVERSATION, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    if row[3] == "closed":
        raise Conflict(f"conversation {conversation_id} is closed")
    if note:
        await conn.execute(ADD_NOTE, conversation_id, row[2], note, actor_id, now)
    data = json.dumps({"from_user_id": row[5], "handover_note": bool(note)})
    return await conn.fetchrow(REQUEUE, conversation_id, now, actor_id, data)


async def set_channel_paused(
    conn: Any, channel: ChannelKind, paused: bool, actor_id: UserId, now: datetime
) -> None:
    await conn.execute(SET_PAUSED, channel.value, paused, now, actor_id)


async def paused_channels(conn: Any) -> frozenset[ChannelKind]:
    return frozenset(ChannelKind(r[0]) for r in await conn.fetch(PAUSED))


async def queue_depth(conn: Any) -> list[QueueDepth]:
    return [
        QueueDepth(channel=ChannelKind(r[0]), priority=r[1], count=r[2], oldest=_parse(r[3]))
        for r in await conn.fetch(QUEUE_DEPTH)
    ]
