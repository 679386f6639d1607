"""PostgresStore: the Store for several instances on one PostgreSQL, on an asyncpg pool."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Self

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
from storage import postgres_listen, rows
from storage import postgres_mail as pm
from storage import postgres_policies as pp
from storage import postgres_routing as pr
from storage import postgres_sql as q
from storage.base import SCHEMA_VERSION, KeyedInbound
from storage.postgres_intake import save_inbound_batch
from storage.postgres_pool import RETRYABLE, describe_url, open_pool, translated
from storage.postgres_schema import MIGRATIONS
from storage.routing_rows import agents_from_rows, channel_loads, waiting_from_rows

_parse = rows.parse_native_time
ROUTING_PAGE = 1000
# A unique violation means another instance committed the same identity, conversation or
# message meanwhile; the retry sees its rows. Deadlocks between two batches resolve the same way.
INTAKE_ATTEMPTS = 5


def _json(value: dict[str, object] | None) -> str:
    return json.dumps(value or {}, ensure_ascii=False)


class PostgresStore:
    """Store on a PostgreSQL database; any number of processes may share it."""

    def __init__(
        self,
        url: str,
        *,
        pool_min: int = 1,
        pool_max: int = 10,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self._url = url
        self._pool_min = pool_min
        self._pool_max = pool_max
        self._connect_timeout_s = connect_timeout_s
        self._pool: Any = None
        # Names this instance's connections, so its listener can skip its own news.
        self.instance = f"tsunagu-{secrets.token_hex(6)}"

    def __repr__(self) -> str:
        return f"PostgresStore({describe_url(self._url)!r})"

    async def __aenter__(self) -> Self:
        self._pool = await open_pool(
            self._url,
            min_size=self._pool_min,
            max_size=self._pool_max,
            timeout_s=self._connect_timeout_s,
            application_name=self.instance,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise StorageError("PostgresStore used outside `async with`")
        return self._pool

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[Any]:
        with translated():
            async with self.pool.acquire() as conn, conn.transaction():
                yield conn

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        with translated():
            return list(await self.pool.fetch(sql, *args))

    async def _fetchrow(self, sql: str, *args: Any) -> Any:
        with translated():
            return await self.pool.fetchrow(sql, *args)

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        with translated():
            return await self.pool.fetchval(sql, *args)

    async def listen(self, on_change: Callable[[bool], None]) -> None:
        await postgres_listen.listen(
            self._url, self.instance, on_change, connect_timeout_s=self._connect_timeout_s
        )

    # ---- schema -------------------------------------------------------------------------
    async def schema_version(self) -> int:
        if not await self._fetchval(q.HAS_SCHEMA_MIGRATIONS):
            return 0
        return int(await self._fetchval(q.CURRENT_VERSION))

    async def migrate(self) -> list[int]:
        applied: list[int] = []
        with translated():
            async with self.pool.acquire() as conn:
                while (version := await _migrate_one(conn)) is not None:
                    applied.append(version)
        return applied

    async def ping(self) -> None:
        try:
            await self._fetchval("SELECT 1")
        except StorageError as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    # ---- intake -------------------------------------------------------------------------
    async def save_inbound_batch(self, items: Sequence[KeyedInbound]) -> list[StoredInbound]:
        if not items:
            return []
        with translated():
            for attempt in range(1, INTAKE_ATTEMPTS + 1):
                try:
                    async with self.pool.acquire() as conn, conn.transaction():
                        return await save_inbound_batch(conn, items)
                except RETRYABLE as exc:
                    if attempt == INTAKE_ATTEMPTS:
                        raise Conflict(
                            f"inbound batch of {len(items)} still collided with concurrent "
                            f"writers after {attempt} attempts; the source should redeliver"
                        ) from exc
        raise AssertionError("unreachable")

    # ---- routing ------------------------------------------------------------------------
    async def routing_snapshot(self) -> RoutingSnapshot:
        # One snapshot for both queries, so loads and the queue describe the same moment.
        with translated():
            async with (
                self.pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                waiting = await conn.fetch(q.WAITING, ROUTING_PAGE)
                agents = await conn.fetch(q.AGENTS)
                loads = channel_loads(await conn.fetch(q.CHANNEL_LOADS))
        return RoutingSnapshot(
            waiting=waiting_from_rows(waiting, _parse),
            agents=agents_from_rows(agents, loads, _parse),
        )

    async def apply_assignments(self, assigns: Sequence[Assign], *, now: datetime) -> list[Assign]:
        if not assigns:
            return []
        async with self._tx() as conn:
            return await pr.apply_assignments(conn, assigns, now)

    async def update_counselor(
        self, user_id: UserId, change: CounselorUpdate, *, actor_id: UserId, now: datetime
    ) -> User:
        async with self._tx() as conn:
            row = await pr.update_counselor(conn, user_id, change, actor_id, now)
        return rows.user(row, _parse)

    async def mark_opened(
        self, conversation_id: ConversationId, user_id: UserId, *, now: datetime
    ) -> bool:
        async with self._tx() as conn:
            return await pr.mark_opened(conn, conversation_id, user_id, now)

    async def requeue_lapsed_offers(
        self, *, offered_before: datetime, now: datetime, limit: int = 500
    ) -> list[tuple[ConversationId, UserId]]:
        async with self._tx() as conn:
            return await pr.requeue_lapsed_offers(conn, offered_before, now, limit)

    async def requeue(
        self,
        conversation_id: ConversationId,
        *,
        actor_id: UserId,
        now: datetime,
        note: str | None = None,
    ) -> Conversation:
        async with self._tx() as conn:
            row = await pr.requeue(conn, conversation_id, actor_id, note, now)
        return rows.conversation(row, _parse)

    async def set_channel_paused(
        self, channel: ChannelKind, paused: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        async with self._tx() as conn:
            await pr.set_channel_paused(conn, channel, paused, actor_id, now)

    async def paused_channels(self) -> frozenset[ChannelKind]:
        async with self._tx() as conn:
            return await pr.paused_channels(conn)

    async def queue_depth(self) -> list[QueueDepth]:
        async with self._tx() as conn:
            return await pr.queue_depth(conn)

    async def claim_auto_reply(
        self,
        conversation_id: ConversationId,
        kind: str,
        *,
        body: str,
        discreet_body: str,
        now: datetime,
    ) -> Message | None:
        async with self._tx() as conn:
            message_id = await pp.claim_auto_reply(
                conn, conversation_id, kind, body, discreet_body, now
            )
            if message_id is None:
                return None
            sql = f"SELECT {q.MESSAGE_COLUMNS} FROM messages WHERE id = $1"
            row = await conn.fetchrow(sql, message_id)
        return rows.message(row, _parse)

    async def set_discretion(
        self, conversation_id: ConversationId, discretion: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        async with self._tx() as conn:
            await pp.set_discretion(conn, conversation_id, discretion, actor_id, now)

    async def contact_address(self, conversation_id: ConversationId) -> ContactAddress:
        async with self._tx() as conn:
            return await pp.contact_address(conn, conversation_id)

    async def set_anonymity(
        self,
        conversation_id: ConversationId,
        mode: Anonymity | None,
        *,
        actor_id: UserId,
        now: datetime,
    ) -> None:
        async with self._tx() as conn:
            await pp.set_anonymity(conn, conversation_id, mode, actor_id, now)

    async def recent_handling_s(self, *, limit: int = 50) -> float | None:
        async with self._tx() as conn:
            return await pp.recent_handling_s(conn, limit)

    async def awaiting_answers(self, *, limit: int = 2000) -> list[AwaitingAnswer]:
        async with self._tx() as conn:
            return await pp.awaiting_answers(conn, limit)

    async def apply_deadlines(
        self, changes: Sequence[DeadlineChange], *, urgent_priority: int, now: datetime
    ) -> list[DeadlineChange]:
        if not changes:
            return []
        async with self._tx() as conn:
            return await pp.apply_deadlines(conn, changes, urgent_priority, now)

    # ---- conversations and messages -----------------------------------------------------
    async def get_conversation(self, conversation_id: ConversationId) -> Conversation:
        row = await self._fetchrow(q.GET_CONVERSATION, conversation_id)
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return rows.conversation(row, _parse)

    async def list_conversations(
        self,
        *,
        statuses: Collection[ConversationStatus],
        visible_to: UserId | None = None,
        channels: Collection[ChannelKind] | None = None,
        limit: int = 200,
    ) -> list[Conversation]:
        found = await self._fetch(
            q.LIST_CONVERSATIONS,
            [str(s) for s in statuses],
            visible_to,
            None if channels is None else [str(c) for c in channels],
            limit,
        )
        return [rows.conversation(r, _parse) for r in found]

    async def list_messages(
        self, conversation_id: ConversationId, *, include_notes: bool = True, limit: int = 500
    ) -> list[Message]:
        await self.get_conversation(conversation_id)
        found = await self._fetch(q.LIST_MESSAGES, conversation_id, include_notes, limit)
        return [rows.message(r, _parse) for r in found]

    async def add_reply(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        async with self._tx() as conn:
            conv = await _lock_open_conversation(conn, conversation_id)
            row = await conn.fetchrow(q.ADD_REPLY, conv.id, conv.channel, body, author_id, now)
        return rows.message(row, _parse)

    async def add_note(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        row = await self._fetchrow(q.ADD_NOTE, conversation_id, body, author_id, now)
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return rows.message(row, _parse)

    async def assign(
        self,
        conversation_id: ConversationId,
        user_id: UserId,
        *,
        actor_id: UserId,
        now: datetime,
        capacity: int | None,
    ) -> Conversation:
        async with self._tx() as conn:
            # The counselor before the conversation, in the same order as apply_assignments.
            counselor = await conn.fetchval(q.LOCK_COUNSELOR, user_id)
            conv = await _lock_open_conversation(conn, conversation_id)
            if counselor is None:
                raise Conflict(f"user {user_id} is not an enabled counselor")
            if (
                capacity is not None
                and conv.assignee_id != user_id
                and await conn.fetchval(q.LOAD_OF, user_id) >= capacity
            ):
                raise Conflict(f"user {user_id} is at capacity ({capacity})")
            data = _json({"user_id": user_id, "from_user_id": conv.assignee_id})
            row = await conn.fetchrow(q.ASSIGN, conv.id, user_id, now, actor_id, data)
        return rows.conversation(row, _parse)

    async def close(
        self, conversation_id: ConversationId, *, actor_id: UserId, now: datetime
    ) -> Conversation:
        async with self._tx() as conn:
            conv = await _lock_open_conversation(conn, conversation_id)
            row = await conn.fetchrow(q.CLOSE, conv.id, now, actor_id)
        return rows.conversation(row, _parse)

    async def consulter_history(
        self, channel: ChannelKind, identity_hash: str, *, limit: int = 200
    ) -> list[Message]:
        found = await self._fetch(q.CONSULTER_HISTORY, str(channel), identity_hash, limit)
        return [rows.message(r, _parse) for r in reversed(found)]

    # ---- outbox -------------------------------------------------------------------------
    async def claim_outbox(self, *, now: datetime, limit: int, lease_s: float) -> list[OutboxItem]:
        until = now + timedelta(seconds=lease_s)
        found = await self._fetch(q.CLAIM_OUTBOX, now, limit, until)
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

    async def mark_sent(self, outbox_id: OutboxId, *, provider_id: str, now: datetime) -> None:
        if await self._fetchval(q.MARK_SENT, outbox_id, provider_id, now) is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")

    async def mark_retry(
        self, outbox_id: OutboxId, *, error: str, retry_at: datetime, now: datetime
    ) -> None:
        if await self._fetchval(q.MARK_RETRY, outbox_id, retry_at, error, now) is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")

    async def mark_failed(self, outbox_id: OutboxId, *, error: str, now: datetime) -> None:
        if await self._fetchval(q.MARK_FAILED, outbox_id, error, now) is None:
            raise NotFound(f"outbox item {outbox_id} does not exist")

    async def next_outbox_due(self) -> datetime | None:
        found = await self._fetchval(q.NEXT_DUE)
        return None if found is None else _parse(found)

    async def mark_bounced(self, provider_ids: Sequence[str], *, now: datetime) -> list[MessageId]:
        if not provider_ids:
            return []
        async with self._tx() as conn:
            return await pm.mark_bounced(conn, provider_ids, now)

    # ---- mail channel state -------------------------------------------------------------
    async def mail_cursor(self, mailbox: str) -> MailCursor | None:
        async with self._tx() as conn:
            return await pm.mail_cursor(conn, mailbox)

    async def save_mail_cursor(self, mailbox: str, cursor: MailCursor, *, now: datetime) -> None:
        async with self._tx() as conn:
            await pm.save_mail_cursor(conn, mailbox, cursor, now)

    async def mail_thread(self, conversation_id: ConversationId) -> MailThread | None:
        async with self._tx() as conn:
            return await pm.mail_thread(conn, conversation_id)

    async def save_mail_threads(
        self, threads: Sequence[tuple[ConversationId, MailThread]], *, now: datetime
    ) -> None:
        if threads:
            async with self._tx() as conn:
                await pm.save_mail_threads(conn, threads, now)

    # ---- users, sessions, tokens --------------------------------------------------------
    async def create_user(self, user: NewUser, *, now: datetime) -> User:
        try:
            row = await self._fetchrow(
                q.CREATE_USER,
                user.username,
                user.display_name,
                user.password_hash,
                sorted(user.roles),
                sorted(user.skills),
                sorted(user.languages),
                user.capacity,
                Role.COUNSELOR in user.roles,
                now,
            )
        except DuplicateKey as exc:
            raise DuplicateKey(f"username {user.username!r} is taken") from exc
        return rows.user(row, _parse)

    async def get_user(self, user_id: UserId) -> User:
        row = await self._fetchrow(q.GET_USER, user_id)
        if row is None:
            raise NotFound(f"user {user_id} does not exist")
        return rows.user(row, _parse)

    async def find_login(self, username: str) -> tuple[User, str] | None:
        row = await self._fetchrow(q.FIND_LOGIN, username)
        return None if row is None else (rows.user(row, _parse), row[-1])

    async def list_users(self) -> list[User]:
        return [rows.user(r, _parse) for r in await self._fetch(q.LIST_USERS)]

    async def set_user_disabled(self, username: str, disabled: bool, *, now: datetime) -> User:
        row = await self._fetchrow(q.SET_DISABLED, username, disabled, now)
        if row is None:
            raise NotFound(f"user {username!r} does not exist")
        return rows.user(row, _parse)

    async def set_password_hash(self, user_id: UserId, password_hash: str) -> None:
        if await self._fetchval(q.SET_PASSWORD, user_id, password_hash) is None:
            raise NotFound(f"user {user_id} does not exist")

    async def create_session(
        self, token_hash: str, user_id: UserId, *, now: datetime, expires_at: datetime
    ) -> None:
        await self._fetchval(q.INSERT_SESSION, token_hash, user_id, now, expires_at)

    async def session_user(self, token_hash: str, *, now: datetime) -> User | None:
        row = await self._fetchrow(q.SESSION_USER, token_hash, now)
        return None if row is None else rows.user(row, _parse)

    async def delete_session(self, token_hash: str) -> None:
        await self._fetchval(q.DELETE_SESSION, token_hash)

    async def create_api_token(
        self, token_hash: str, user_id: UserId, *, name: str, now: datetime
    ) -> None:
        await self._fetchval(q.INSERT_TOKEN, token_hash, user_id, name, now)

    async def token_user(self, token_hash: str) -> User | None:
        row = await self._fetchrow(q.TOKEN_USER, token_hash)
        return None if row is None else rows.user(row, _parse)

    # ---- events -------------------------------------------------------------------------
    async def list_events(self, *, after_id: int = 0, limit: int = 500) -> list[Event]:
        return [rows.event(r, _parse) for r in await self._fetch(q.LIST_EVENTS, after_id, limit)]

    async def last_event_id(self) -> int:
        (row,) = await self._fetch(q.LAST_EVENT_ID)
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
        await self._fetchval(
            q.INSERT_EVENT, now, kind, actor_id, conversation_id, None, _json(data)
        )


async def _migrate_one(conn: Any) -> int | None:
    """Apply the next pending migration in its own transaction; None when none is pending."""
    async with conn.transaction():
        # Held until commit: a second process migrating now waits here, then sees our version.
        await conn.execute(q.LOCK_MIGRATIONS, q.MIGRATION_LOCK_KEY)
        await conn.execute(q.CREATE_SCHEMA_MIGRATIONS)
        current = int(await conn.fetchval(q.CURRENT_VERSION))
        if current > SCHEMA_VERSION:
            raise SchemaMismatch(
                f"the database schema is version {current}, newer than this code "
                f"(version {SCHEMA_VERSION}); upgrade tsunagu-inbox"
            )
        if current == SCHEMA_VERSION:
            return None
        version = current + 1
        await conn.execute(MIGRATIONS[version])  # no arguments: the simple protocol runs scripts
        await conn.execute(q.RECORD_MIGRATION, version)
        return version


async def _lock_open_conversation(conn: Any, conversation_id: ConversationId) -> Conversation:
    row = await conn.fetchrow(q.LOCK_CONVERSATION, conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    conv = rows.conversation(row, _parse)
    if conv.status is ConversationStatus.CLOSED:
        raise Conflict(f"conversation {conversation_id} is closed")
    return conv
