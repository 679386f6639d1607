"""Users, login sessions and API tokens on PostgreSQL: the PostgresStore methods."""

from __future__ import annotations

from datetime import datetime

from inbox.core.errors import DuplicateKey, NotFound
from inbox.core.model import NewUser, Role, User, UserId
from storage import rows
from storage.postgres import sql as q
from storage.postgres.base import PostgresBase
from storage.rows import parse_native_time as _parse


class PostgresUsers(PostgresBase):
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
            raise DuplicateKey(f"username {user.username!r} is taken", key="username") from exc
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
        async with self._tx() as conn:
            row = await conn.fetchrow(q.SET_DISABLED, username, disabled, now)
            if row is None:
                raise NotFound(f"user {username!r} does not exist")
            user = rows.user(row, _parse)
            if disabled:
                await conn.execute(q.RELEASE_ASSIGNED, user.id, now)
        return user

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
