"""Supervisor actions: counselor profiles and presence, moving and draining work, pausing channels.

Every action is role-checked here, every change is written by the store with its event, and
each one wakes the router (someone may have room, or less) and the staff sockets.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inbox.core.errors import Conflict, NotFound, PermissionDenied, StorageError, ValidationError
from inbox.core.model import (
    LOAD_STATUSES,
    ChannelKind,
    ConversationId,
    CounselorUpdate,
    Presence,
    Role,
    User,
    UserId,
)
from inbox.web.access import check_can_act, require
from inbox.web.api import visible_conversation
from inbox.web.counselor_form import (
    SELF_FIELDS,
    check_known_fields,
    counselor_json,
    parse_counselor_update,
    parse_presence,
)
from inbox.web.server import (
    SERVICES,
    Services,
    field_int,
    field_str,
    is_int64,
    json_body,
    path_id,
)

routes = web.RouteTableDef()
# Admins manage accounts, not the work (README, Roles): an admin supervises only as a supervisor.
SUPERVISING = (Role.SUPERVISOR,)
MAX_MOVE = 200  # conversations in one move
MAX_NOTE_CHARS = 2000
DRAIN_LIMIT = 1000  # far above any capacity (at most 50), so a drain takes all of her work


def _supervises(user: User) -> bool:
    return user.has_any(*SUPERVISING)


def _changed(services: Services) -> None:
    services.router.wake()
    services.on_event()


async def _counselor_or_self(request: web.Request) -> tuple[User, UserId]:
    """The caller and the counselor in the path: supervisors act on anyone, a counselor on
    herself only (403 before the id is looked up, so other ids reveal nothing)."""
    user = await require(request, Role.COUNSELOR, *SUPERVISING)
    target = UserId(path_id(request))
    if not _supervises(user) and target != user.id:
        raise PermissionDenied("a counselor can only change her own presence")
    return user, target


# ---- counselor profile ------------------------------------------------------------------------
@routes.patch("/api/counselors/{id}")
async def update_counselor(request: web.Request) -> web.Response:
    user, target = await _counselor_or_self(request)
    data = await json_body(request)
    check_known_fields(data)
    if not _supervises(user) and not set(data) <= SELF_FIELDS:
        raise PermissionDenied("a counselor can only change her own presence")
    change = parse_counselor_update(data)
    services = request.app[SERVICES]
    now = services.clock()
    updated = await services.store.update_counselor(target, change, actor_id=user.id, now=now)
    if change.changed():
        _changed(services)
    return web.json_response({"counselor": counselor_json(updated, now)})


# ---- moving and draining work -----------------------------------------------------------------
def _conversation_ids(data: dict[str, Any]) -> list[ConversationId]:
    value = data.get("conversation_ids")
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_MOVE
        or not all(is_int64(i) for i in value)
    ):
        raise ValidationError(
            f"required, a list of 1 to {MAX_MOVE} conversation ids", field="conversation_ids"
        )
    return [ConversationId(i) for i in dict.fromkeys(value)]  # once each, in the given order


def _optional_note(data: dict[str, Any]) -> str | None:
    if data.get("note") is None:
        return None
    return field_str(data, "note", max_chars=MAX_NOTE_CHARS)


async def _enabled_counselor(services: Services, user_id: UserId) -> User:
    """409 for anyone who cannot take conversations: unknown, disabled or not a counselor."""
    try:
        user = await services.store.get_user(user_id)
    except NotFound:
        raise Conflict(f"user {user_id} does not exist, so cannot take conversations") from None
    if user.disabled or not user.has_any(Role.COUNSELOR):
        raise Conflict(f"user {user_id} is not an enabled counselor")
    return user


def _failure(conv_id: int, exc: StorageError) -> dict[str, Any]:
    code = "not_found" if isinstance(exc, NotFound) else "conflict"
    return {"id": conv_id, "error": code, "message": str(exc)}


@routes.post("/api/conversations/move")
async def move_conversations(request: web.Request) -> web.Response:
    """Give many open conversations to one counselor, whatever her load (a supervisor's
    decision); each id that cannot move is reported, the others still move."""
    user = await require(request, *SUPERVISING)
    services = request.app[SERVICES]
    data = await json_body(request)
    conv_ids = _conversation_ids(data)
    target = UserId(field_int(data, "to_user_id"))
    note = _optional_note(data)
    await _enabled_counselor(services, target)
    moved: list[int] = []
    failed: list[dict[str, Any]] = []
    for conv_id in conv_ids:
        now = services.clock()
        try:
            await services.store.assign(conv_id, target, actor_id=user.id, now=now, capacity=None)
        except (NotFound, Conflict) as exc:
            failed.append(_failure(conv_id, exc))
            continue
        if note is not None:
            await services.store.add_note(conv_id, author_id=user.id, body=note, now=now)
        moved.append(conv_id)
    if moved:
        _changed(services)
    return web.json_response({"moved": moved, "failed": failed})


def handover_note(counselor: User) -> str:
    name = counselor.display_name
    return f"引き継ぎ：{name}さんが対応を終了しました / Handover: {name} went off shift"


def _drain_request(data: dict[str, Any]) -> tuple[bool, str | None, Presence]:
    """keep (default false), note (default: a handover note), presence (default offline)."""
    unknown = sorted(set(data) - {"keep", "note", "presence"})
    if unknown:
        raise ValidationError("unknown field; allowed: keep, note, presence", field=unknown[0])
    keep = data.get("keep", False)
    if not isinstance(keep, bool):
        raise ValidationError("true or false", field="keep")
    presence = parse_presence(data.get("presence", Presence.OFFLINE.value))
    return keep, _optional_note(data), presence


@routes.post("/api/counselors/{id}/drain")
async def drain_counselor(request: web.Request) -> web.Response:
    """Set her presence (offline unless told otherwise) and, unless `keep`, put each of her
    open conversations back in the queue with a handover note."""
    user, target = await _counselor_or_self(request)
    services = request.app[SERVICES]
    keep, note, presence = _drain_request(await json_body(request))
    now = services.clock()
    change = CounselorUpdate(presence=presence)
    counselor = await services.store.update_counselor(target, change, actor_id=user.id, now=now)
    open_ones = await services.store.list_conversations(
        statuses=LOAD_STATUSES, visible_to=target, limit=DRAIN_LIMIT
    )
    mine = [c.id for c in open_ones if c.assignee_id == target]
    requeued: list[int] = []
    failed: list[dict[str, Any]] = []
    for conv_id in [] if keep else mine:
        try:
            await services.store.requeue(
                conv_id,
                actor_id=user.id,
                now=services.clock(),
                note=note or handover_note(counselor),
            )
        except (NotFound, Conflict) as exc:  # closed meanwhile
            failed.append(_failure(conv_id, exc))
            continue
        requeued.append(conv_id)
    _changed(services)
    kept = mine if keep else []
    return web.json_response(
        {
            "counselor": counselor_json(counselor, now),
            "requeued": requeued,
            "kept": kept,
            "failed": failed,
        }
    )


# ---- discretion -------------------------------------------------------------------------------
@routes.post("/api/conversations/{id}/discretion")
async def set_discretion(request: web.Request) -> web.Response:
    """The consulter asked for discretion (or no longer needs it): her automatic replies use
    the neutral texts that never name the program. The assignee or a supervisor sets it."""
    user, conv = await visible_conversation(request)
    check_can_act(user, conv)
    data = await json_body(request)
    discretion = data.get("discretion")
    if not isinstance(discretion, bool):
        raise ValidationError("required, true or false", field="discretion")
    services = request.app[SERVICES]
    await services.store.set_discretion(conv.id, discretion, actor_id=user.id, now=services.clock())
    services.on_event()
    return web.json_response({"conversation_id": conv.id, "discretion": discretion})


# ---- channels ---------------------------------------------------------------------------------
def _channel(request: web.Request) -> ChannelKind:
    name = request.match_info["channel"]
    try:
        return ChannelKind(name)
    except ValueError:
        raise NotFound(f"channel {name!r} does not exist") from None


@routes.get("/api/channels")
async def list_channels(request: web.Request) -> web.Response:
    await require(request, *SUPERVISING)
    paused = await request.app[SERVICES].store.paused_channels()
    return web.json_response(
        {"channels": [{"channel": c.value, "paused": c in paused} for c in ChannelKind]}
    )


async def _set_paused(request: web.Request, paused: bool) -> web.Response:
    user = await require(request, *SUPERVISING)
    channel = _channel(request)
    services = request.app[SERVICES]
    await services.store.set_channel_paused(channel, paused, actor_id=user.id, now=services.clock())
    _changed(services)  # on resume, what waited is routed now
    return web.json_response({"channel": channel.value, "paused": paused})


@routes.post("/api/channels/{channel}/pause")
async def pause_channel(request: web.Request) -> web.Response:
    return await _set_paused(request, True)


@routes.post("/api/channels/{channel}/resume")
async def resume_channel(request: web.Request) -> web.Response:
    return await _set_paused(request, False)


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
