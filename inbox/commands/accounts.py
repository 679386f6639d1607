"""Staff commands on accounts: create, disable and enable users, their roles and display names,
passwords (an admin's reset, her own change), sessions and API tokens, and the records sign-in
leaves (signed_in, sign_in_failures), for the API and the CLI alike.

`by` is the admin who acts (None: the CLI, which acts as nobody). An admin never disables herself
nor takes her own admin role (OwnAccount), so the desk keeps the admin who acts; the store also
refuses an admin's change that would leave no enabled admin (LastAdmin: two admins disabling each
other at once). The CLI may, as it is where an admin is made (or enabled) again."""

from __future__ import annotations

from datetime import timedelta

from inbox.commands.writes import Commands
from inbox.core.errors import OwnAccount
from inbox.core.model import NewUser, Role, User, UserId


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

    async def disable_user(self, username: str, *, by: User | None = None) -> User:
        """Disable her: her sessions and tokens stop working and her open conversations go back
        to the queue. Run again on a disabled user, it releases anything still assigned to her.
        Raises NotFound, OwnAccount, LastAdmin."""
        if by is not None and by.username == username:
            raise OwnAccount("an admin cannot disable her own account; another admin can")
        async with self._committing() as commit:
            return await commit(
                self._store.set_user_disabled,
                username,
                True,
                now=self._clock(),
                actor_id=None if by is None else by.id,
            )

    async def enable_user(self, username: str, *, by: User | None = None) -> User:
        """Let a disabled account sign in again (user_enabled); her old sessions stay ended.
        Raises NotFound."""
        async with self._committing() as commit:
            return await commit(
                self._store.set_user_disabled,
                username,
                False,
                now=self._clock(),
                actor_id=None if by is None else by.id,
            )

    async def update_user(
        self,
        username: str,
        *,
        display_name: str | None = None,
        roles: frozenset[Role] | None = None,
        by: User | None = None,
    ) -> User:
        """Her display name and/or roles (user_updated); a counselor no longer gives her open
        conversations back to the queue. Raises NotFound, OwnAccount, LastAdmin."""
        takes_admin = roles is not None and Role.ADMIN not in roles
        if by is not None and by.username == username and takes_admin:
            raise OwnAccount("an admin cannot remove her own admin role; another admin can")
        async with self._committing() as commit:
            return await commit(
                self._store.update_account,
                username,
                display_name=display_name,
                roles=roles,
                actor_id=None if by is None else by.id,
                now=self._clock(),
            )

    async def reset_password(
        self, username: str, password_hash: str, *, by: User | None = None
    ) -> User:
        """An admin's reset to a temporary password (its hash here): her sessions and API
        tokens end and she must set a new one at her next sign-in (password_reset). Raises
        NotFound."""
        async with self._committing() as commit:
            return await commit(
                self._store.reset_password,
                username,
                password_hash,
                actor_id=None if by is None else by.id,
                now=self._clock(),
            )

    async def change_password(
        self, user_id: UserId, password_hash: str, *, keep_session: str | None
    ) -> User:
        """She set her own password (password_changed): no longer must change it; her other
        sessions end, the one whose token hash is `keep_session` stays; her API tokens stay
        (only the command line makes them, so her password never could). Raises NotFound."""
        async with self._committing() as commit:
            return await commit(
                self._store.change_password,
                user_id,
                password_hash,
                keep_session=keep_session,
                now=self._clock(),
            )

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
