"""Staff accounts, sign-in sessions and API tokens: the AccountStore operations, written once.

The one check here beyond the row itself: no admin's change (one with an actor) may leave the
desk without an enabled admin. PostgreSQL locks the enabled admins' rows first (ENABLED_ADMINS),
so two admins disabling each other at once are decided one after the other; SQLite has one writer
anyway. The command line (no actor) may: it is where an admin is made again."""

from __future__ import annotations

from datetime import datetime

from inbox.core.errors import DuplicateKey, LastAdmin, NotFound
from inbox.core.model import NewUser, Role, User, UserId
from inbox.core.sessions import session_tag
from storage import events, rows
from storage.events import EventRow
from storage.sql import Database, Dialects, Tx

USER_COLUMNS = (
    "id, username, display_name, roles, skills, languages, capacity, disabled, created_at, "
    "presence, teams, channel_capacity, shift, must_change_password"
)
_U_USER_COLUMNS = ", ".join("u." + c.strip() for c in USER_COLUMNS.split(","))
INSERT_USER = f"""
INSERT INTO users (username, display_name, password_hash, roles, skills, languages, capacity,
                   is_counselor, created_at, presence, must_change_password, is_phone_staff)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING {USER_COLUMNS}
"""
GET_USER = f"SELECT {USER_COLUMNS} FROM users WHERE id = $1"
FIND_LOGIN = f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1"
LIST_USERS = f"SELECT {USER_COLUMNS} FROM users ORDER BY username"
DISPLAY_NAMES = "SELECT id, display_name FROM users"
SET_DISABLED = f"UPDATE users SET disabled = $2 WHERE username = $1 RETURNING {USER_COLUMNS}"
DELETE_USER_SESSIONS = "DELETE FROM sessions WHERE user_id = $1"
DELETE_USER_TOKENS = "DELETE FROM api_tokens WHERE user_id = $1"
# A disabled counselor's open conversations go back to the queue at their old place (one
# waiting for the consulter's answer keeps waiting, with no one assigned). A statement of its
# own, after SET_DISABLED in the same transaction: on PostgreSQL that one waits for a router
# holding her row, and only then does this one start, with a snapshot that sees its commit.
RELEASE_ASSIGNED = """
UPDATE conversations SET assignee_id = NULL, offered_at = NULL, opened_at = NULL,
    updated_at = $2, status = CASE WHEN status = 'assigned' THEN 'queued' ELSE status END
WHERE assignee_id = $1 AND status IN ('assigned', 'waiting')
RETURNING id
"""
# A role taken away releases only the work of that role (her other role keeps its own): phone
# conversations are phone staff's, every other channel a counselor's (routing.takes_channel).
_RELEASE = RELEASE_ASSIGNED.replace("RETURNING id", "AND {side}\nRETURNING id")
RELEASE_PHONE = _RELEASE.format(side="channel = 'phone'")
RELEASE_NOT_PHONE = _RELEASE.format(side="channel <> 'phone'")
SET_PASSWORD = "UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id"
GET_BY_USERNAME = f"SELECT {USER_COLUMNS} FROM users WHERE username = $1"
UPDATE_ACCOUNT = f"""
UPDATE users SET display_name = COALESCE($2, display_name), roles = COALESCE($3, roles),
    is_counselor = COALESCE($4, is_counselor), is_phone_staff = COALESCE($5, is_phone_staff)
WHERE username = $1
RETURNING {USER_COLUMNS}
"""
SET_MUST_CHANGE = f"""
UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1
RETURNING {USER_COLUMNS}
"""
DELETE_OTHER_SESSIONS = "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2"
ENABLED_ADMINS = Dialects(
    postgres="""
SELECT id FROM users WHERE 'admin' = ANY(roles) AND NOT disabled ORDER BY id FOR NO KEY UPDATE
""",
    sqlite="""
SELECT id FROM users
WHERE EXISTS (SELECT 1 FROM json_each(users.roles) WHERE value = 'admin') AND NOT disabled
ORDER BY id
""",
)
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


class Accounts:
    """The AccountStore operations of both stores, over the store's Database."""

    _db: Database

    async def create_user(self, user: NewUser, *, now: datetime) -> User:
        async def op(tx: Tx) -> User:
            row = await tx.fetchrow(
                INSERT_USER,
                user.username,
                user.display_name,
                user.password_hash,
                sorted(user.roles),
                sorted(user.skills),
                sorted(user.languages),
                user.capacity,
                Role.COUNSELOR in user.roles,
                now,
                user.presence.value,
                user.must_change_password,
                Role.PHONE_STAFF in user.roles,
            )
            assert row is not None
            created = rows.user(row, tx.parse_time)
            await events.record(tx, "user_created", now, data={"user_id": created.id})
            return created

        try:
            return await self._db.write(op)
        except DuplicateKey as exc:
            raise DuplicateKey(f"username {user.username!r} is taken", key="username") from exc

    async def get_user(self, user_id: UserId) -> User:
        row = await self._db.read(lambda tx: tx.fetchrow(GET_USER, user_id))
        if row is None:
            raise NotFound(f"user {user_id} does not exist")
        return rows.user(row, self._db.parse_time)

    async def find_login(self, username: str) -> tuple[User, str] | None:
        row = await self._db.read(lambda tx: tx.fetchrow(FIND_LOGIN, username))
        return None if row is None else (rows.user(row, self._db.parse_time), row[-1])

    async def list_users(self) -> list[User]:
        found = await self._db.read(lambda tx: tx.fetch(LIST_USERS))
        return [rows.user(r, self._db.parse_time) for r in found]

    async def display_names(self) -> dict[UserId, str]:
        found = await self._db.read(lambda tx: tx.fetch(DISPLAY_NAMES))
        return {UserId(r[0]): r[1] for r in found}

    async def set_user_disabled(
        self, username: str, disabled: bool, *, now: datetime, actor_id: UserId | None = None
    ) -> User:
        async def op(tx: Tx) -> User:
            admins = await _enabled_admins(tx)
            row = await tx.fetchrow(SET_DISABLED, username, disabled)
            if row is None:
                raise NotFound(f"user {username!r} does not exist")
            user = rows.user(row, tx.parse_time)
            if disabled and actor_id is not None:
                _keeps_an_admin(admins, user)
            kind = "user_disabled" if disabled else "user_enabled"
            await events.record(tx, kind, now, actor_id=actor_id, data={"user_id": user.id})
            if disabled:
                await tx.execute(DELETE_USER_SESSIONS, user.id)
                await _release_assigned(tx, user.id, now, reason="user_disabled")
            return user

        return await self._db.write(op)

    async def update_account(
        self,
        username: str,
        *,
        display_name: str | None,
        roles: frozenset[Role] | None,
        actor_id: UserId | None,
        now: datetime,
    ) -> User:
        async def op(tx: Tx) -> User:
            admins = await _enabled_admins(tx)
            before = await tx.fetchrow(GET_BY_USERNAME, username)
            if before is None:
                raise NotFound(f"user {username!r} does not exist")
            was = rows.user(before, tx.parse_time)
            row = await tx.fetchrow(
                UPDATE_ACCOUNT,
                username,
                display_name,
                None if roles is None else sorted(roles),
                None if roles is None else Role.COUNSELOR in roles,
                None if roles is None else Role.PHONE_STAFF in roles,
            )
            assert row is not None
            user = rows.user(row, tx.parse_time)
            if actor_id is not None and Role.ADMIN not in user.roles:
                _keeps_an_admin(admins, user)
            fields: list[str] = []
            data: dict[str, object] = {"user_id": user.id, "fields": fields}
            if display_name is not None and display_name != was.display_name:
                fields.append("display_name")
                data["display_name"] = display_name
            if roles is not None and roles != was.roles:
                fields.append("roles")
                data["roles"] = sorted(roles)
            await events.record(tx, "user_updated", now, actor_id=actor_id, data=data)
            if Role.COUNSELOR in was.roles and Role.COUNSELOR not in user.roles:
                await _release_assigned(
                    tx, user.id, now, reason="counselor_role_removed", query=RELEASE_NOT_PHONE
                )
            if Role.PHONE_STAFF in was.roles and Role.PHONE_STAFF not in user.roles:
                await _release_assigned(
                    tx, user.id, now, reason="phone_staff_role_removed", query=RELEASE_PHONE
                )
            return user

        return await self._db.write(op)

    async def reset_password(
        self, username: str, password_hash: str, *, actor_id: UserId | None, now: datetime
    ) -> User:
        async def op(tx: Tx) -> User:
            user_id = await tx.fetchval(GET_BY_USERNAME, username)
            if user_id is None:
                raise NotFound(f"user {username!r} does not exist")
            row = await tx.fetchrow(SET_MUST_CHANGE, user_id, password_hash, True)
            assert row is not None
            await tx.execute(DELETE_USER_SESSIONS, user_id)
            await tx.execute(DELETE_USER_TOKENS, user_id)  # a leaked one would work again
            await events.record(
                tx, "password_reset", now, actor_id=actor_id, data={"user_id": user_id}
            )
            return rows.user(row, tx.parse_time)

        return await self._db.write(op)

    async def change_password(
        self, user_id: UserId, password_hash: str, *, keep_session: str | None, now: datetime
    ) -> User:
        async def op(tx: Tx) -> User:
            row = await tx.fetchrow(SET_MUST_CHANGE, user_id, password_hash, False)
            if row is None:
                raise NotFound(f"user {user_id} does not exist")
            await tx.execute(DELETE_OTHER_SESSIONS, user_id, keep_session or "")
            data: dict[str, object] = {"user_id": user_id}
            if keep_session is not None:  # her sockets of the others close (inbox.web.sockets)
                data["kept_session"] = session_tag(keep_session)
            await events.record(tx, "password_changed", now, actor_id=user_id, data=data)
            return rows.user(row, tx.parse_time)

        return await self._db.write(op)

    async def set_password_hash(self, user_id: UserId, password_hash: str) -> None:
        found = await self._db.write(lambda tx: tx.fetchval(SET_PASSWORD, user_id, password_hash))
        if found is None:
            raise NotFound(f"user {user_id} does not exist")

    async def create_session(
        self, token_hash: str, user_id: UserId, *, now: datetime, expires_at: datetime
    ) -> None:
        await self._db.write(
            lambda tx: tx.execute(INSERT_SESSION, token_hash, user_id, now, expires_at)
        )

    async def session_user(self, token_hash: str, *, now: datetime) -> User | None:
        row = await self._db.read(lambda tx: tx.fetchrow(SESSION_USER, token_hash, now))
        return None if row is None else rows.user(row, self._db.parse_time)

    async def delete_session(self, token_hash: str) -> None:
        await self._db.write(lambda tx: tx.execute(DELETE_SESSION, token_hash))

    async def create_api_token(
        self, token_hash: str, user_id: UserId, *, name: str, now: datetime
    ) -> None:
        await self._db.write(lambda tx: tx.execute(INSERT_TOKEN, token_hash, user_id, name, now))

    async def token_user(self, token_hash: str) -> User | None:
        row = await self._db.read(lambda tx: tx.fetchrow(TOKEN_USER, token_hash))
        return None if row is None else rows.user(row, self._db.parse_time)


async def _enabled_admins(tx: Tx) -> set[int]:
    """The enabled admins' ids, their rows locked (PostgreSQL) until the transaction ends."""
    return {int(r[0]) for r in await tx.fetch(ENABLED_ADMINS)}


def _keeps_an_admin(admins_before: set[int], changed: User) -> None:
    """Raise LastAdmin (rolling the write back) when `changed`, no longer an enabled admin, was
    the only one."""
    if admins_before and admins_before <= {changed.id}:
        raise LastAdmin(f"{changed.username!r} is the only enabled admin; make another admin first")


async def _release_assigned(
    tx: Tx, user_id: UserId, now: datetime, *, reason: str, query: str = RELEASE_ASSIGNED
) -> None:
    """Her open conversations (all, or those of `query`) back to the queue, a
    conversation_requeued event each."""
    released = await tx.fetch(query, user_id, now)
    why = events.data_json({"from_user_id": user_id, "reason": reason})
    await events.record_many(
        tx,
        [
            EventRow(now, "conversation_requeued", conversation_id=c, data=why)
            for c in sorted(int(r[0]) for r in released)
        ],
    )
