"""SQL text of SqliteStore, apart from intake (sqlite_intake.py) and the schema."""

from __future__ import annotations

CONVERSATION_COLUMNS = """
id, contact_id, channel, status, priority, assignee_id, tags, created_at, updated_at,
last_inbound_at, first_response_due, next_response_due, skill, team, offered_at, opened_at
"""
GET_CONVERSATION = f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?"

MESSAGE_COLUMNS = """
id, conversation_id, direction, body, author_id, external_id, created_at, delivery_status,
attachments
"""
INSERT_MESSAGE = """
INSERT INTO messages (conversation_id, direction, channel, body, author_id, delivery_status,
                      created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
RETURNING id
"""
INSERT_OUTBOX = """
INSERT INTO outbox (message_id, status, due_at, created_at, updated_at)
VALUES (?, 'pending', ?, ?, ?)
"""
INSERT_EVENT = """
INSERT INTO events (at, kind, actor_id, conversation_id, message_id, data)
VALUES (?, ?, ?, ?, ?, ?)
"""
# The queue as the router sees it: paused channels left out, and for continuity the counselor of
# the contact's latest earlier conversation that had one.
WAITING = """
SELECT c.id, c.channel, c.priority, c.queued_at, c.skill, c.team, c.language, c.declined_by,
       p.assignee_id, p.updated_at
FROM conversations c
LEFT JOIN conversations p ON p.id = (
    SELECT max(x.id) FROM conversations x
    WHERE x.contact_id = c.contact_id AND x.id < c.id AND x.assignee_id IS NOT NULL)
WHERE c.status = 'queued' AND c.assignee_id IS NULL
  AND c.channel NOT IN (SELECT channel FROM channel_settings WHERE paused = 1)
ORDER BY c.priority DESC, c.queued_at, c.id LIMIT ?
"""
AGENTS = """
SELECT id, capacity, presence, shift, skills, languages, teams, channel_capacity,
       last_assigned_at
FROM users WHERE is_counselor = 1 AND disabled = 0 ORDER BY id
"""
# Every router round counts every load: the covering partial index makes that an index-only
# scan; left to itself the planner takes conversations_queue and sorts, three times slower.
CHANNEL_LOADS = """
SELECT assignee_id, channel, count(*) FROM conversations INDEXED BY conversations_load_by_channel
WHERE status IN ('assigned', 'waiting')
GROUP BY assignee_id, channel
"""
# Each id looked up by its key: left to itself the planner reads the whole queue by status.
STILL_QUEUED = """
SELECT c.id FROM json_each(?) AS j CROSS JOIN conversations c ON c.id = j.value
WHERE c.status = 'queued' AND c.assignee_id IS NULL
"""
ENABLED_COUNSELORS = """
SELECT id FROM users WHERE is_counselor = 1 AND disabled = 0
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
INSERT_ASSIGNED_EVENTS = """
INSERT INTO events (at, kind, conversation_id, data)
SELECT ?1, 'conversation_assigned', value ->> 0,
       json_object('user_id', value ->> 1, 'by', 'router')
FROM json_each(?2) ORDER BY key
"""

USER_COLUMNS = (
    "id, username, display_name, roles, skills, languages, capacity, disabled, created_at, "
    "presence, teams, channel_capacity, shift"
)
INSERT_USER = f"""
INSERT INTO users (username, display_name, password_hash, roles, skills, languages, capacity,
                   is_counselor, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING {USER_COLUMNS}
"""
GET_USER = f"SELECT {USER_COLUMNS} FROM users WHERE id = ?"
FIND_LOGIN = f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?"
LIST_USERS = f"SELECT {USER_COLUMNS} FROM users ORDER BY username"
SET_DISABLED = f"UPDATE users SET disabled = ? WHERE username = ? RETURNING {USER_COLUMNS}"
SET_PASSWORD = "UPDATE users SET password_hash = ? WHERE id = ?"
DELETE_USER_SESSIONS = "DELETE FROM sessions WHERE user_id = ?"
# A disabled counselor's open conversations go back to the queue at their old place (one
# waiting for the consulter's answer keeps waiting, with no one assigned).
RELEASE_ASSIGNED = """
UPDATE conversations SET assignee_id = NULL, offered_at = NULL, opened_at = NULL, updated_at = ?1,
    status = CASE WHEN status = 'assigned' THEN 'queued' ELSE status END
WHERE assignee_id = ?2 AND status IN ('assigned', 'waiting')
RETURNING id
"""
INSERT_SESSION = """
INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)
"""
SESSION_USER = f"""
SELECT {", ".join("u." + c.strip() for c in USER_COLUMNS.split(","))}
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0
"""
DELETE_SESSION = "DELETE FROM sessions WHERE token_hash = ?"
INSERT_TOKEN = """
INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES (?, ?, ?, ?)
"""
TOKEN_USER = f"""
SELECT {", ".join("u." + c.strip() for c in USER_COLUMNS.split(","))}
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = ? AND u.disabled = 0
"""
LAST_EVENT_ID = "SELECT coalesce(max(id), 0) FROM events"
LIST_EVENTS = """
SELECT id, at, kind, actor_id, conversation_id, message_id, data FROM events
WHERE id > ? ORDER BY id LIMIT ?
"""
