"""Staff commands on accounts: create and disable users, sessions and API tokens, and the records
sign-in leaves (signed_in, sign_in_failures), for the API and the CLI alike."""

from __future__ import annotations

from datetime import timedelta

from inbox.commands.writes import Commands
from inbox.core.model import NewUser, User, UserId


class AccountCommands(Commands):
    async def create_user(self, new: NewUser, *, by: UserId | None = None) -> User:
        """Create the account (user_created); `by` is the admin who did, recorded beside it as
        user_created_by (the CLI acts as nobody). Raises DuplicateKey for a taken username."""
        async with self._committing() as commit:
            created = await commit(self._store.create_user, new, now=self._clock())
            if by is not None:
                await commit.event(
                    "user_created_by", now=self._clock(), actor_id=by, data={"user_id": created.id}
                )
        return created

    async def disable_user(self, username: str) -> User:
        """Disable her: her sessions and tokens stop working and her open conversations go back
        to the queue. Run again on a disabled user, it releases anything still assigned to her.
        Raises NotFound."""
        async with self._committing() as commit:
            return await commit(self._store.set_user_disabled, username, True, now=self._clock())

    async def start_session(self, user_id: UserId, token_hash: str, *, ttl: timedelta) -> None:
        """A signed-in session for the token's hash, valid for `ttl`, and the signed_in record."""
        now = self._clock()
        async with self._committing() as commit:
            await commit(
                self._store.create_session, token_hash, user_id, now=now, expires_at=now + ttl
            )
            await commit.event("signed_in", now=now, actor_id=user_id)

    async def end_session(self, token_hash: str) -> None:
        async with self._committing() as commit:
            await commit(self._store.delete_session, token_hash)

    async def record_sign_in_failures(self, data: dict[str, object]) -> None:
        """The sign_in_failures record of a lock (a username's or an address's failures)."""
        async with self._committing() as commit:
            await commit.event("sign_in_failures", now=self._clock(), data=data)

    async def set_password_hash(self, user_id: UserId, password_hash: str) -> None:
        async with self._committing() as commit:
            await commit(self._store.set_password_hash, user_id, password_hash)

    async def create_api_token(self, user_id: UserId, token_hash: str, *, name: str) -> None:
        async with self._committing() as commit:
            await commit(
                self._store.create_api_token, token_hash, user_id, name=name, now=self._clock()
            )
