"""Users, login sessions and API tokens on SQLite: the SqliteStore methods."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from inbox.core.errors import DuplicateKey, NotFound
from inbox.core.model import NewUser, Role, User, UserId
from storage import rows
from storage.rows import format_text_time as _ts
from storage.rows import parse_text_time as _parse
from storage.sqlite import sql as q
from storage.sqlite.base import SqliteBase


class SqliteUsers(SqliteBase):
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
            raise DuplicateKey(f"username {user.username!r} is taken", key="username") from exc

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
            await self._event(
                db, "user_disabled" if disabled else "user_enabled", now, data={"user_id": found.id}
            )
            if disabled:
                await db.execute(q.DELETE_USER_SESSIONS, (found.id,))
                async with db.execute(q.RELEASE_ASSIGNED, (_ts(now), found.id)) as cur:
                    released = [int(r[0]) for r in await cur.fetchall()]
                for conversation_id in sorted(released):
                    await self._event(
                        db,
                        "conversation_requeued",
                        now,
                        conversation_id=conversation_id,
                        data={"from_user_id": found.id, "reason": "user_disabled"},
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
