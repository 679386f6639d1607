"""Accounts on the server: an admin enables an account, changes its roles and display name, and
resets its password; anyone signed in sets her own password (the one thing a session may do
while an admin's password stands, inbox.web.access). Creating, listing and disabling are in
inbox.web.api.

A reset makes the server choose the temporary password and show it once: the admin never picks
a weak or reused one, it always meets the password rule, and it is of no use for long (she must
set her own at the next sign-in; every session of hers ends at the reset)."""

from __future__ import annotations

from aiohttp import web

from inbox.auth import check_password, temporary_password
from inbox.core.errors import ValidationError
from inbox.core.model import Role
from inbox.web.access import current_user, require, session_hash
from inbox.web.api import checked_roles, user_json
from inbox.web.server import SERVICES, ApiError, field_str, json_body, path_text
from inbox.web.signin import checked_login, new_password_hash

MAX_DISPLAY_NAME_CHARS = 100
routes = web.RouteTableDef()
# What the server answers with a temporary password: kept by no cache, anywhere.
_NO_STORE = {"Cache-Control": "no-store"}


async def _set_enabled(request: web.Request, enabled: bool) -> web.Response:
    admin = await require(request, Role.ADMIN)
    accounts = request.app[SERVICES].commands.accounts
    username = path_text(request, "username")
    if enabled:
        user = await accounts.enable_user(username, by=admin)
    else:
        user = await accounts.disable_user(username, by=admin)
    return web.json_response({"user": user_json(user)})


@routes.post("/api/users/{username}/disable")
async def disable_user(request: web.Request) -> web.Response:
    return await _set_enabled(request, False)


@routes.post("/api/users/{username}/enable")
async def enable_user(request: web.Request) -> web.Response:
    return await _set_enabled(request, True)


@routes.patch("/api/users/{username}")
async def update_user(request: web.Request) -> web.Response:
    """{display_name?, roles?}: what is given changes, the rest stays."""
    admin = await require(request, Role.ADMIN)
    services = request.app[SERVICES]
    data = await json_body(request)
    display_name = None
    if "display_name" in data:
        display_name = field_str(data, "display_name", max_chars=MAX_DISPLAY_NAME_CHARS).strip()
    roles = checked_roles(data["roles"]) if "roles" in data else None
    if display_name is None and roles is None:
        raise ValidationError("give display_name, roles or both", field="display_name")
    user = await services.commands.accounts.update_user(
        path_text(request, "username"), display_name=display_name, roles=roles, by=admin
    )
    return web.json_response({"user": user_json(user)})


@routes.post("/api/users/{username}/password")
async def reset_password(request: web.Request) -> web.Response:
    """A new temporary password, shown this once; she must set her own at the next sign-in."""
    admin = await require(request, Role.ADMIN)
    services = request.app[SERVICES]
    username = path_text(request, "username")
    if await services.store.find_login(username) is None:  # no hashing for nobody
        raise ApiError(404, "not_found", f"user {username!r} does not exist")
    temporary = temporary_password()
    password_hash = await new_password_hash(services, temporary)
    user = await services.commands.accounts.reset_password(username, password_hash, by=admin)
    return web.json_response(
        {"user": user_json(user), "temporary_password": temporary}, headers=_NO_STORE
    )


@routes.post("/api/session/password")
async def change_own_password(request: web.Request) -> web.Response:
    """{current, new}: her own password. The current one is checked as a sign-in is (throttled,
    counted), but a wrong one is a 400 naming `current`: she stays signed in."""
    user = await current_user(request)
    services = request.app[SERVICES]
    data = await json_body(request)
    current, new = field_str(data, "current"), field_str(data, "new")
    check_password(new, field="new")  # before any hashing
    if new == current:
        raise ValidationError("must differ from the current password", field="new")
    try:
        await checked_login(request, user.username, current)
    except ApiError as exc:
        if exc.status != 401:
            raise
        raise ValidationError("this is not your current password", field="current") from None
    password_hash = await new_password_hash(services, new, field="new")
    updated = await services.commands.accounts.change_password(
        user.id, password_hash, keep_session=session_hash(request)
    )
    return web.json_response({"user": user_json(updated)})


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
