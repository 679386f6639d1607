"""SqliteStore: the embedded default Store, one aiosqlite connection in WAL mode.

One connection and one lock: SQLite has a single writer anyway, and holding the lock across a
transaction keeps two coroutines from interleaving statements inside each other's transaction.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self, TypeVar, cast

import aiosqlite

from inbox.errors import (
    Conflict,
    DatabaseUnavailable,
    DuplicateKey,
    NotFound,
    SchemaMismatch,
    StorageError,
)
from inbox.model import (
    Anonymity,
    Assign,
    AwaitingAnswer,
    ChannelKind,
    ContactAddress,
    Conversation,
    ConversationId,
    ConversationStatus,
    CounselorUpdate,
    DeadlineChange,
    DeliveryStatus,
    Direction,
    Event,
    MailCursor,
    MailThread,
    Message,
    MessageId,
    NewUser,
    OutboundMessage,
    OutboxId,
    OutboxItem,
    QueueDepth,
    Role,
    RoutingSnapshot,
    StoredInbound,
    User,
    UserId,
)
from storage import rows
from storage import sqlite_mail as sm
from storage import sqlite_policies as sp
from storage import sqlite_routing as sr
from storage import sqlite_sql as q
from storage.base import SCHEMA_VERSION, KeyedInbound
from storage.sqlite_intake import save_inbound_batch
from storage.sqlite_schema import MIGRATIONS

_parse = rows.parse_text_time
T = TypeVar("T")


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class SqliteStore:
    """Store on one SQLite file. `path` may be ":memory:" only for throwaway use."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        try:
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self._path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise DatabaseUnavailable(f"cannot open SQLite database {self._path}: {exc}") from exc
        # FULL: a message is acknowledged to its source only after the commit reached the disk.
        for pragma in (
            "journal_mode = WAL",
            "synchronous = FULL",
            "foreign_keys = ON",
            "busy_timeout = 5000",
        ):
            await db.execute(f"PRAGMA {pragma}")
        self._db = db
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("SqliteStore used outside `async with`")
        return self._db

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self.db
            try:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                raise DuplicateKey(str(exc)) from exc
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite: {exc}") from exc

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._lock:
            try:
                return list(await self.db.execute_fetchall(sql, params))
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite: {exc}") from exc

    async def _on_db_thread(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run `fn` in one transaction as ONE call on aiosqlite's thread.

        The hot paths (intake, routing) use this: each `await db.execute` is a hand-off to the
        database thread and back, and a batch that took ~30 of them spent more time switching
        threads than in SQLite. aiosqlite has no public call for this, so `_execute`/`_conn` are
        used here only; the version range in pyproject.toml and the contract suite guard it.
        """
        db = self.db
        execute = cast(Callable[..., Awaitable[T]], db._execute)
        async with self._lock:
            try:
                return await execute(_in_transaction, db._conn, fn, write)
            except sqlite3.IntegrityError as exc:
                raise DuplicateKey(str(exc)) from exc
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite: {exc}") from exc

    async def listen(self, on_change: Callable[[bool], None]) -> None:
        # One process owns an SQLite file: no other instance's news to hear.
        await asyncio.Event().wait()

    # ---- schema -------------------------------------------------------------------------
    async def schema_version(self) -> int:
        found = await self._all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        )
        if not found:
            return 0
        (row,) = await self._all("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return int(row[0])

    async def migrate(self) -> list[int]:
        applied: list[int] = []
        async with self._tx() as db:  # BEGIN IMMEDIATE: a second migrating process waits
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            async with db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations") as c:
                current = int((await c.fetchone() or (0,))[0])
            if current > SCHEMA_VERSION:
                raise SchemaMismatch(_newer_message(current))
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version].split(";\n"):
                    if statement.strip():
                        await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)",
                    (version, _ts(datetime.now(UTC))),
                )
                applied.append(version)
        return applied

    async def ping(self) -> None:
        try:
            await self._all("SELECT 1")
        except StorageError as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    # ---- intake -------------------------------------------------------------------------
    async def save_inbound_batch(self, items: Sequence[KeyedInbound]) -> list[StoredInbound]:
        if not items:
            return []
        return await self._on_db_thread(lambda db: save_inbound_batch(db, items), write=True)

    # ---- routing ------------------------------------------------------------------------
    async def routing_snapshot(self) -> RoutingSnapshot:
        # One read transaction, so loads and the queue describe the same moment.
        return await self._on_db_thread(sr.routing_snapshot, write=False)

    async def apply_assignments(self, assigns: Sequence[Assign], *, now: datetime) -> list[Assign]:
        if not assigns:
            return []
        # Holding the write transaction, nobody can change loads between the check and the write.
        return await self._on_db_thread(
            lambda db: sr.apply_assignments(db, assigns, now), write=True
        )

    async def update_counselor(
        self, user_id: UserId, change: CounselorUpdate, *, actor_id: UserId, now: datetime
    ) -> User:
        row = await self._on_db_thread(
            lambda db: sr.update_counselor(db, user_id, change, actor_id, now), write=True
        )
        return rows.user(row, _parse)

    async def mark_opened(
        self, conversation_id: ConversationId, user_id: UserId, *, now: datetime
    ) -> bool:
        return await self._on_db_thread(
            lambda db: sr.mark_opened(db, conversation_id, user_id, now), write=True
        )

    async def requeue_lapsed_offers(
        self, *, offered_before: datetime, now: datetime, limit: int = 500
    ) -> list[tuple[ConversationId, UserId]]:
        return await self._on_db_thread(
            lambda db: sr.requeue_lapsed_offers(db, offered_before, now, limit), write=True
        )

    async def requeue(
        self,
        conversation_id: ConversationId,
        *,
        actor_id: UserId,
        now: datetime,
        note: str | None = None,
    ) -> Conversation:
        row = await self._on_db_thread(
            lambda db: sr.requeue(db, conversation_id, actor_id, note, now), write=True
        )
        return rows.conversation(row, _parse)

    async def set_channel_paused(
        self, channel: ChannelKind, paused: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        await self._on_db_thread(
            lambda db: sr.set_channel_paused(db, channel, paused, actor_id, now), write=True
        )

    async def paused_channels(self) -> frozenset[ChannelKind]:
        return await self._on_db_thread(sr.paused_channels, write=False)

    async def queue_depth(self) -> list[QueueDepth]:
        return await self._on_db_thread(sr.queue_depth, write=False)

    async def claim_auto_reply(
        self,
        conversation_id: ConversationId,
        kind: str,
        *,
        body: str,
        discreet_body: str,
        now: datetime,
    ) -> Message | None:
        message_id = await self._on_db_thread(
            lambda db: sp.claim_auto_reply(db, conversation_id, kind, body, discreet_body, now),
            write=True,
        )
        if message_id is None:
            return None
        sql = f"SELECT {q.MESSAGE_COLUMNS} FROM messages WHERE id = ?"
        return rows.message((await self._all(sql, (message_id,)))[0], _parse)

    async def set_discretion(
        self, conversation_id: ConversationId, discretion: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        await self._on_db_thread(
            lambda db: sp.set_discretion(db, conversation_id, discretion, actor_id, now),
            write=True,
        )

    async def contact_address(self, conversation_id: ConversationId) -> ContactAddress:
        return await self._on_db_thread(
            lambda db: sp.contact_address(db, conversation_id), write=False
        )

    async def set_anonymity(
        self,
        conversation_id: ConversationId,
        mode: Anonymity | None,
        *,
        actor_id: UserId,
        now: datetime,
    ) -> None:
        await self._on_db_thread(
            lambda db: sp.set_anonymity(db, conversation_id, mode, actor_id, now), write=True
        )

    async def recent_handling_s(self, *, limit: int = 50) -> float | None:
        return await self._on_db_thread(lambda db: sp.recent_handling_s(db, limit), write=False)

    async def awaiting_answers(self, *, limit: int = 2000) -> list[AwaitingAnswer]:
        return await self._on_db_thread(lambda db: sp.awaiting_answers(db, limit), write=False)

    async def apply_deadlines(
        self, changes: Sequence[DeadlineChange], *, urgent_priority: int, now: datetime
    ) -> list[DeadlineChange]:
        if not changes:
            return []
        return await self._on_db_thread(
            lambda db: sp.apply_deadlines(db, changes, urgent_priority, now), write=True
        )

    # ---- conversations and messages -----------------------------------------------------
    async def get_conversation(self, conversation_id: ConversationId) -> Conversation:
        found = await self._all(q.GET_CONVERSATION, (conversation_id,))
        if not found:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return rows.conversation(found[0], _parse)

    async def list_conversations(
        self,
        *,
        statuses: Collection[ConversationStatus],
        visible_to: UserId | None = None,
        channels: Collection[ChannelKind] | None = None,
        limit: int = 200,
    ) -> list[Conversation]:
        where = ["status IN (SELECT value FROM json_each(?))"]
        params: list[Any] = [json.dumps([str(s) for s in statuses])]
        if visible_to is not None:
            where.append("(assignee_id = ? OR (assignee_id IS NULL AND status = 'queued'))")
            params.append(visible_to)
        if channels is not None:
            where.append("channel IN (SELECT value FROM json_each(?))")
            params.append(json.dumps([str(c) for c in channels]))
        sql = (
            f"SELECT {q.CONVERSATION_COLUMNS} FROM conversations WHERE {' AND '.join(where)} "
            f"{q.QUEUE_ORDER} LIMIT ?"
        )
        return [rows.conversation(r, _parse) for r in await self._all(sql, [*params, limit])]

    async def list_messages(
        self, conversation_id: ConversationId, *, include_notes: bool = True, limit: int = 500
    ) -> list[Message]:
        await self.get_conversation(conversation_id)
        sql = q.LIST_MESSAGES.format(notes="" if include_notes else "AND direction <> 'note'")
        return [rows.message(r, _parse) for r in await self._all(sql, (conversation_id, limit))]

    async def _open_conversation(
        self, db: aiosqlite.Connection, conversation_id: ConversationId
    ) -> Conversation:
        async with db.execute(q.GET_CONVERSATION, (conversation_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        conv = rows.conversation(row, _parse)
        if conv.status is ConversationStatus.CLOSED:
            raise Conflict(f"conversation {conversation_id} is closed")
        return conv

    async def _event(
        self,
        db: aiosqlite.Connection,
        kind: str,
        now: datetime,
        *,
        actor_id: UserId | None = None,
        conversation_id: int | None = None,
        message_id: int | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        await db.execute(
            q.INSERT_EVENT,
            (_ts(now), kind, actor_id, conversation_id, message_id, json.dumps(data or {})),
        )

    async def _insert_message(
        self,
        db: aiosqlite.Connection,
        conv: Conversation,
        direction: Direction,
        author_id: UserId,
        body: str,
        now: datetime,
    ) -> MessageId:
        status = DeliveryStatus.PENDING if direction is Direction.OUTBOUND else DeliveryStatus.NONE
        async with db.execute(
            q.INSERT_MESSAGE,
            (conv.id, direction, conv.channel, body, author_id, status, _ts(now)),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return MessageId(row[0])

    async def _get_message(self, db: aiosqlite.Connection, message_id: MessageId) -> Message:
        sql = f"SELECT {q.MESSAGE_COLUMNS} FROM messages WHERE id = ?"
        async with db.execute(sql, (message_id,)) as cur:
            row = await cur.fetchone()
        assert row is not None
        return rows.message(row, _parse)

    async def add_reply(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        async with self._tx() as db:
            conv = await self._open_conversation(db, conversation_id)
            mid = await self._insert_message(db, conv, Direction.OUTBOUND, author_id, body, now)
            await db.execute(q.INSERT_OUTBOX, (mid, _ts(now), _ts(now), _ts(now)))
            await db.execute(q.REPLIED, (_ts(now), conv.id))
            await self._event(
                db, "reply_queued", now, actor_id=author_id, conversation_id=conv.id, message_id=mid
            )
            return await self._get_message(db, mid)

    async def add_note(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        async with self._tx() as db:
            async with db.execute(q.GET_CONVERSATION, (conversation_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            conv = rows.conversation(row, _parse)
            mid = await self._insert_message(db, conv, Direction.NOTE, author_id, body, now)
            await self._event(
                db, "note_added", now, actor_id=author_id, conversation_id=conv.id, message_id=mid
            )
            return await self._get_message(db, mid)

    async def assign(
        self,
        conversation_id: ConversationId,
        user_id: UserId,
        *,
        actor_id: UserId,
        now: datetime,
        capacity: int | None,
    ) -> Conversation:
        async with self._tx() as db:
            conv = await self._open_conversation(db, conversation_id)
            async with db.execute(q.ENABLED_COUNSELORS, (json.dumps([user_id]),)) as cur:
                if await cur.fetchone() is None:
                    raise Conflict(f"user {user_id} is not an enabled counselor")
            if capacity is not None and conv.assignee_id != user_id:
                async with db.execute(q.LOAD_OF, (json.dumps([user_id]),)) as cur:
                    load = sum(int(r[2]) for r in await cur.fetchall())
                if load >= capacity:
                    raise Conflict(f"user {user_id} is at capacity ({capacity})")
            await db.execute(q.ASSIGN, (user_id, _ts(now), conv.id))
            await self._event(
                db,
                "conversation_assigned",
                now,
                actor_id=actor_id,
                conversation_id=conv.id,
                data={"user_id": user_id, "from_user_id": conv.assignee_id},
            )
            async with db.execute(q.GET_CONVERSATION, (conv.id,)) as cur:
                row = await cur.fetchone()
            assert row is not None
            return rows.conversation(row, _parse)

    async def close(
        self, conversation_id: ConversationId, *, actor_id: UserId, now: datetime
    ) -> Conversation:
        async with self._tx() as db:
            conv = await self._open_conversation(db, conversation_id)
            await db.execute(q.CLOSE, (_ts(now), _ts(now), conv.id))
            await self._event(
                db, "conversation_closed", now, actor_id=actor_id, conversation_id=conv.id
            )
            async with db.execute(q.GET_CONVERSATION, (conv.id,)) as cur:
                row = await cur.fetchone()
            assert row is not None
            return rows.conversation(row, _parse)

    async def consulter_history(
        self, channel: ChannelKind, identity_hash: str, *, limit: int = 200
    ) -> list[Message]:
        found = await self._all(q.CONSULTER_HISTORY, (channel, identity_hash, limit))
        return [rows.message(r, _parse) for r in reversed(found)]

    # ---- outbox -------------------------------------------------------------------------
    async def claim_outbox(self, *, now: datetime, limit: int, lease_s: float) -> list[OutboxItem]:
        async with self._tx() as db:
            async with db.execute(q.DUE_OUTBOX, (_ts(now), limit)) as cur:
                due = [int(r[0]) for r in await cur.fetchall()]
            if not due:
                return []
            until = _ts(now + timedelta(seconds=lease_s))
            await db.execute(q.CLAIM_OUTBOX, (until, _ts(now), json.dumps(due)))
            async with db.execute(q.OUTBOX_ITEMS, (json.dumps(due),)) as cur:
                found = await cur.fetchall()
        return [
            OutboxItem(
                outbox_id=OutboxId(r[0]),
                attempts=int(r[1]),
                message=OutboundMessage(
                    message_id=MessageId(r[2]),
                    conversation_id=ConversationId(r[3]),
                    channel=ChannelKind(r[4]),
                    recipient=r[5],
                    body=r[6],
                    discreet=bool(r[7]),
                    automatic=bool(r[8]),
                ),
            )
            for r in found
        ]

    async def _outbox_message(self, db: aiosqlite.Connection, outbox_id: OutboxId) -> int:
        async with db.execute(q.OUTBOX_MESSAGE, (outbox_id,)) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")
        return int(row[0])

    async def mark_sent(self, outbox_id: OutboxId, *, provider_id: str, now: datetime) -> None:
        async with self._tx() as db:
            mid = await self._outbox_message(db, outbox_id)
            await db.execute(q.MARK_SENT, (provider_id, _ts(now), outbox_id))
            await db.execute(q.SET_DELIVERY, (DeliveryStatus.SENT, provider_id, mid))
            await self._event(
                db,
                "reply_sent",
                now,
                message_id=mid,
                conversation_id=await self._conversation_of(db, mid),
            )

    async def _conversation_of(self, db: aiosqlite.Connection, message_id: int) -> int:
        async with db.execute(
            "SELECT conversation_id FROM messages WHERE id = ?", (message_id,)
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def mark_retry(
        self, outbox_id: OutboxId, *, error: str, retry_at: datetime, now: datetime
    ) -> None:
        async with self._tx() as db:
            await self._outbox_message(db, outbox_id)
            await db.execute(q.MARK_RETRY, (_ts(retry_at), error, _ts(now), outbox_id))

    async def mark_failed(self, outbox_id: OutboxId, *, error: str, now: datetime) -> None:
        async with self._tx() as db:
            mid = await self._outbox_message(db, outbox_id)
            await db.execute(q.MARK_FAILED, (error, _ts(now), outbox_id))
            await db.execute(q.SET_DELIVERY, (DeliveryStatus.FAILED, None, mid))
            await self._event(
                db,
                "reply_failed",
                now,
                message_id=mid,
                conversation_id=await self._conversation_of(db, mid),
                data={"error": error},
            )

    async def next_outbox_due(self) -> datetime | None:
        (row,) = await self._all(q.NEXT_DUE)
        return None if row[0] is None else _parse(row[0])

    async def mark_bounced(self, provider_ids: Sequence[str], *, now: datetime) -> list[MessageId]:
        if not provider_ids:
            return []
        return await self._on_db_thread(
            lambda db: sm.mark_bounced(db, provider_ids, now), write=True
        )

    # ---- mail channel state -------------------------------------------------------------
    async def mail_cursor(self, mailbox: str) -> MailCursor | None:
        return await self._on_db_thread(lambda db: sm.mail_cursor(db, mailbox), write=False)

    async def save_mail_cursor(self, mailbox: str, cursor: MailCursor, *, now: datetime) -> None:
        await self._on_db_thread(
            lambda db: sm.save_mail_cursor(db, mailbox, cursor, now), write=True
        )

    async def mail_thread(self, conversation_id: ConversationId) -> MailThread | None:
        return await self._on_db_thread(lambda db: sm.mail_thread(db, conversation_id), write=False)

    async def save_mail_threads(
        self, threads: Sequence[tuple[ConversationId, MailThread]], *, now: datetime
    ) -> None:
        if threads:
            await self._on_db_thread(lambda db: sm.save_mail_threads(db, threads, now), write=True)

    # ---- users, sessions, tokens --------------------------------------------------------
    async def create_user(self, user: NewUser, *, now: datetime) -> User:
        try:
            async with self._tx() as db:
                async with db.execute(q.INSERT_USER, _user_params(user, now)) as cur:
                    row = await cur.fetchone()
                assert row is not None
                created = rows.user(row, _parse)
                await self._event(db, "user_created", now, data={"user_id": created.id})
                return created
        except DuplicateKey as exc:
            raise DuplicateKey(f"username {user.username!r} is taken") from exc

    async def get_user(self, user_id: UserId) -> User:
        found = await self._all(q.GET_USER, (user_id,))
        if not found:
            raise NotFound(f"user {user_id} does not exist")
        return rows.user(found[0], _parse)

    async def find_login(self, username: str) -> tuple[User, str] | None:
        found = await self._all(q.FIND_LOGIN, (username,))
        return (rows.user(found[0], _parse), found[0][-1]) if found else None

    async def list_users(self) -> list[User]:
        return [rows.user(r, _parse) for r in await self._all(q.LIST_USERS)]

    async def set_user_disabled(self, username: str, disabled: bool, *, now: datetime) -> User:
        async with self._tx() as db:
            async with db.execute(q.SET_DISABLED, (int(disabled), username)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise NotFound(f"user {username!r} does not exist")
            found = rows.user(row, _parse)
            if disabled:
                await db.execute(q.DELETE_USER_SESSIONS, (found.id,))
            await self._event(
                db, "user_disabled" if disabled else "user_enabled", now, data={"user_id": found.id}
            )
            return found

    async def set_password_hash(self, user_id: UserId, password_hash: str) -> None:
        async with self._tx() as db:
            cur = await db.execute(q.SET_PASSWORD, (password_hash, user_id))
            if cur.rowcount == 0:
                raise NotFound(f"user {user_id} does not exist")

    async def create_session(
        self, token_hash: str, user_id: UserId, *, now: datetime, expires_at: datetime
    ) -> None:
        async with self._tx() as db:
            await db.execute(q.INSERT_SESSION, (token_hash, user_id, _ts(now), _ts(expires_at)))

    async def session_user(self, token_hash: str, *, now: datetime) -> User | None:
        found = await self._all(q.SESSION_USER, (token_hash, _ts(now)))
        return rows.user(found[0], _parse) if found else None

    async def delete_session(self, token_hash: str) -> None:
        async with self._tx() as db:
            await db.execute(q.DELETE_SESSION, (token_hash,))

    async def create_api_token(
        self, token_hash: str, user_id: UserId, *, name: str, now: datetime
    ) -> None:
        async with self._tx() as db:
            await db.execute(q.INSERT_TOKEN, (token_hash, user_id, name, _ts(now)))

    async def token_user(self, token_hash: str) -> User | None:
        found = await self._all(q.TOKEN_USER, (token_hash,))
        return rows.user(found[0], _parse) if found else None

    # ---- events -------------------------------------------------------------------------
    async def list_events(self, *, after_id: int = 0, limit: int = 500) -> list[Event]:
        return [rows.event(r, _parse) for r in await self._all(q.LIST_EVENTS, (after_id, limit))]

    async def last_event_id(self) -> int:
        (row,) = await self._all(q.LAST_EVENT_ID)
        return int(row[0])

    async def record_event(
        self,
        kind: str,
        *,
        now: datetime,
        actor_id: UserId | None = None,
        conversation_id: ConversationId | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        async with self._tx() as db:
            await self._event(
                db, kind, now, actor_id=actor_id, conversation_id=conversation_id, data=data
            )


def _in_transaction(
    db: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], write: bool
) -> T:
    """On the database thread: BEGIN IMMEDIATE (write) or a consistent read, then fn, COMMIT."""
    db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        result = fn(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def _user_params(user: NewUser, now: datetime) -> tuple[Any, ...]:
    return (
        user.username,
        user.display_name,
        user.password_hash,
        json.dumps(sorted(user.roles)),
        json.dumps(sorted(user.skills)),
        json.dumps(sorted(user.languages)),
        user.capacity,
        int(Role.COUNSELOR in user.roles),
        _ts(now),
    )


def _newer_message(found: int) -> str:
    return (
        f"the database schema is version {found}, newer than this code "
        f"(version {SCHEMA_VERSION}); upgrade tsunagu-inbox"
    )
