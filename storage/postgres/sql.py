"""SQL text of PostgresStore, apart from intake (postgres_intake.py, postgres_threads.py) and
the schema."""

from __future__ import annotations

# ---- schema ---------------------------------------------------------------------------------
# Any constant works as long as every process uses the same one; advisory locks are per database.
MIGRATION_LOCK_KEY = 0x7473_756E_6167_7501
LOCK_MIGRATIONS = "SELECT pg_advisory_xact_lock($1)"
CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL
)
"""
HAS_SCHEMA_MIGRATIONS = "SELECT to_regclass('schema_migrations') IS NOT NULL"
CURRENT_VERSION = "SELECT coalesce(max(version), 0) FROM schema_migrations"
RECORD_MIGRATION = "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())"

# ---- conversations and messages -------------------------------------------------------------
CONVERSATION_COLUMNS = """
id, contact_id, channel, status, priority, assignee_id, tags, created_at, updated_at,
last_inbound_at, first_response_due, next_response_due, skill, team, offered_at, opened_at
"""
GET_CONVERSATION = f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"
LOCK_CONVERSATION = f"{GET_CONVERSATION} FOR UPDATE"

MESSAGE_COLUMNS = """
id, conversation_id, direction, body, author_id, external_id, created_at, delivery_status,
attachments
"""

# ---- routing --------------------------------------------------------------------------------
# The queue as the router sees it: paused channels left out, and for continuity the counselor of
# the contact's latest earlier conversation that had one.
WAITING = """
SELECT c.id, c.channel, c.priority, c.queued_at, c.skill, c.team, c.language, c.declined_by,
       p.assignee_id, p.updated_at
FROM conversations c
LEFT JOIN LATERAL (
    SELECT x.assignee_id, x.updated_at FROM conversations x
    WHERE x.contact_id = c.contact_id AND x.id < c.id AND x.assignee_id IS NOT NULL
    ORDER BY x.id DESC LIMIT 1) p ON true
WHERE c.status = 'queued' AND c.assignee_id IS NULL
  AND c.channel NOT IN (SELECT channel FROM channel_settings WHERE paused)
ORDER BY c.priority DESC, c.queued_at, c.id LIMIT $1
"""
AGENTS = """
SELECT id, capacity, presence, shift, skills, languages, teams, channel_capacity,
       last_assigned_at
FROM users WHERE is_counselor AND NOT disabled ORDER BY id
"""
CHANNEL_LOADS = """
SELECT assignee_id, channel, count(*) FROM conversations
WHERE status IN ('assigned', 'waiting') AND assignee_id IS NOT NULL
GROUP BY assignee_id, channel
"""
# A router round in ONE transaction: the counselors first, in id order (as `assign` does), so two
# routers or a router and a supervisor queue behind each other instead of deadlocking; then the
# still-queued conversations; then the loads, counted in a statement whose snapshot is taken
# after both locks were granted, so it includes everything the previous lock holder committed.
LOCK_COUNSELORS = """
SELECT id, presence = 'available' FROM users
WHERE id = ANY($1::bigint[]) AND is_counselor AND NOT disabled
ORDER BY id FOR NO KEY UPDATE
"""
# NO KEY UPDATE, the lock the UPDATE itself takes: it waits for writers of these rows (intake,
# `assign`, `close`, another router) but not for inserts that merely reference them (a note, an
# event), whose foreign-key checks take KEY SHARE.
LOCK_QUEUED = """
SELECT id FROM conversations
WHERE id = ANY($1::bigint[]) AND status = 'queued' AND assignee_id IS NULL
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

# ---- users, sessions, tokens ----------------------------------------------------------------
USER_COLUMNS = (
    "id, username, display_name, roles, skills, languages, capacity, disabled, created_at, "
    "presence, teams, channel_capacity, shift"
)
_U_USER_COLUMNS = ", ".join("u." + c.strip() for c in USER_COLUMNS.split(","))
CREATE_USER = f"""
WITH u AS (
    INSERT INTO users (username, display_name, password_hash, roles, skills, languages,
                       capacity, is_counselor, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    RETURNING {USER_COLUMNS}
), e AS (
    INSERT INTO events (at, kind, data)
    SELECT $9, 'user_created', jsonb_build_object('user_id', id) FROM u
)
SELECT {USER_COLUMNS} FROM u
"""
GET_USER = f"SELECT {USER_COLUMNS} FROM users WHERE id = $1"
FIND_LOGIN = f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1"
LIST_USERS = f"SELECT {USER_COLUMNS} FROM users ORDER BY username"
SET_DISABLED = f"""
WITH u AS (
    UPDATE users SET disabled = $2 WHERE username = $1 RETURNING {USER_COLUMNS}
), s AS (
    DELETE FROM sessions WHERE $2 AND user_id IN (SELECT id FROM u)
), e AS (
    INSERT INTO events (at, kind, data)
    SELECT $3, CASE WHEN $2 THEN 'user_disabled' ELSE 'user_enabled' END,
           jsonb_build_object('user_id', id)
    FROM u
)
SELECT {USER_COLUMNS} FROM u
"""
# A disabled counselor's open conversations go back to the queue at their old place (one
# waiting for the consulter's answer keeps waiting, with no one assigned). A statement of its
# own, after SET_DISABLED in the same transaction: that one waits for a router holding her row
# and only then does this one start, with a snapshot that sees what the router committed.
RELEASE_ASSIGNED = """
WITH r AS (
    UPDATE conversations SET assignee_id = NULL, offered_at = NULL, opened_at = NULL,
        updated_at = $2, status = CASE WHEN status = 'assigned' THEN 'queued' ELSE status END
    WHERE assignee_id = $1 AND status IN ('assigned', 'waiting')
    RETURNING id
)
INSERT INTO events (at, kind, conversation_id, data)
SELECT $2, 'conversation_requeued', id,
       jsonb_build_object('from_user_id', $1::bigint, 'reason', 'user_disabled')
FROM r ORDER BY id
"""
SET_PASSWORD = "UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id"
INSERT_SESSION = """
INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)
"""
SESSION_USER = f"""
SELECT {_U_USER_COLUMNS}
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled
"""
DELETE_SESSION = "DELETE FROM sessions WHERE token_hash = $1"
INSERT_TOKEN = """
INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4)
"""
TOKEN_USER = f"""
SELECT {_U_USER_COLUMNS}
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND NOT u.disabled
"""

# ---- events ---------------------------------------------------------------------------------
LAST_EVENT_ID = "SELECT coalesce(max(id), 0) FROM events"
LIST_EVENTS = """
SELECT id, at, kind, actor_id, conversation_id, message_id, data::text FROM events
WHERE id > $1 ORDER BY id LIMIT $2
"""
# The live feed's tail (schema v5), as PgQ reads its queues: the news between two snapshots are
# the events whose transaction is visible in the newer one and was not in the older one. A
# transaction becomes visible in exactly one such step whenever it commits, whatever its ids.
# Not visible in `seen` means running then (its xip list) or begun since (from its xmax): two
# ranges of events_tx, each in (tx, id) order, and every xip one sorts before the others, so
# neither rereads what was handed out before, however old the oldest running transaction is.
# Paging keeps `upto` for the rest of the step. Snapshots and xid8 travel as text (no codec).
# $6, $7: the later of the cursor and (seen's xmax, 0), one row bound: beside a second bound on
# tx, PostgreSQL 15 starts the index scan at the row bound and walks the whole log up to the
# other (12 ms in 200,000 events instead of 0.1 ms).
FEED_START = "SELECT pg_current_snapshot()::text"
_FEED_COLUMNS = """id, at, kind, actor_id, conversation_id, message_id, data::text,
    tx::text::bigint AS tx_number"""
FEED_EVENTS = f"""
WITH s AS (
    SELECT $1::text::pg_snapshot AS seen,
           coalesce($2::text::pg_snapshot, pg_current_snapshot()) AS upto
)
SELECT e.id, e.at, e.kind, e.actor_id, e.conversation_id, e.message_id, e.data, e.tx_number,
       s.upto::text
FROM s LEFT JOIN LATERAL (
    (SELECT {_FEED_COLUMNS} FROM events
     WHERE tx = ANY(ARRAY(SELECT pg_snapshot_xip(s.seen))) AND (tx, id) > ($3::text::xid8, $4)
       AND pg_visible_in_snapshot(tx, s.upto)
     ORDER BY tx, id LIMIT $5)
    UNION ALL
    (SELECT {_FEED_COLUMNS} FROM events
     WHERE (tx, id) > ($6::text::xid8, $7) AND tx < pg_snapshot_xmax(s.upto)
       AND pg_visible_in_snapshot(tx, s.upto)
     ORDER BY tx, id LIMIT $5)
    ORDER BY tx_number, id LIMIT $5  -- in order even should the two run in parallel
) e ON true
"""
INSERT_EVENT = """
INSERT INTO events (at, kind, actor_id, conversation_id, message_id, data)
VALUES ($1, $2, $3, $4, $5, $6::jsonb)
"""
