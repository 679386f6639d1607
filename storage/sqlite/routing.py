"""Routing and supervision on SQLite: synchronous functions that SqliteStore runs as ONE call
on aiosqlite's thread, each inside its transaction (see SqliteStore._on_db_thread)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from inbox.core.errors import Conflict, NotFound
from inbox.core.model import (
    Assign,
    ChannelKind,
    ConversationId,
    CounselorUpdate,
    QueueDepth,
    RoutingSnapshot,
    UserId,
)
from inbox.core.shifts import anyone_free
from storage.base import IntakeRouter
from storage.intake_routing import Opening, route_openings, routing_failed
from storage.routing_rows import (
    agents_from_rows,
    channel_loads,
    counselor_columns,
    fit_assignments,
    waiting_from_rows,
)
from storage.rows import format_text_time
from storage.rows import parse_text_time as _parse
from storage.sqlite import sql as q

ROUTING_PAGE = 1000

UPDATE_COUNSELOR = "UPDATE users SET {sets} WHERE id = ? AND is_counselor = 1"
MARK_OPENED = """
UPDATE conversations SET opened_at = ?1
WHERE id = ?2 AND assignee_id = ?3 AND opened_at IS NULL AND status <> 'closed'
"""
# By the conversations_offers index, as LAPSED_OFFERS.
ANY_LAPSED = """
SELECT 1 FROM conversations WHERE status = 'assigned' AND opened_at IS NULL AND offered_at < ?
LIMIT 1
"""
LAPSED_OFFERS = """
SELECT id, assignee_id FROM conversations
WHERE status = 'assigned' AND opened_at IS NULL AND offered_at < ? ORDER BY offered_at LIMIT ?
"""
# Back to the queue at its old place (queued_at unchanged), never again to the one who let it lapse.
REQUEUE_LAPSED = """
UPDATE conversations SET status = 'queued', assignee_id = NULL, offered_at = NULL,
    updated_at = ?1,
    declined_by = (SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(declined_by) UNION SELECT ?2))
WHERE id = ?3
"""
REQUEUE = """
UPDATE conversations SET status = 'queued', assignee_id = NULL, offered_at = NULL,
    opened_at = NULL, updated_at = ?1
WHERE id = ?2
"""
SET_PAUSED = """
INSERT INTO channel_settings (channel, paused, updated_at) VALUES (?1, ?2, ?3)
ON CONFLICT (channel) DO UPDATE SET paused = ?2, updated_at = ?3
"""
PAUSED = "SELECT channel FROM channel_settings WHERE paused = 1 ORDER BY channel"
QUEUE_DEPTH = """
SELECT channel, priority, count(*), min(queued_at) FROM conversations
WHERE status = 'queued' AND assignee_id IS NULL
GROUP BY channel, priority ORDER BY priority DESC, channel
"""


def write_event(
    db: sqlite3.Connection,
    kind: str,
    now: datetime,
    *,
    actor_id: int | None = None,
    conversation_id: int | None = None,
    message_id: int | None = None,
    data: dict[str, object] | None = None,
) -> None:
    db.execute(
        q.INSERT_EVENT,
        (
            format_text_time(now),
            kind,
            actor_id,
            conversation_id,
            message_id,
            json.dumps(data or {}),
        ),
    )


def routing_snapshot(db: sqlite3.Connection) -> RoutingSnapshot:
    waiting = db.execute(q.WAITING, (ROUTING_PAGE,)).fetchall()
    agents = db.execute(q.AGENTS).fetchall()
    loads = channel_loads(db.execute(q.CHANNEL_LOADS))
    return RoutingSnapshot(
        waiting=waiting_from_rows(waiting, _parse),
        agents=agents_from_rows(agents, loads, _parse),
    )


# The latest conversation with an assignee of each contact, as WAITING's continuity reads it.
PREVIOUS_HELPERS = """
SELECT x.contact_id, x.assignee_id, x.updated_at FROM conversations x
WHERE x.id IN (
    SELECT (SELECT max(y.id) FROM conversations y
            WHERE y.contact_id = j.value AND y.assignee_id IS NOT NULL)
    FROM json_each(?) AS j)
"""


def route_at_intake(
    db: sqlite3.Connection,
    router: IntakeRouter,
    openings: Sequence[Opening],
    returning: Collection[int],
) -> tuple[dict[int, Assign], datetime]:
    """Routing at intake, inside the writer's transaction: no one else writes meanwhile, so the
    loads read here stay true until the commit. Returns the openings' assignments and the time
    they are made at. Nothing is routed when no one has room (everything waits anyway), when
    more than a page waits already (its order beyond the page is the router's to keep), or when
    a lapsed offer waits to be taken back (a round does that first). A
    failure other than the database's leaves the openings queued (intake_routing.routing_failed).
    """
    now = router.clock()
    try:
        return _route_at_intake(db, router, openings, returning, now), now
    except sqlite3.Error:
        raise  # the database's trouble: the batch fails, and its sources retry
    except Exception:  # noqa: BLE001  routing_failed logs it, with the traceback
        routing_failed(len(openings))
        return {}, now


def _route_at_intake(
    db: sqlite3.Connection,
    router: IntakeRouter,
    openings: Sequence[Opening],
    returning: Collection[int],
    now: datetime,
) -> dict[int, Assign]:
    lapsed = router.lapsed_before(now)
    if lapsed is not None and db.execute(ANY_LAPSED, (format_text_time(lapsed),)).fetchone():
        return {}
    loads = channel_loads(db.execute(q.CHANNEL_LOADS))
    agents = agents_from_rows(db.execute(q.AGENTS).fetchall(), loads, _parse)
    if not anyone_free(agents, now):
        return {}
    older = waiting_from_rows(db.execute(q.WAITING, (ROUTING_PAGE,)).fetchall(), _parse)
    if len(older) >= ROUTING_PAGE:
        return {}
    previous = {}
    if returning:
        found = db.execute(PREVIOUS_HELPERS, (json.dumps(sorted(returning)),))
        previous = {int(r[0]): (UserId(r[1]), _parse(r[2])) for r in found}
    return route_openings(
        router,
        agents=agents,
        older=older,
        openings=openings,
        previous=previous,
        paused={r[0] for r in db.execute(PAUSED)},
        now=now,
    )


def apply_assignments(
    db: sqlite3.Connection, assigns: Sequence[Assign], now: datetime
) -> list[Assign]:
    conv_ids = json.dumps([a.conversation_id for a in assigns])
    user_ids = json.dumps(sorted({a.user_id for a in assigns}))
    queued = {int(r[0]) for r in db.execute(q.STILL_QUEUED, (conv_ids,))}
    available = {int(r[0]) for r in db.execute(q.AVAILABLE_COUNSELORS, (user_ids,))}
    loads = channel_loads(db.execute(q.LOAD_OF, (user_ids,)))
    applied = fit_assignments(assigns, queued=queued, available=available, loads=loads)
    if applied:
        at = format_text_time(now)
        pairs = json.dumps([[a.conversation_id, a.user_id] for a in applied])
        db.execute(q.APPLY_ASSIGNMENTS, (at, pairs))
        db.execute(q.MARK_ASSIGNED_AT, (at, json.dumps(sorted({a.user_id for a in applied}))))
        db.execute(q.INSERT_ASSIGNED_EVENTS, (at, pairs))
    return applied


def _encode(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def update_counselor(
    db: sqlite3.Connection,
    user_id: UserId,
    change: CounselorUpdate,
    actor_id: UserId,
    now: datetime,
) -> sqlite3.Row:
    columns = counselor_columns(change)
    if columns:
        sets = ", ".join(f"{name} = ?" for name, _ in columns)
        params = [_encode(value) for _, value in columns]
        cur = db.execute(UPDATE_COUNSELOR.format(sets=sets), (*params, user_id))
        if cur.rowcount == 0:
            _missing_counselor(db, user_id)
        write_event(
            db,
            "counselor_updated",
            now,
            actor_id=actor_id,
            data={"user_id": user_id, "fields": change.changed()},
        )
    row: sqlite3.Row | None = db.execute(q.GET_USER, (user_id,)).fetchone()
    if row is None:
        raise NotFound(f"user {user_id} does not exist")
    return row


def _missing_counselor(db: sqlite3.Connection, user_id: UserId) -> None:
    if db.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
        raise NotFound(f"user {user_id} does not exist")
    raise Conflict(f"user {user_id} is not a counselor")


def mark_opened(
    db: sqlite3.Connection, conversation_id: ConversationId, user_id: UserId, now: datetime
) -> bool:
    cur = db.execute(MARK_OPENED, (format_text_time(now), conversation_id, user_id))
    if cur.rowcount:
        write_event(db, "offer_opened", now, actor_id=user_id, conversation_id=conversation_id)
    return bool(cur.rowcount)


def requeue_lapsed_offers(
    db: sqlite3.Connection, offered_before: datetime, now: datetime, limit: int
) -> list[tuple[ConversationId, UserId]]:
    lapsed = [
        (ConversationId(r[0]), UserId(r[1]))
        for r in db.execute(LAPSED_OFFERS, (format_text_time(offered_before), limit))
    ]
    at = format_text_time(now)
    db.executemany(REQUEUE_LAPSED, [(at, user, conv) for conv, user in lapsed])
    for conv, user in lapsed:
        write_event(db, "offer_lapsed", now, conversation_id=conv, data={"user_id": user})
    return lapsed


def requeue(
    db: sqlite3.Connection,
    conversation_id: ConversationId,
    actor_id: UserId,
    note: str | None,
    now: datetime,
) -> sqlite3.Row:
    row = db.execute(q.GET_CONVERSATION, (conversation_id,)).fetchone()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    if row[3] == "closed":
        raise Conflict(f"conversation {conversation_id} is closed")
    at = format_text_time(now)
    if note:
        db.execute(
            q.INSERT_MESSAGE,
            (conversation_id, "note", row[2], note, actor_id, "none", at),
        ).fetchall()
    db.execute(REQUEUE, (at, conversation_id))
    write_event(
        db,
        "conversation_requeued",
        now,
        actor_id=actor_id,
        conversation_id=conversation_id,
        data={"from_user_id": row[5], "handover_note": bool(note)},
    )
    found: sqlite3.Row | None = db.execute(q.GET_CONVERSATION, (conversation_id,)).fetchone()
    assert found is not None
    return found


def set_channel_paused(
    db: sqlite3.Connection, channel: ChannelKind, paused: bool, actor_id: UserId, now: datetime
) -> None:
    db.execute(SET_PAUSED, (channel.value, int(paused), format_text_time(now)))
    kind = "channel_paused" if paused else "channel_resumed"
    write_event(db, kind, now, actor_id=actor_id, data={"channel": channel.value})


def paused_channels(db: sqlite3.Connection) -> frozenset[ChannelKind]:
    return frozenset(ChannelKind(r[0]) for r in db.execute(PAUSED))


def queue_depth(db: sqlite3.Connection) -> list[QueueDepth]:
    return [
        QueueDepth(channel=ChannelKind(r[0]), priority=r[1], count=r[2], oldest=_parse(r[3]))
        for r in db.execute(QUEUE_DEPTH)
    ]
