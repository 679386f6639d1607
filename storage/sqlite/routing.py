"""The router's snapshot and apply on SQLite, and routing at intake: hand-written for speed,
synchronous functions that run as ONE call on aiosqlite's thread inside their transaction
(storage.sqlite.database.SqliteDatabase.on_db_thread). The rest of the RoutingStore is written
once, in storage.assignment."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime

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
from storage.routing_rows import (
    LOADS,
    agents_from_rows,
    channel_loads,
    fit_assignments,
    staff_roles,
    waiting_from_rows,
)
from storage.rows import format_text_time
from storage.rows import parse_text_time as _parse
from storage.sql import run_sync
from storage.sqlite.database import SqliteTx

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
LEFT JOIN conversations p ON p.id = (
    SELECT max(x.id) FROM conversations x
    WHERE x.contact_id = c.contact_id AND x.id < c.id AND x.assignee_id IS NOT NULL
      AND (x.channel = 'phone') = (c.channel = 'phone'))
LEFT JOIN follow_ups f ON f.id = (
    SELECT max(y.id) FROM follow_ups y
    WHERE y.conversation_id = c.id AND y.status = 'due' AND y.counselor_id IS NOT NULL)
WHERE c.status = 'queued' AND c.assignee_id IS NULL
  AND c.channel NOT IN (SELECT channel FROM channel_settings WHERE paused = 1)
ORDER BY c.priority DESC, c.queued_at, c.id LIMIT ?
"""
# Counselors and phone staff: who takes which channel is the router's (takes_channel).
AGENTS = """
SELECT id, capacity, presence, shift, skills, languages, teams, channel_capacity,
       last_assigned_at, is_counselor, is_phone_staff
FROM users WHERE (is_counselor = 1 OR is_phone_staff = 1) AND disabled = 0 ORDER BY id
"""
CHANNEL_LOADS = LOADS.sqlite  # storage.routing_rows.LOADS
# Each id looked up by its key: left to itself the planner reads the whole queue by status.
# With its channel as stored: the re-check gives a phone conversation only to phone staff. A
# callback rescheduled since the snapshot (a try logged: callback_due_at moved on) is not due
# any more, so it is not offered now (?2: the round's time).
STILL_QUEUED = """
SELECT c.id, c.channel FROM json_each(?1) AS j CROSS JOIN conversations c ON c.id = j.value
WHERE c.status = 'queued' AND c.assignee_id IS NULL
  AND (c.callback_due_at IS NULL OR c.callback_due_at <= ?2)
"""
ENABLED_COUNSELORS = """
SELECT id, is_counselor, is_phone_staff FROM users
WHERE (is_counselor = 1 OR is_phone_staff = 1) AND disabled = 0
AND id IN (SELECT value FROM json_each(?))
"""
# The router gives work only to counselors who are available now (presence may have changed
# since the snapshot); a supervisor's `assign` may still choose anyone enabled.
AVAILABLE_COUNSELORS = f"{ENABLED_COUNSELORS} AND presence = 'available'"
# As CHANNEL_LOADS, for some counselors; the planner would read all queued rows by status.
LOAD_OF = """
SELECT assignee_id, channel, count(*) FROM conversations INDEXED BY conversations_load_by_channel
WHERE status IN ('assigned', 'waiting') AND assignee_id IN (SELECT value FROM json_each(?))
GROUP BY assignee_id, channel
"""
# The assignments that passed the re-check, as one JSON array of [conversation id, user id]
# pairs (?2): one statement per step instead of one per assignment. Events in that order;
# MARK_ASSIGNED_AT takes the user ids among them.
APPLY_ASSIGNMENTS = """
UPDATE conversations SET assignee_id = a.value ->> 1, status = 'assigned', updated_at = ?1,
                         offered_at = ?1, opened_at = NULL
FROM json_each(?2) AS a WHERE conversations.id = a.value ->> 0
"""
MARK_ASSIGNED_AT = """
UPDATE users SET last_assigned_at = ?1 WHERE id IN (SELECT value FROM json_each(?2))
"""

ROUTING_PAGE = 1000

# By the conversations_offers index, as LAPSED_OFFERS.
ANY_LAPSED = """
SELECT 1 FROM conversations WHERE status = 'assigned' AND opened_at IS NULL AND offered_at < ?
LIMIT 1
"""


def routing_snapshot(db: sqlite3.Connection) -> RoutingSnapshot:
    waiting = db.execute(WAITING, (ROUTING_PAGE,)).fetchall()
    agents = db.execute(AGENTS).fetchall()
    loads = channel_loads(db.execute(CHANNEL_LOADS))
    return RoutingSnapshot(
        waiting=waiting_from_rows(waiting, _parse),
        agents=agents_from_rows(agents, loads, _parse),
    )


# The latest conversation with an assignee of each contact on each side (phone or not), as
# WAITING's continuity reads it.
PREVIOUS_HELPERS = """
SELECT x.contact_id, x.channel = 'phone', x.assignee_id, x.updated_at FROM conversations x
WHERE x.id IN (
    SELECT (SELECT max(y.id) FROM conversations y
            WHERE y.contact_id = j.value AND y.assignee_id IS NOT NULL AND y.channel = 'phone')
    FROM json_each(?1) AS j
    UNION ALL
    SELECT (SELECT max(y.id) FROM conversations y
            WHERE y.contact_id = j.value AND y.assignee_id IS NOT NULL AND y.channel <> 'phone')
    FROM json_each(?1) AS j)
"""


# The call windows of some contacts (storage.intake_routing.phone_contacts).
CALL_WINDOWS = """
SELECT id, call_window FROM contacts
WHERE id IN (SELECT value FROM json_each(?)) AND call_window IS NOT NULL
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
    loads = channel_loads(db.execute(CHANNEL_LOADS))
    agents = agents_from_rows(db.execute(AGENTS).fetchall(), loads, _parse)
    if not anyone_free(agents, now, closed=router.closed_day):
        return {}
    older = waiting_from_rows(db.execute(WAITING, (ROUTING_PAGE,)).fetchall(), _parse)
    if len(older) >= ROUTING_PAGE:
        return {}
    previous = {}
    if returning:
        found = db.execute(PREVIOUS_HELPERS, (json.dumps(sorted(returning)),))
        previous = {(int(r[0]), bool(r[1])): (UserId(r[2]), _parse(r[3])) for r in found}
    phoned = phone_contacts(openings)
    windows = {}
    if phoned:
        windows = {int(r[0]): str(r[1]) for r in db.execute(CALL_WINDOWS, (json.dumps(phoned),))}
    return route_openings(
        router,
        agents=agents,
        older=older,
        openings=openings,
        previous=previous,
        paused={r[0] for r in db.execute(PAUSED)},
        now=now,
        windows=windows,
    )


def apply_assignments(
    db: sqlite3.Connection, assigns: Sequence[Assign], now: datetime
) -> list[Assign]:
    conv_ids = json.dumps([a.conversation_id for a in assigns])
    user_ids = json.dumps(sorted({a.user_id for a in assigns}))
    at = format_text_time(now)
    queued = {int(r[0]): str(r[1]) for r in db.execute(STILL_QUEUED, (conv_ids, at))}
    available = staff_roles(db.execute(AVAILABLE_COUNSELORS, (user_ids,)))
    loads = channel_loads(db.execute(LOAD_OF, (user_ids,)))
    applied = fit_assignments(assigns, queued=queued, available=available, loads=loads)
    if applied:
        pairs = json.dumps([[a.conversation_id, a.user_id] for a in applied])
        db.execute(APPLY_ASSIGNMENTS, (at, pairs))
        db.execute(MARK_ASSIGNED_AT, (at, json.dumps(sorted({a.user_id for a in applied}))))
        assigned = [assigned_event(at, a.conversation_id, a.user_id) for a in applied]
        run_sync(events.record_many(SqliteTx(db), assigned))
    return applied
