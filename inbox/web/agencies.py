"""Partner agencies and referrals over HTTP (issue 17, casework).

Who may do what (decided here, on the server): every staff member reads the directory (the
referral form picks from it); supervisors and admins keep it (add, edit, archive, import CSV).
A referral is recorded on a conversation by whoever may add notes to it (its counselor, a
supervisor, phone staff on a phone conversation) and read by whoever may read it; on a call by
phone staff and supervisors who may read the call. One recorded by mistake is deleted by who
recorded it, or by a supervisor.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inbox.commands.agencies import read_draft
from inbox.commands.agency_csv import CsvProblem, agency_kind
from inbox.core.agencies import Agency, AgencyFilter, AgencyId, ImportResult, Referral, ReferralId
from inbox.core.casework import AGENCY_KINDS, REFERRAL_KINDS
from inbox.core.errors import NotFound, PermissionDenied, ValidationError
from inbox.core.labels import Label
from inbox.core.model import ConversationId, Role, User
from inbox.web.access import check_can_note, readable_conversation, require, sees_everything
from inbox.web.api import Names, staff_names
from inbox.web.calls import DESK_ROLES
from inbox.web.server import SERVICES, ApiError, json_body, parse_id, path_id

routes = web.RouteTableDef()
EDITORS = (Role.SUPERVISOR, Role.ADMIN)  # who keep the directory
READERS = (Role.COUNSELOR, Role.SUPERVISOR, Role.PHONE_STAFF, Role.ADMIN)
CSV_TYPES = frozenset({"text/csv", "text/plain", "application/vnd.ms-excel"})


def label_json(label: Label) -> dict[str, str]:
    return {"id": label.id, "ja": label.ja, "en": label.en}


def agency_json(a: Agency) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "kind": a.kind,
        "area": a.area,
        "contact": a.contact,
        "note": a.note,
        "archived": a.archived,
        "updated_at": a.updated_at.isoformat(),
    }


def referral_json(r: Referral, names: Names) -> dict[str, Any]:
    """A referral as staff see it; the note is case text, read where its conversation is."""
    return {
        "id": r.id,
        "conversation": r.conversation_id,
        "call": r.call_id,
        "agency": {"id": r.agency_id, "name": r.agency_name, "kind": r.agency_kind},
        "kind": r.kind,
        "on_day": r.on_day.isoformat(),
        "note": r.note,
        "staff": None if r.staff_id is None else {"id": r.staff_id, "name": names.get(r.staff_id)},
        "created_at": r.created_at.isoformat(),
    }


def import_json(result: ImportResult) -> dict[str, Any]:
    return {
        "applied": result.applied,
        "added": result.count("add"),
        "updated": result.count("update"),
        "unchanged": result.count("same"),
        "rows": [
            {
                "row": r.line,
                "action": r.action,
                "agency_id": r.agency_id,
                "archived": r.archived,
                "name": r.draft.name,
                "kind": r.draft.kind,
                "area": r.draft.area,
            }
            for r in result.rows
        ],
    }


def _filter(request: web.Request) -> AgencyFilter:
    which = request.query.get("archived", "0")
    archived = {"0": False, "false": False, "1": True, "true": True, "all": None}
    if which not in archived:
        raise ValidationError("0 (active, the default), 1 (archived) or all", field="archived")
    kind = request.query.get("kind") or None
    if kind is not None:
        found = agency_kind(kind)
        if found is None:
            raise ValidationError("an agency kind", field="kind")
        kind = found
    area = request.query.get("area") or None
    if area is not None and (len(area) > 100 or "\x00" in area):
        raise ValidationError("at most 100 characters", field="area")
    return AgencyFilter(archived=archived[which], kind=kind, area=area)


@routes.get("/api/agencies")
async def list_agencies(request: web.Request) -> web.Response:
    """The directory (active agencies unless ?archived=1 or all; ?kind=, ?area=), with the
    words of the agency kinds and of the kinds of help a referral may be."""
    await require(request, *READERS)
    services = request.app[SERVICES]
    found = await services.store.list_agencies(_filter(request))
    return web.json_response(
        {
            "agencies": [agency_json(a) for a in found],
            "kinds": [label_json(k) for k in AGENCY_KINDS],
            "referral_kinds": [label_json(k) for k in REFERRAL_KINDS],
        }
    )


@routes.post("/api/agencies")
async def create_agency(request: web.Request) -> web.Response:
    user = await require(request, *EDITORS)
    draft = read_draft(await json_body(request))
    made = await request.app[SERVICES].commands.agencies.create(draft, actor=user.id)
    return web.json_response({"agency": agency_json(made)}, status=201)


@routes.patch("/api/agencies/{id}")
async def update_agency(request: web.Request) -> web.Response:
    """Change its fields, or archive or restore it (`archived`), or both."""
    user = await require(request, *EDITORS)
    services = request.app[SERVICES]
    agency_id = AgencyId(path_id(request))
    data = await json_body(request)
    if not data:
        raise ValidationError("nothing to change", field="body")
    archived = data.pop("archived", None)
    if archived is not None and not isinstance(archived, bool):
        raise ValidationError("true or false", field="archived")
    current = await services.store.get_agency(agency_id)
    commands = services.commands.agencies
    if data:
        current = await commands.update(agency_id, read_draft(data, current.draft()), actor=user.id)
    if archived is not None:
        current = await commands.set_archived(agency_id, archived, actor=user.id)
    return web.json_response({"agency": agency_json(current)})


@routes.post("/api/agencies/import")
async def import_agencies(request: web.Request) -> web.Response:
    """A CSV (text/csv, UTF-8 with or without BOM) upserted on (name, area), all or nothing;
    ?preview=1 says what it would do and writes nothing."""
    user = await require(request, *EDITORS)
    if request.content_type not in CSV_TYPES:
        raise ValidationError("send the file as text/csv (UTF-8)", field="body")
    preview = request.query.get("preview", "") in ("1", "true")
    raw = await request.read()
    try:
        result = await request.app[SERVICES].commands.agencies.import_csv(
            raw, actor=user.id, preview=preview
        )
    except CsvProblem as exc:
        raise ApiError(
            400,
            "validation",
            str(exc),
            field="csv",
            details={"row": exc.row, "column": exc.column, "problem": exc.problem},
        ) from None
    return web.json_response({"import": import_json(result)}, status=200 if preview else 201)


# ---- referrals ---------------------------------------------------------------------------------
@routes.get("/api/conversations/{id}/referrals")
async def conversation_referrals(request: web.Request) -> web.Response:
    _, conv = await readable_conversation(request)
    services = request.app[SERVICES]
    found = await services.store.referrals_of(conversation_id=ConversationId(conv.id))
    names = await staff_names(services)
    return web.json_response({"referrals": [referral_json(r, names) for r in found]})


@routes.post("/api/conversations/{id}/referrals")
async def refer_conversation(request: web.Request) -> web.Response:
    user, conv = await readable_conversation(request)
    check_can_note(user, conv)
    services = request.app[SERVICES]
    commands = services.commands.agencies
    new = commands.read_referral(
        await json_body(request), staff=user.id, conversation_id=ConversationId(conv.id)
    )
    made = await commands.record_referral(new)
    return web.json_response(
        {"referral": referral_json(made, {user.id: user.display_name})}, status=201
    )


def _call_id(request: web.Request) -> int:
    found = parse_id(request.match_info["call_id"])
    if found is None:
        raise NotFound(f"call {request.match_info['call_id']!r} is not an id")
    return found


async def _readable_call(request: web.Request) -> tuple[User, int]:
    """Phone staff: their calls and those nobody has; supervisors: all (GET /api/calls/{id})."""
    user = await require(request, *DESK_ROLES)
    found = await request.app[SERVICES].store.get_call(_call_id(request))
    if not (sees_everything(user) or found.staff_id in (None, user.id)):
        raise NotFound(f"call {found.id} does not exist")
    return user, found.id


@routes.get("/api/calls/{call_id}/referrals")
async def call_referrals(request: web.Request) -> web.Response:
    _, call_id = await _readable_call(request)
    services = request.app[SERVICES]
    found = await services.store.referrals_of(call_id=call_id)
    names = await staff_names(services)
    return web.json_response({"referrals": [referral_json(r, names) for r in found]})


@routes.post("/api/calls/{call_id}/referrals")
async def refer_call(request: web.Request) -> web.Response:
    user, call_id = await _readable_call(request)
    commands = request.app[SERVICES].commands.agencies
    new = commands.read_referral(await json_body(request), staff=user.id, call_id=call_id)
    made = await commands.record_referral(new)
    return web.json_response(
        {"referral": referral_json(made, {user.id: user.display_name})}, status=201
    )


@routes.delete("/api/referrals/{id}")
async def delete_referral(request: web.Request) -> web.Response:
    """One recorded by mistake: by who recorded it, or a supervisor (404 for one on a
    conversation she may not read)."""
    user = await require(request, Role.COUNSELOR, Role.SUPERVISOR, Role.PHONE_STAFF)
    services = request.app[SERVICES]
    referral_id = ReferralId(path_id(request))
    found = await services.store.get_referral(referral_id)
    mine = found.staff_id == user.id
    if not (mine or sees_everything(user)):
        if found.conversation_id is not None:
            await readable_conversation(request, found.conversation_id)  # 404 if not hers to read
        raise PermissionDenied("only who recorded a referral, or a supervisor, can delete it")
    await services.commands.agencies.delete_referral(
        referral_id, actor=user.id, any_staff=sees_everything(user)
    )
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
