"""Follow-ups (近況確認) over HTTP: set one from a conversation, list a consulter's, cancel one
before its day, resolve one (done, skipped, unreachable).

Who may (decided here, on the server): counselors and supervisors only (phone staff alone read
no counselor's notes). Setting one: the conversation's assignee or a supervisor. Listing: whoever
may read the conversation. Cancelling: its counselor, who set it, or a supervisor; resolving
also the assignee of its task. The note is staff's, never sent to her, never in an event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from inbox.core.casework import FOLLOW_UP_OUTCOMES
from inbox.core.errors import PermissionDenied
from inbox.core.follow_ups import DEFAULT_FOLLOW_UP_DAYS, FollowUp
from inbox.core.model import ConversationId, Role, User, UserId
from inbox.web.access import readable_conversation, require, sees_everything
from inbox.web.api import Names, staff_names
from inbox.web.server import SERVICES, ApiError, json_body, path_id

routes = web.RouteTableDef()
ROLES = (Role.COUNSELOR, Role.SUPERVISOR)


def _person(user_id: int | None, names: Names) -> dict[str, Any] | None:
    return None if user_id is None else {"id": user_id, "name": names.get(UserId(user_id))}


def follow_up_json(f: FollowUp, names: Names) -> dict[str, Any]:
    return {
        "id": f.id,
        "due_on": f.due_on.isoformat(),
        "status": f.status.value,
        "note": f.note,
        "channel": f.channel.value,
        "identity": f.identity_id,
        "counselor": _person(f.counselor_id, names),
        "conversation": f.conversation_id,
        "from_conversation": f.from_conversation_id,
        "created_at": f.created_at.isoformat(),
        "created_by": _person(f.created_by, names),
        "resolved_at": None if f.resolved_at is None else f.resolved_at.isoformat(),
        "resolved_by": _person(f.resolved_by, names),
    }


async def _readable(request: web.Request) -> tuple[User, Any]:
    user, conv = await readable_conversation(request)
    if not user.has_any(*ROLES):
        raise PermissionDenied("follow-ups are counselors' and supervisors'")
    return user, conv


@routes.get("/api/conversations/{id}/follow-ups")
async def list_follow_ups(request: web.Request) -> web.Response:
    """Her follow-ups (this conversation's consulter's), the identities one may be written to,
    the day the form starts from and the outcomes' words."""
    _, conv = await _readable(request)
    services = request.app[SERVICES]
    found = await services.store.follow_ups_of(conv.contact_id)
    identities = await services.store.identities_of(conv.contact_id)
    names = await staff_names(services)
    today = services.clock().astimezone(services.settings.timezone).date()
    return web.json_response(
        {
            "follow_ups": [follow_up_json(f, names) for f in found],
            "identities": [{"id": i, "channel": c.value} for i, c in identities],
            "default_due_on": (today + timedelta(days=DEFAULT_FOLLOW_UP_DAYS)).isoformat(),
            "today": today.isoformat(),
            "outcomes": [{"id": o.id, "ja": o.ja, "en": o.en} for o in FOLLOW_UP_OUTCOMES],
        }
    )


@routes.post("/api/conversations/{id}/follow-ups")
async def set_follow_up(request: web.Request) -> web.Response:
    user, conv = await _readable(request)
    if not (sees_everything(user) or conv.assignee_id == user.id):
        raise PermissionDenied("only the assigned counselor or a supervisor")
    services = request.app[SERVICES]
    new = services.follow_ups.read(ConversationId(conv.id), await json_body(request))
    made = await services.follow_ups.set(new, actor=user.id)
    names = await staff_names(services)
    return web.json_response({"follow_up": follow_up_json(made, names)}, status=201)


async def _own(request: web.Request, *, resolving: bool) -> tuple[User, FollowUp]:
    """The follow-up the path names, if she may change it; 404 when she may not (a counselor
    must not learn which follow-ups exist elsewhere)."""
    user = await require(request, *ROLES)
    store = request.app[SERVICES].store
    found = await store.get_follow_up(path_id(request))
    if sees_everything(user) or user.id in (found.counselor_id, found.created_by):
        return user, found
    if resolving and found.conversation_id is not None:
        task = await store.get_conversation(found.conversation_id)
        if task.assignee_id == user.id:
            return user, found
    raise ApiError(404, "not_found", f"follow-up {found.id} does not exist")


@routes.post("/api/follow-ups/{id}/cancel")
async def cancel_follow_up(request: web.Request) -> web.Response:
    user, found = await _own(request, resolving=False)
    services = request.app[SERVICES]
    done = await services.follow_ups.cancel(found.id, actor=user.id)
    return web.json_response({"follow_up": follow_up_json(done, await staff_names(services))})


@routes.post("/api/follow-ups/{id}/resolve")
async def resolve_follow_up(request: web.Request) -> web.Response:
    user, found = await _own(request, resolving=True)
    services = request.app[SERVICES]
    done = await services.follow_ups.resolve(found.id, await json_body(request), actor=user.id)
    return web.json_response({"follow_up": follow_up_json(done, await staff_names(services))})


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
