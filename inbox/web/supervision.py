"""Supervisor actions: counselor profiles and presence, moving and draining work, pausing channels.

Every action is role-checked and its input read here; the change is a staff command
(inbox.commands), which the store writes with its event and which wakes whoever the event
concerns.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from inbox.core.audit import AuditQuery
from inbox.core.errors import NotFound, PermissionDenied, StorageError, ValidationError
from inbox.core.model import (
    ChannelKind,
    Conversation,
    ConversationId,
    Event,
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


def _supervises(user: User) -> bool:
    return user.has_any(*SUPERVISING)


async def _counselor_or_self(request: web.Request) -> tuple[User, UserId]:
    """The caller and the counselor in the path: supervisors act on anyone, a counselor (or
    phone staff, whom the router offers callbacks by the same presence) on herself only (403
    before the id is looked up, so other ids reveal nothing)."""
    user = await require(request, Role.COUNSELOR, Role.PHONE_STAFF, *SUPERVISING)
    target = UserId(path_id(request))
    if not _supervises(user) and target != user.id:
        raise PermissionDenied("a counselor can only change her own presence")
    return user, target


# ---- counselor profile ------------------------------------------------------------------------
@routes.get("/api/counselors/{id}")
async def get_counselor(request: web.Request) -> web.Response:
    """Her routing profile as the profile editor shows it: a supervisor reads anyone's, a
    counselor (or phone staff) her own; an id that is neither's is not found."""
    _, target = await _counselor_or_self(request)
    services = request.app[SERVICES]
    counselor = await services.store.get_user(target)  # NotFound: 404
    if not counselor.has_any(Role.COUNSELOR, Role.PHONE_STAFF):
        raise NotFound(f"user {target} is not a counselor (nor phone staff)")
    now, closed = services.clock(), services.router.closed_day
    return web.json_response({"counselor": counselor_json(counselor, now, closed=closed)})


@routes.patch("/api/counselors/{id}")
async def update_counselor(request: web.Request) -> web.Response:
    user, target = await _counselor_or_self(request)
    data = await json_body(request)
    check_known_fields(data)
    if not _supervises(user) and not set(data) <= SELF_FIELDS:
        raise PermissionDenied("a counselor can only change her own presence")
    change = parse_counselor_update(data)
    services = request.app[SERVICES]
    updated = await services.commands.counselors.update(target, change, actor=user.id)
    return web.json_response(
        {
            "counselor": counselor_json(
                updated.counselor, updated.at, closed=services.router.closed_day
            )
        }
    )


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
    done = await services.commands.conversations.move(conv_ids, target, actor=user.id, note=note)
    failed = [_failure(conv_id, exc) for conv_id, exc in done.failed]
    return web.json_response({"moved": done.moved, "failed": failed})


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
    drained = await services.commands.counselors.drain(
        target, actor=user.id, presence=presence, keep=keep, note=note
    )
    return web.json_response(
        {
            "counselor": counselor_json(
                drained.counselor, drained.at, closed=services.router.closed_day
            ),
            "requeued": drained.requeued,
            "kept": drained.kept,
            "failed": [_failure(conv_id, exc) for conv_id, exc in drained.failed],
        }
    )


# ---- the handover notice ----------------------------------------------------------------------
HANDOVER_NOTE_SLACK = timedelta(seconds=2)  # a move's note is stored with it, at the same time


def _handover_event(conv: Conversation, assigned: list[Event]) -> Event | None:
    """The newest assignment if it gave the conversation to its assignee from someone else."""
    if not assigned or conv.assignee_id is None:
        return None
    last = assigned[0]
    to, by = last.data.get("user_id"), last.actor_id
    if to != conv.assignee_id or by is None or by == conv.assignee_id:
        return None
    return last


@routes.get("/api/conversations/{id}/handover")
async def get_handover(request: web.Request) -> web.Response:
    """Who gave the conversation to its assignee, when, and the note given with it (the console's
    handover notice). Reading it is no read of the conversation: nothing is audited, no message
    but the note is loaded. Its assignee and supervisors only (404 for anyone else)."""
    user = await require(request, Role.COUNSELOR, *SUPERVISING)
    services = request.app[SERVICES]
    conv = await services.store.get_conversation(ConversationId(path_id(request)))
    if not _supervises(user) and conv.assignee_id != user.id:
        raise NotFound(f"conversation {conv.id} does not exist")
    assigned = await services.store.audit_events(
        AuditQuery(conversation_id=conv.id, kinds=("conversation_assigned",), limit=1)
    )
    given = _handover_event(conv, assigned)
    handover: dict[str, Any] | None = None
    if given is not None and given.actor_id is not None:
        notes = await services.store.audit_events(
            AuditQuery(
                conversation_id=conv.id,
                kinds=("note_added",),
                actor_id=given.actor_id,
                at_from=given.at,
                at_before=given.at + HANDOVER_NOTE_SLACK,
                limit=5,
            )
        )
        note_id = notes[-1].message_id if notes else None  # the first after the move
        note = None if note_id is None else (await services.store.get_message(note_id)).body
        handover = {"by_id": given.actor_id, "at": given.at.isoformat(), "note": note}
    return web.json_response(
        {"conversation_id": conv.id, "contact_alias": conv.contact_alias, "handover": handover}
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
    commands = request.app[SERVICES].commands.conversations
    await commands.set_discretion(conv.id, discretion, actor=user.id)
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
    commands = request.app[SERVICES].commands.counselors
    await commands.set_channel_paused(channel, paused, actor=user.id)
    return web.json_response({"channel": channel.value, "paused": paused})


@routes.post("/api/channels/{channel}/pause")
async def pause_channel(request: web.Request) -> web.Response:
    return await _set_paused(request, True)


@routes.post("/api/channels/{channel}/resume")
async def resume_channel(request: web.Request) -> web.Response:
    return await _set_paused(request, False)


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
