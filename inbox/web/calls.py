"""The phone desk over HTTP: its settings, calls logged by hand, phone staff's callback list,
and callback requests from any conversation.

Who may do what (decided here, on the server): phone staff and supervisors log calls and read
the callback list; a counselor may only ask for a callback on a conversation she is on. No
answer, log line or error ever holds her number: calls hold none, and the number fields'
errors name the field alone (inbox.core.numbers).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from inbox.core.errors import NotFound, PermissionDenied, ValidationError
from inbox.core.model import ContactId, ConversationId, Role, contact_alias
from inbox.core.phone import Call, CallbackRow, CloseCallback, RetryAt, TryDecision
from inbox.core.voice import ENDED
from inbox.web.access import can_see, readable_conversation, require, sees_everything
from inbox.web.api import Names, staff_names
from inbox.web.server import SERVICES, Services, json_body, parse_id
from routing.callbacks import callback_order, next_allowed
from routing.hours import ServiceHours

routes = web.RouteTableDef()
DESK_ROLES = (Role.PHONE_STAFF, Role.SUPERVISOR)
CALLS_MAX = 100


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "")
    limit = 50 if raw == "" else parse_id(raw)
    if limit is None or not 1 <= limit <= CALLS_MAX:
        raise ValidationError(f"from 1 to {CALLS_MAX}", field="limit")
    return limit


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def call_json(c: Call, names: Names, *, with_note: bool = True) -> dict[str, Any]:
    """A call as staff see it: never the number (no call holds one). The note is case text:
    only where the caller may read the conversation (with_note)."""
    found: dict[str, Any] = {
        "id": c.id,
        "direction": c.direction.value,
        "started_at": c.started_at.isoformat(),
        "duration_s": c.duration_s,
        "withheld": c.withheld,
        "outcome": c.outcome,
        "referrals": list(c.referrals),
        "follow_up": None if c.follow_up is None else c.follow_up.isoformat(),
        "conversation": c.conversation_id,
        "contact_alias": None if c.contact_id is None else contact_alias(c.contact_id),
        "staff": None if c.staff_id is None else {"id": c.staff_id, "name": names.get(c.staff_id)},
        "call_sid": c.call_sid is not None,
    }
    if with_note:
        found["note"] = c.note
    return found


def decision_json(decided: TryDecision | None) -> dict[str, Any] | None:
    match decided:
        case RetryAt(at=at):
            return {"status": "retry", "at": at.isoformat()}
        case CloseCallback(reason=reason, outcome=outcome):
            return {"status": "closed", "reason": reason, "outcome": outcome}
    return None


@routes.get("/api/phone/settings")
async def phone_settings(request: web.Request) -> web.Response:
    await require(request, Role.PHONE_STAFF, Role.SUPERVISOR, Role.COUNSELOR)
    settings = request.app[SERVICES].settings
    phone = settings.phone
    return web.json_response(
        {
            "outcomes": [
                {"id": o.id, "ja": o.ja, "en": o.en, "reached": o.reached} for o in phone.outcomes
            ],
            "referrals": [{"id": r.id, "ja": r.ja, "en": r.en} for r in phone.referrals],
            "voice": settings.voice.enabled,
            # the phones click-to-call may ring for staff: POST .../dial {"staff_number": id}
            "desk_phones": [
                {"id": i, "label": p.label, "number": p.masked}
                for i, p in enumerate(settings.voice.desk_phones if settings.voice.enabled else ())
            ],
        }
    )


@routes.post("/api/calls")
async def log_call(request: web.Request) -> web.Response:
    user = await require(request, *DESK_ROLES)
    services = request.app[SERVICES]
    entry = services.calls.read_call(
        await json_body(request), staff=user.id, any_callback=user.has_any(Role.SUPERVISOR)
    )
    logged = await services.calls.log_call(entry)
    names = await staff_names(services)
    return web.json_response(
        {"call": call_json(logged.call, names), "callback": decision_json(logged.callback)},
        status=201,
    )


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "") not in ("", "0", "false")


@routes.get("/api/calls")
async def recent_calls(request: web.Request) -> web.Response:
    """Her recent calls, newest first; a supervisor's without mine=1 are everyone's. With
    open=1: the calls over that wait for an outcome (an answered call in is nobody's until
    someone logs it, so phone staff see those and their own; supervisors all), each with its
    status as GET /api/calls/{id} gives it."""
    user = await require(request, *DESK_ROLES)
    staff = None if sees_everything(user) and not _flag(request, "mine") else user.id
    services = request.app[SERVICES]
    names = await staff_names(services)
    if _flag(request, "open"):
        waiting = await services.store.open_calls(staff, limit=_limit(request))
        return web.json_response({"calls": [live_call_json(c, names) for c in waiting]})
    found = await services.store.recent_calls(staff, limit=_limit(request))
    return web.json_response({"calls": [call_json(c, names) for c in found]})


def _window(services: Services, row: CallbackRow) -> tuple[ServiceHours, Any]:
    """Her window as routing reads it (the desk's phone hours without one), and as JSON."""
    hours = services.calls.window_hours(row.window)
    if row.window is None or hours is services.settings.phone_hours:
        return hours, None  # none, or unreadable (then it counts as none)
    return hours, json.loads(row.window)


def callback_json(
    services: Services, row: CallbackRow, names: Names, now: datetime
) -> tuple[Any, dict[str, Any]]:
    """(the sort key of routing.callbacks.callback_order, the callback as the list shows it)."""
    window, raw = _window(services, row)
    start = now if row.due_at is None else max(now, row.due_at)
    allowed = next_allowed(window, start)
    return callback_order(window, row.waiting_since, now, row.due_at), {
        "conversation": row.conversation_id,
        "contact_alias": contact_alias(ContactId(row.contact_id)),
        "status": row.status.value,
        "assignee": None
        if row.assignee_id is None
        else {"id": row.assignee_id, "name": names.get(row.assignee_id)},
        "tries": row.tries,
        "due_at": _iso(row.due_at),
        "window": raw,
        "callable_now": allowed is not None and allowed <= now,
        "next_allowed": _iso(allowed),
        "discretion": row.discretion,
        "waiting_since": row.waiting_since.isoformat(),
    }


@routes.get("/api/callbacks")
async def callbacks(request: web.Request) -> web.Response:
    """Open callbacks in phone staff's order: who may be called now first (longest waiting
    first), then by the next allowed time; the queue's and hers (supervisors: all)."""
    user = await require(request, *DESK_ROLES)
    services = request.app[SERVICES]
    found = await services.store.open_callbacks(None if sees_everything(user) else user.id)
    names, now = await staff_names(services), services.clock()
    keyed = [callback_json(services, row, names, now) for row in found]
    keyed.sort(key=lambda pair: pair[0])
    return web.json_response({"callbacks": [item for _, item in keyed]})


@routes.post("/api/conversations/{id}/callback")
async def request_callback(request: web.Request) -> web.Response:
    """A callback asked for from this conversation (any channel): supervisors, phone staff on
    a conversation they may see, a counselor on her own conversation."""
    user, conv = await readable_conversation(request)
    if not (
        sees_everything(user)
        or conv.assignee_id == user.id
        or (user.has_any(Role.PHONE_STAFF) and can_see(user, conv))
    ):
        raise PermissionDenied("only the assigned counselor, phone staff or a supervisor")
    services = request.app[SERVICES]
    found = await services.calls.request_callback(
        ConversationId(conv.id), await json_body(request), actor=user.id
    )
    return web.json_response(
        {"conversation": found.conversation_id, "created": found.created}, status=201
    )


def _call_id(request: web.Request) -> int:
    found = parse_id(request.match_info["call_id"])
    if found is None:
        raise ValidationError("a call id", field="id")
    return found


def live_call_json(c: Call, names: Names) -> dict[str, Any]:
    """A call with Twilio's state, for the phone screen that polls it until `ended`, then
    opens the outcome form (PATCH) while `outcome` is null."""
    return call_json(c, names) | {"status": c.call_status, "ended": c.call_status in ENDED}


@routes.get("/api/calls/{call_id}")
async def get_call(request: web.Request) -> web.Response:
    """One call: phone staff their own and the unclaimed ones Twilio logged; supervisors all."""
    user = await require(request, *DESK_ROLES)
    services = request.app[SERVICES]
    found = await services.store.get_call(_call_id(request))
    if not (sees_everything(user) or found.staff_id in (None, user.id)):
        raise NotFound(f"call {found.id} does not exist")
    return web.json_response({"call": live_call_json(found, await staff_names(services))})


@routes.patch("/api/calls/{call_id}")
async def complete_call(request: web.Request) -> web.Response:
    """The outcome form for a call already stored (a Twilio call): `{"outcome", "note",
    "referrals", "follow_up"}`; on her callback it works the retry rule as POST /api/calls does.
    409 when the call has its outcome already."""
    user = await require(request, *DESK_ROLES)
    services = request.app[SERVICES]
    call_id = _call_id(request)
    found = await services.store.get_call(call_id)
    if not (sees_everything(user) or found.staff_id in (None, user.id)):
        raise NotFound(f"call {call_id} does not exist")
    entry = services.voice.read_outcome(await json_body(request), staff=user.id)
    logged = await services.voice.log_outcome(call_id, entry)
    names = await staff_names(services)
    return web.json_response(
        {"call": live_call_json(logged.call, names), "callback": decision_json(logged.callback)}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
