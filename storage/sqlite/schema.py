"""SQLite migrations, one SQL script per schema version (times are ISO-8601 UTC text)."""

from __future__ import annotations

from storage.seeds import canned_replies_sql

MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL
);
-- The raw address lives only here, for replying; contacts are matched by the keyed hash.
CREATE TABLE channel_identities (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL REFERENCES contacts(id),
    channel       TEXT NOT NULL,
    identity_hash TEXT NOT NULL,
    address       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (channel, identity_hash)
);
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,          -- JSON array
    skills        TEXT NOT NULL DEFAULT '[]',
    languages     TEXT NOT NULL DEFAULT '["ja"]',
    capacity      INTEGER NOT NULL DEFAULT 3 CHECK (capacity >= 0),
    is_counselor  INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);
CREATE TABLE conversations (
    id                 INTEGER PRIMARY KEY,
    contact_id         INTEGER NOT NULL REFERENCES contacts(id),
    identity_id        INTEGER NOT NULL REFERENCES channel_identities(id),
    channel            TEXT NOT NULL,
    status             TEXT NOT NULL,
    priority           INTEGER NOT NULL DEFAULT 0,
    assignee_id        INTEGER REFERENCES users(id),
    tags               TEXT NOT NULL DEFAULT '[]',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    queued_at          TEXT NOT NULL,
    last_inbound_at    TEXT,
    first_response_due TEXT,
    next_response_due  TEXT,
    closed_at          TEXT
);
-- One open conversation per identity: threading can rely on it, concurrent writers too.
CREATE UNIQUE INDEX conversations_one_open ON conversations (identity_id) WHERE status <> 'closed';
CREATE INDEX conversations_queue ON conversations (status, priority DESC, queued_at);
CREATE INDEX conversations_load ON conversations (assignee_id)
    WHERE status IN ('assigned', 'waiting');
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    direction       TEXT NOT NULL,
    channel         TEXT NOT NULL,
    external_id     TEXT,
    body            TEXT NOT NULL,
    author_id       INTEGER REFERENCES users(id),
    attachments     TEXT NOT NULL DEFAULT '[]',
    delivery_status TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_external ON messages (channel, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL UNIQUE REFERENCES messages(id),
    status          TEXT NOT NULL,          -- pending, sent, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          TEXT NOT NULL,          -- next attempt, or end of the current claim
    provider_id     TEXT UNIQUE,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (due_at) WHERE status = 'pending';
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE TABLE api_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL,
    actor_id        INTEGER REFERENCES users(id),
    conversation_id INTEGER REFERENCES conversations(id),
    message_id      INTEGER REFERENCES messages(id),
    data            TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_conversation ON events (conversation_id);
""",
    2: """
-- Routing v2: what the router needs to know about counselors and conversations.
ALTER TABLE users ADD COLUMN presence TEXT NOT NULL DEFAULT 'available';
ALTER TABLE users ADD COLUMN teams TEXT NOT NULL DEFAULT '[]';
-- channel_capacity: {"phone": 1}; shift: inbox.core.shifts.shift_data as JSON, NULL: no schedule
ALTER TABLE users ADD COLUMN channel_capacity TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN shift TEXT;
ALTER TABLE users ADD COLUMN last_assigned_at TEXT;
ALTER TABLE conversations ADD COLUMN skill TEXT;
ALTER TABLE conversations ADD COLUMN team TEXT;
ALTER TABLE conversations ADD COLUMN language TEXT;
-- An offer: the router assigned it at offered_at; the counselor opened it at opened_at.
ALTER TABLE conversations ADD COLUMN offered_at TEXT;
ALTER TABLE conversations ADD COLUMN opened_at TEXT;
ALTER TABLE conversations ADD COLUMN declined_by TEXT NOT NULL DEFAULT '[]';
-- Response deadlines: the consulter has waited for an answer since awaiting_since (NULL: she
-- has one); first_reply_at tells a first response from a next one. The deadline watcher keeps
-- first_response_due / next_response_due (v1) from these, and notes its warning and escalation.
ALTER TABLE conversations ADD COLUMN awaiting_since TEXT;
ALTER TABLE conversations ADD COLUMN first_reply_at TEXT;
ALTER TABLE conversations ADD COLUMN warned_at TEXT;
ALTER TABLE conversations ADD COLUMN escalated_at TEXT;
-- anonymity NULL: the channel's default
ALTER TABLE contacts ADD COLUMN anonymity TEXT;
ALTER TABLE contacts ADD COLUMN discretion INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_contact ON conversations (contact_id, id);
-- Loads are counted per channel now: with the channel in the index, counting never reads rows.
DROP INDEX conversations_load;
CREATE INDEX conversations_load_by_channel ON conversations (assignee_id, channel)
    WHERE status IN ('assigned', 'waiting');
CREATE INDEX conversations_offers ON conversations (offered_at)
    WHERE status = 'assigned' AND opened_at IS NULL;
-- Auto-replies sent, one row per (conversation, kind): the primary key is what makes a restart
-- or a second instance unable to send the same auto-reply twice.
CREATE TABLE auto_replies (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    kind            TEXT NOT NULL,
    message_id      INTEGER REFERENCES messages(id),
    sent_at         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, kind)
);
CREATE TABLE channel_settings (
    channel     TEXT PRIMARY KEY,
    paused      INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL
);
""",
    3: """
-- The mail channel: how far each mailbox has been read (UIDs count only with their UIDVALIDITY)
CREATE TABLE mail_cursors (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
-- and what a reply needs to land in the consulter's thread: her subject, the Message-ID to
-- answer (In-Reply-To) and the References chain, in order.
CREATE TABLE mail_threads (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
    subject         TEXT NOT NULL,
    last_message_id TEXT,
    refs            TEXT NOT NULL DEFAULT '[]',  -- JSON array
    updated_at      TEXT NOT NULL
);
""",
    4: """
-- Attachment contents within the channel's size limit ([mail].max_attachment_bytes), written with
-- their message. messages.attachments still lists every attachment (refused ones too) with
-- "stored" saying which have a row here: position is the index in that list.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES messages(id),
    position     INTEGER NOT NULL CHECK (position >= 0),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    content      BLOB NOT NULL,
    UNIQUE (message_id, position)
);
""",
    5: """
-- Nothing to change: PostgreSQL's events gained the writing transaction (its version 5) for the
-- live feed; SQLite has one writer, so id order is commit order. Both stores keep one version.
""",
    6: """
-- Closing with an outcome (inbox.outcomes: an id of the configured list) and her note on it.
ALTER TABLE conversations ADD COLUMN outcome TEXT;
ALTER TABLE conversations ADD COLUMN outcome_note TEXT;
-- Search (storage.context): by the day a conversation began, and "conversations she wrote in".
CREATE INDEX conversations_created ON conversations (created_at);
CREATE INDEX messages_author ON messages (author_id, conversation_id) WHERE author_id IS NOT NULL;
-- Text search without word spacing: FTS5's trigram tokenizer matches any substring of three
-- characters or more (Japanese has no spaces to split words at). External content: the text
-- stays in messages alone. Not kept by an insert trigger, which cost the intake about 40 % of its
-- throughput (an FTS5 segment flushed per transaction): the search-index worker adds new messages
-- in batches (Store.index_text) up to search_index.indexed_upto, and search reads the few newer
-- messages with LIKE. Existing messages are indexed here, once.
-- (No semicolon ends a line inside a trigger: the migration runner splits scripts there.)
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content='messages', content_rowid='id', tokenize='trigram'
);
CREATE TABLE search_index (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);
INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages ORDER BY id;
INSERT INTO search_index (id, indexed_upto) SELECT 1, coalesce(max(id), 0) FROM messages;
-- Nothing changes or deletes a message today; should anything, the index follows.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.id <= (SELECT indexed_upto FROM search_index) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
    WHEN old.id <= (SELECT indexed_upto FROM search_index) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body)
    ; INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END;
""",
    # --- desk: canned replies
    7: """
-- Canned replies of the program, in Japanese and English (either may be empty, not both), in
-- position order; updated_by NULL for the ones seeded here.
CREATE TABLE canned_replies (
    id          INTEGER PRIMARY KEY,
    title_ja    TEXT NOT NULL DEFAULT '',
    title_en    TEXT NOT NULL DEFAULT '',
    body_ja     TEXT NOT NULL DEFAULT '',
    body_en     TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    updated_by  INTEGER REFERENCES users(id),
    updated_at  TEXT NOT NULL
);
"""
    + canned_replies_sql("strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')"),
    8: """
-- Presence that tells the truth: a counselor whose last staff socket closed is set away after a
-- grace period (inbox.presence). connected_until is the lease the instances holding her sockets
-- keep extending (NULL: she never had one, so nothing is decided for her); presence_auto says
-- the away was set by the disconnect, so that her return makes her available again, while an
-- away she chose stays.
ALTER TABLE users ADD COLUMN connected_until TEXT;
ALTER TABLE users ADD COLUMN presence_auto INTEGER NOT NULL DEFAULT 0;
""",
    9: """
-- Read state of web chat: the latest outbound message her page showed her (the chat tells
-- the server while the page is visible); staff see their replies marked read up to it.
ALTER TABLE conversations ADD COLUMN consulter_read_message_id INTEGER;
""",
    10: """
-- The language her chat is set to (web chat: "ja" or "en"), by address, known from before her
-- first message stores a contact: automatic replies go to her in that language only.
CREATE TABLE consulter_languages (
    channel       TEXT NOT NULL,
    identity_hash TEXT NOT NULL,
    language      TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (channel, identity_hash)
);
""",
    11: """
-- Accounts an admin manages: after an admin set or reset her password, she must choose her own
-- at her next sign-in; until then her session can only set a new password.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
""",
    12: """
-- The audit log's filters (inbox/web/audit.py): by person, and "has she read it lately" for the
-- coalescing of reads. Partial, so intake's events (no actor, never a read) pay nothing: on a
-- million events, a person's records in 1 ms instead of 690, a first open's check in 1 ms
-- instead of 21.
CREATE INDEX events_actor ON events (actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX events_reads ON events (conversation_id, actor_id, at)
    WHERE kind = 'conversation_read';
""",
    13: """
-- The supervisor's board (storage.board) at ten rounds a second reads its alerts, their
-- acknowledgements and who paused a channel by index, not by walking the newest events.
-- An alert's acknowledgement by the alert's id, and the newest acknowledgements:
CREATE INDEX events_alert_acks ON events (json_extract(data, '$.event_id'), id)
    WHERE kind = 'alert_acknowledged';
CREATE INDEX events_acks ON events (id) WHERE kind = 'alert_acknowledged';
-- The open alerts (inbox.core.board.ALERT_KINDS, and an assignment to the one on call, not
-- acknowledged yet), kept by the triggers below whichever statement writes the event: the
-- board reads the newest of them however old, at a cost that does not grow with the alerts
-- acknowledged (walking every alert for its acknowledgement would, when all are).
CREATE TABLE open_alerts (event_id INTEGER PRIMARY KEY);
INSERT INTO open_alerts (event_id)
SELECT id FROM events
WHERE (kind IN ('supervisors_alerted', 'deadline_warning', 'deadline_breached',
    'reply_failed') OR (kind = 'conversation_assigned' AND json_extract(data, '$.via') = 'on_call'))
  AND NOT EXISTS (SELECT 1 FROM events a WHERE a.kind = 'alert_acknowledged'
    AND json_extract(a.data, '$.event_id') = +events.id);
CREATE TRIGGER events_open_alerts AFTER INSERT ON events
WHEN NEW.kind IN ('supervisors_alerted', 'deadline_warning', 'deadline_breached',
    'reply_failed')
    OR (NEW.kind = 'conversation_assigned' AND json_extract(NEW.data, '$.via') = 'on_call')
-- (one line: migrations are split at a semicolon that ends a line)
BEGIN INSERT INTO open_alerts (event_id) VALUES (NEW.id); END;
CREATE TRIGGER events_alert_acknowledged AFTER INSERT ON events
WHEN NEW.kind = 'alert_acknowledged'
BEGIN DELETE FROM open_alerts WHERE event_id = json_extract(NEW.data, '$.event_id'); END;
-- Who paused a channel (NULL when it is not paused, or for a pause from before this version
-- whose event is gone); updated_at stays the time the pause began: pausing a paused channel
-- changes neither.
ALTER TABLE channel_settings ADD COLUMN paused_by INTEGER REFERENCES users(id);
UPDATE channel_settings SET paused_by = (
    SELECT e.actor_id FROM events e
    WHERE e.kind = 'channel_paused' AND json_extract(e.data, '$.channel') = channel_settings.channel
    ORDER BY e.id DESC LIMIT 1)
WHERE paused = 1;
""",
    14: """
-- Issue 15: SMS and the phone desk.
-- A number that sent STOP is sent nothing until it sends START (NULL: not opted out).
ALTER TABLE channel_identities ADD COLUMN opted_out_at TEXT;
-- What the provider last said of a sent reply (Twilio's status callbacks: queued, sent,
-- delivered, undelivered, failed) and its error code; a later state is never overwritten by an
-- earlier one (storage.sms).
ALTER TABLE outbox ADD COLUMN provider_status TEXT;
ALTER TABLE outbox ADD COLUMN provider_error TEXT;
-- Phone staff are routed phone conversations (callbacks) as counselors are the others'.
ALTER TABLE users ADD COLUMN is_phone_staff INTEGER NOT NULL DEFAULT 0;
UPDATE users SET is_phone_staff = 1
WHERE EXISTS (SELECT 1 FROM json_each(users.roles) WHERE value = 'phone_staff');
-- The window in which she allows a call ("12:00-13:00", "weekdays 09:00-17:30", as
-- routing.callbacks.parse_call_window reads it); NULL: the desk's hours.
ALTER TABLE contacts ADD COLUMN call_window TEXT;
-- A callback (a phone conversation): the tries made, and when the next may be offered.
ALTER TABLE conversations ADD COLUMN callback_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN callback_due_at TEXT;
-- Every call, logged by hand or by Twilio Voice's callbacks. No number here: a known caller is
-- her phone identity's contact (matched by keyed hash); a withheld one has none.
CREATE TABLE calls (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER REFERENCES conversations(id),
    contact_id      INTEGER REFERENCES contacts(id),
    direction       TEXT NOT NULL,              -- inbound, outbound
    started_at      TEXT NOT NULL,
    duration_s      INTEGER CHECK (duration_s >= 0),
    withheld        INTEGER NOT NULL DEFAULT 0,
    outcome         TEXT,                       -- inbox.core.calls id; NULL until logged
    note            TEXT NOT NULL DEFAULT '',
    referrals       TEXT NOT NULL DEFAULT '[]', -- JSON array of referral ids
    follow_up       TEXT,                       -- a date, YYYY-MM-DD
    staff_id        INTEGER REFERENCES users(id),
    call_sid        TEXT UNIQUE,                -- Twilio Voice's id; NULL for a call logged by hand
    call_status     TEXT,                       -- Twilio's CallStatus, the latest
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX calls_staff ON calls (staff_id, started_at);
CREATE INDEX calls_conversation ON calls (conversation_id, id);
CREATE INDEX calls_contact ON calls (contact_id, started_at);
-- The router's timer: when the earliest held callback becomes due (storage.assignment).
CREATE INDEX conversations_callbacks ON conversations (callback_due_at)
    WHERE status = 'queued' AND channel = 'phone';
-- Phone staff's list of open callbacks (storage.callbacks.OPEN_CALLBACKS), in its order.
CREATE INDEX conversations_open_phone ON conversations (queued_at, id)
    WHERE channel = 'phone' AND status <> 'closed';
""",
    15: """
-- Issue 16: LINE.
-- The latest reply token a consulter's LINE event carried: valid about a minute and single use
-- (storage.line takes it by deleting it). Keyed by her identity's hash: it is written before the
-- intake stores her message (which may create the identity), so an auto-reply finds it.
CREATE TABLE reply_tokens (
    channel       TEXT NOT NULL,
    identity_hash TEXT NOT NULL,
    token         TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    PRIMARY KEY (channel, identity_hash)
);
-- A channel's webhook events that are not messages (LINE: follow, unfollow, postback), each
-- kept once by the provider's event id (a redelivery changes nothing). Friends added and lost
-- are counted from here by day; a postback's data is kept for what answers it (the survey).
-- No address: the keyed hash only.
CREATE TABLE channel_events (
    channel       TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    at            TEXT NOT NULL,
    identity_hash TEXT NOT NULL,
    data          TEXT,
    PRIMARY KEY (channel, event_id)
);
CREATE INDEX channel_events_by_day ON channel_events (channel, kind, at);
-- The name she shows on LINE, fetched only where the program identifies consulters.
ALTER TABLE channel_identities ADD COLUMN display_name TEXT;
""",
    16: """
-- Issue 17: casework and the grant report. Every figure of the report is counted from rows
-- written here and from conversations, calls, contacts and channel_events, never from a body, so
-- it stays the same after a retention rule empties the bodies (messages.purged_at).
-- Days (a referral's, an activity's, a follow-up's) are Tokyo calendar days as 'YYYY-MM-DD'
-- text on both stores: they sort and compare as text, and the SQL is written once.
-- The directory of partner agencies, kept by supervisors. An agency is archived, never deleted:
-- referrals to it stay counted.
CREATE TABLE agencies (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,               -- inbox.core.casework agency kind id
    area        TEXT NOT NULL DEFAULT '',
    contact     TEXT NOT NULL DEFAULT '',    -- how staff reach them: number, address, person
    note        TEXT NOT NULL DEFAULT '',
    archived    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (name, area)
);
-- A referral recorded on a conversation or on a call: which agency, the kind of help
-- (information, handover, accompaniment), the day. contact_id: whose (NULL: a withheld call).
CREATE TABLE referrals (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER REFERENCES conversations(id),
    call_id         INTEGER REFERENCES calls(id),
    contact_id      INTEGER REFERENCES contacts(id),
    agency_id       INTEGER NOT NULL REFERENCES agencies(id),
    kind            TEXT NOT NULL,
    on_day          TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    staff_id        INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL,
    CHECK (conversation_id IS NOT NULL OR call_id IS NOT NULL)
);
CREATE INDEX referrals_day ON referrals (on_day);
CREATE INDEX referrals_conversation ON referrals (conversation_id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX referrals_call ON referrals (call_id) WHERE call_id IS NOT NULL;
-- A consultation's topics (a configured list), on a conversation or on a call: exactly one.
CREATE TABLE consultation_topics (
    conversation_id INTEGER REFERENCES conversations(id),
    call_id         INTEGER REFERENCES calls(id),
    topic           TEXT NOT NULL,
    CHECK ((conversation_id IS NULL) <> (call_id IS NULL))
);
CREATE UNIQUE INDEX topics_of_conversation ON consultation_topics (conversation_id, topic)
    WHERE conversation_id IS NOT NULL;
CREATE UNIQUE INDEX topics_of_call ON consultation_topics (call_id, topic)
    WHERE call_id IS NOT NULL;
-- Her age group when she tells it (inbox.core.casework id; NULL: not told, counted as unknown).
ALTER TABLE contacts ADD COLUMN age_group TEXT;
-- A follow-up (近況確認) a counselor set on a consulter: on due_on it enters the queue as a task
-- (conversation_id: the conversation it opened or joined), offered first to counselor_id, and is
-- written to on her identity's channel. status: scheduled, due, done, skipped, unreachable,
-- cancelled.
CREATE TABLE follow_ups (
    id                   INTEGER PRIMARY KEY,
    contact_id           INTEGER NOT NULL REFERENCES contacts(id),
    identity_id          INTEGER NOT NULL REFERENCES channel_identities(id),
    from_conversation_id INTEGER REFERENCES conversations(id),
    counselor_id         INTEGER REFERENCES users(id),
    due_on               TEXT NOT NULL,
    note                 TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'scheduled',
    conversation_id      INTEGER REFERENCES conversations(id),
    created_by           INTEGER REFERENCES users(id),
    created_at           TEXT NOT NULL,
    resolved_at          TEXT,
    resolved_by          INTEGER REFERENCES users(id)
);
CREATE INDEX follow_ups_due ON follow_ups (due_on) WHERE status = 'scheduled';
CREATE INDEX follow_ups_contact ON follow_ups (contact_id, due_on);
CREATE INDEX follow_ups_task ON follow_ups (conversation_id) WHERE conversation_id IS NOT NULL;
-- Work outside conversations: outreach visits, accompaniment, consultation events, drop-in
-- place visits, talks; with the number of people met and how many of them were new.
CREATE TABLE activities (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    on_day      TEXT NOT NULL,
    place_kind  TEXT NOT NULL DEFAULT '',
    people      integer NOT NULL CHECK (people >= 0),
    new_people  integer NOT NULL DEFAULT 0 CHECK (new_people >= 0 AND new_people <= people),
    note        TEXT NOT NULL DEFAULT '',
    staff_id    INTEGER REFERENCES users(id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX activities_day ON activities (on_day);
-- The satisfaction survey. surveys: that a conversation was asked (at most once: the primary
-- key), written when it is asked and never changed. open_surveys: what may still be answered,
-- deleted when she answers (answered once) or once expired. token_hash: the single-use token of
-- a LINE postback or an e-mail link. Her answer is only counted: survey_answers holds how many
-- gave each answer on a day and channel, raised by one per answer, so that no row written when
-- she answers names her conversation (see storage.surveys).
CREATE TABLE surveys (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
    channel         TEXT NOT NULL,
    asked_at        TEXT NOT NULL
);
CREATE TABLE open_surveys (
    conversation_id INTEGER PRIMARY KEY REFERENCES surveys(conversation_id),
    channel         TEXT NOT NULL,
    asked_at        TEXT NOT NULL,
    token_hash      TEXT UNIQUE
);
CREATE INDEX open_surveys_asked ON open_surveys (asked_at);
CREATE TABLE survey_answers (
    on_day      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    answer      integer NOT NULL CHECK (answer BETWEEN 1 AND 4),   -- 1: the best
    n           integer NOT NULL DEFAULT 1 CHECK (n > 0),
    PRIMARY KEY (on_day, channel, answer)
);
-- When a retention rule emptied this message's body (NULL: never); the row itself stays.
ALTER TABLE messages ADD COLUMN purged_at TEXT;
""",
    17: """
-- The queue page (storage.desk QUEUE_*), in its order from an index and stopping at its limit,
-- instead of a scan and sort of every open conversation: everyone's (supervisors, phone staff),
-- a counselor's own, and the unassigned queued ones every counselor sees.
CREATE INDEX conversations_open_order ON conversations (priority DESC, queued_at, id)
    WHERE status <> 'closed';
CREATE INDEX conversations_assignee_order
    ON conversations (assignee_id, priority DESC, queued_at, id)
    WHERE status <> 'closed' AND assignee_id IS NOT NULL;
CREATE INDEX conversations_unassigned_order ON conversations (priority DESC, queued_at, id)
    WHERE status = 'queued' AND assignee_id IS NULL;
-- The deadline watcher's first pass (inbox.deadlines), page by page by id over the waiting ones,
-- without walking every closed conversation.
CREATE INDEX conversations_awaiting ON conversations (id)
    WHERE status <> 'closed' AND awaiting_since IS NOT NULL;
""",
}
