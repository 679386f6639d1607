"""Casework over HTTP (issue 17): a consultation's topics and her age group, and activities
outside conversations.

Who may do what (decided here, on the server): a conversation's topics and her age group, whoever
may add notes to it (its assignee, a supervisor, phone staff on a phone conversation: as tags);
a call's topics, phone staff on their own calls and the unclaimed ones, supervisors on all.
Activities: counselors, phone staff and supervisors log them; each edits or deletes her own, a
supervisor any. None of it is ever needed to close a conversation.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from aiohttp import web

from inbox.core.activity import MAX_NOTE_CHARS, MAX_PEOPLE, MAX_PLACE_CHARS, Activity, ActivityDraft
from inbox.core.casework import ACTIVITY_KINDS, AGE_GROUPS, UNKNOWN_AGE, ids
from inbox.core.errors import NotFound, TooLarge, ValidationError, WithheldCall
from inbox.core.fiscal import fiscal_year_bounds, fiscal_year_names, fiscal_year_of
from inbox.core.labels import Label
from inbox.core.model import Role, User
from inbox.core.phone import Call
from inbox.web.access import check_can_note, require, sees_everything
from inbox.web.api import Names, staff_names, visible_conversation
from inbox.web.server import SERVICES, json_body, parse_id, path_id

LISTED = 5000  # activities listed on the page at most (the newest)
routes = web.RouteTableDef()
CASEWORK_ROLES = (Role.COUNSELOR, Role.PHONE_STAFF, Role.SUPERVISOR)
CALL_ROLES = (Role.PHONE_STAFF, Role.SUPERVISOR)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ACTIVITY_FIELDS = frozenset({"kind", "day", "place_kind", "people", "new_people", "note"})


def _words(labels: tuple[Label, ...]) -> list[dict[str, str]]:
    return [{"id": x.id, "ja": x.ja, "en": x.en} for x in labels]


@routes.get("/api/casework")
async def casework_words(request: web.Request) -> web.Response:
    """The configured topics, the age groups and the activity kinds, each with its words in
    Japanese and English (no screen shows an id), in their order."""
    await require(request, *CASEWORK_ROLES)
    settings = request.app[SERVICES].settings
    return web.json_response(
        {
            "topics": _words(settings.casework.topics),
            "age_groups": _words(AGE_GROUPS),
            "activity_kinds": _words(ACTIVITY_KINDS),
            "max_place_chars": MAX_PLACE_CHARS,
        }
    )


def _topics(request: web.Request, data: dict[str, Any]) -> list[str]:
    raw = data.get("topics")
    known = request.app[SERVICES].settings.casework.topic_ids()
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise ValidationError("a list of topic ids", field="topics")
    unknown = [t for t in raw if t not in known]
    if unknown:
        raise ValidationError(
            f"not a configured topic ([casework] topics): {unknown[0][:40]!r}", field="topics"
        )
    return raw


@routes.put("/api/conversations/{id}/topics")
async def set_conversation_topics(request: web.Request) -> web.Response:
    """Replace the conversation's topics `{"topics": [id, ...]}` (configured ids; [] clears)."""
    user, conv = await visible_conversation(request)
    check_can_note(user, conv)
    services = request.app[SERVICES]
    topics = _topics(request, await json_body(request))
    found = await services.commands.casework.set_conversation_topics(conv.id, topics, actor=user.id)
    return web.json_response({"topics": list(found)})


def _age_group(data: dict[str, Any]) -> str | None:
    if "age_group" not in data:
        raise ValidationError("required: an age group id, or null", field="age_group")
    value = data["age_group"]
    if value is not None and (not isinstance(value, str) or value not in ids(AGE_GROUPS)):
        raise ValidationError(
            "one of " + ", ".join(a.id for a in AGE_GROUPS) + ", or null", field="age_group"
        )
    return value


@routes.put("/api/conversations/{id}/age-group")
async def set_age_group(request: web.Request) -> web.Response:
    """Her age group `{"age_group": id}` on the conversation's contact ("unknown" or null
    clears it)."""
    user, conv = await visible_conversation(request)
    check_can_note(user, conv)
    value = _age_group(await json_body(request))
    found = await request.app[SERVICES].commands.casework.set_age_group(
        conv.contact_id, value, actor=user.id, conversation_id=conv.id
    )
    return web.json_response({"age_group": found or UNKNOWN_AGE})


async def _editable_call(request: web.Request) -> tuple[User, Call]:
    """The call in the path, if she may edit its casework: phone staff their own and the
    unclaimed calls, supervisors all (as the call's outcome form)."""
    user = await require(request, *CALL_ROLES)
    call_id = parse_id(request.match_info["call_id"])
    if call_id is None:
        raise ValidationError("a call id", field="id")
    found = await request.app[SERVICES].store.get_call(call_id)
    if not (sees_everything(user) or found.staff_id in (None, user.id)):
        raise NotFound(f"call {call_id} does not exist")
    return user, found


@routes.put("/api/calls/{call_id}/topics")
async def set_call_topics(request: web.Request) -> web.Response:
    """Replace a call's topics: phone staff on their own and the unclaimed calls, supervisors
    on all (as the call's outcome form)."""
    user, found = await _editable_call(request)
    services = request.app[SERVICES]
    call_id = found.id
    topics = _topics(request, await json_body(request))
    stored = await services.commands.casework.set_call_topics(call_id, topics, actor=user.id)
    return web.json_response({"topics": list(stored)})


@routes.put("/api/calls/{call_id}/age-group")
async def set_call_age_group(request: web.Request) -> web.Response:
    """The caller's age group `{"age_group": id}` on the call's contact ("unknown" or null
    clears it); who may, as for the call's topics. A withheld call has no contact: 409."""
    user, found = await _editable_call(request)
    value = _age_group(await json_body(request))
    if found.contact_id is None:
        raise WithheldCall(f"call {found.id} was withheld: no contact to keep an age group on")
    stored = await request.app[SERVICES].commands.casework.set_age_group(
        found.contact_id, value, actor=user.id, conversation_id=found.conversation_id
    )
    return web.json_response({"age_group": stored or UNKNOWN_AGE})


# ---- activities -------------------------------------------------------------------------------
def _today(request: web.Request) -> date:
    services = request.app[SERVICES]
    return services.clock().astimezone(services.settings.timezone).date()


def _day(raw: object, name: str) -> date:
    try:
        if not isinstance(raw, str) or not _DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("a day, YYYY-MM-DD", field=name) from None


def _count(data: dict[str, Any], name: str, default: int) -> int:
    value = data.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_PEOPLE:
        raise ValidationError(f"a whole number from 0 to {MAX_PEOPLE}", field=name)
    return value


def _text(data: dict[str, Any], name: str, default: str, limit: int) -> str:
    value = data.get(name, default)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError("a string (empty for none)", field=name)
    value = value.strip()
    if len(value) > limit:
        raise TooLarge(f"at most {limit} characters, got {len(value)}", field=name)
    return value


def read_activity(
    data: dict[str, Any], *, today: date, base: ActivityDraft | None = None
) -> ActivityDraft:
    """A whole activity (POST), or `base` with the fields given (PATCH); each error names its
    field. new_people is at most people."""
    unknown = sorted(set(data) - ACTIVITY_FIELDS)
    if unknown:
        raise ValidationError(
            "unknown field; allowed: " + ", ".join(sorted(ACTIVITY_FIELDS)), field=unknown[0]
        )
    if base is None and "kind" not in data:
        raise ValidationError("required: an activity kind", field="kind")
    kind = data.get("kind", base.kind if base else "")
    if not isinstance(kind, str) or kind not in ids(ACTIVITY_KINDS):
        raise ValidationError("one of " + ", ".join(k.id for k in ACTIVITY_KINDS), field="kind")
    day = _day(data["day"], "day") if "day" in data else (base.day if base else today)
    people = _count(data, "people", base.people if base else 0)
    new_people = _count(data, "new_people", base.new_people if base else 0)
    if new_people > people:
        raise ValidationError(f"from 0 to people ({people})", field="new_people")
    return ActivityDraft(
        kind=kind,
        day=day,
        place_kind=_text(data, "place_kind", base.place_kind if base else "", MAX_PLACE_CHARS),
        people=people,
        new_people=new_people,
        note=_text(data, "note", base.note if base else "", MAX_NOTE_CHARS),
    )


def activity_json(a: Activity, names: Names, *, editable: bool) -> dict[str, Any]:
    d = a.draft
    return {
        "id": a.id,
        "kind": d.kind,
        "day": d.day.isoformat(),
        "place_kind": d.place_kind,
        "people": d.people,
        "new_people": d.new_people,
        "note": d.note,
        "staff": None if a.staff_id is None else {"id": a.staff_id, "name": names.get(a.staff_id)},
        "editable": editable,
        "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
    }


def _fiscal_year_json(fy: int) -> dict[str, Any]:
    try:
        names = fiscal_year_names(fy)
    except ValueError:  # before the first April-March fiscal year: no name
        return {"year": fy, "ja": f"{fy}年度", "en": f"FY{fy}"}
    return {"year": fy, "ja": names.ja, "en": names.en}


@routes.get("/api/activities")
async def list_activities(request: web.Request) -> web.Response:
    """Activities on days `from` to `to` (YYYY-MM-DD, both included; by default this fiscal
    year, April to March, in the program's time zone), newest day first, with totals by kind."""
    user = await require(request, *CASEWORK_ROLES)
    services = request.app[SERVICES]
    fiscal_year = fiscal_year_of(_today(request))
    first, last = fiscal_year_bounds(fiscal_year)
    if "from" in request.query:
        first = _day(request.query["from"], "from")
    if "to" in request.query:
        last = _day(request.query["to"], "to")
    if last < first:
        raise ValidationError("on or after from", field="to")
    found = await services.store.activities_between(first, last, limit=LISTED)
    totals = await services.store.activity_totals(first, last)  # all of them, not the listed
    names = await staff_names(services)
    boss = sees_everything(user)
    return web.json_response(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            # the fiscal year the period starts in, named (2026年度（令和8年度）, FY2026 (Reiwa 8))
            "fiscal_year": _fiscal_year_json(fiscal_year_of(first)),
            "activities": [
                activity_json(a, names, editable=boss or a.staff_id == user.id) for a in found
            ],
            # the list stops at LISTED, the newest first; the totals count every one
            "truncated": len(found) >= LISTED,
            "totals": [
                {
                    "kind": k.id,
                    "count": totals.get(k.id, (0, 0, 0))[0],
                    "people": totals.get(k.id, (0, 0, 0))[1],
                    "new_people": totals.get(k.id, (0, 0, 0))[2],
                }
                for k in ACTIVITY_KINDS
            ],
        }
    )


@routes.post("/api/activities")
async def log_activity(request: web.Request) -> web.Response:
    user = await require(request, *CASEWORK_ROLES)
    services = request.app[SERVICES]
    draft = read_activity(await json_body(request), today=_today(request))
    made = await services.commands.casework.log_activity(draft, actor=user.id)
    names = await staff_names(services)
    return web.json_response({"activity": activity_json(made, names, editable=True)}, status=201)


@routes.patch("/api/activities/{id}")
async def edit_activity(request: web.Request) -> web.Response:
    """Change the fields given: her own, or any for a supervisor (403 for another's)."""
    user = await require(request, *CASEWORK_ROLES)
    services = request.app[SERVICES]
    activity_id = path_id(request)
    data = await json_body(request)
    base = await services.store.get_activity(activity_id)
    draft = read_activity(data, today=_today(request), base=base.draft)
    edited = await services.commands.casework.edit_activity(
        activity_id, draft, actor=user.id, any_staff=sees_everything(user)
    )
    names = await staff_names(services)
    return web.json_response({"activity": activity_json(edited, names, editable=True)})


@routes.delete("/api/activities/{id}")
async def delete_activity(request: web.Request) -> web.Response:
    user = await require(request, *CASEWORK_ROLES)
    await request.app[SERVICES].commands.casework.delete_activity(
        path_id(request), actor=user.id, any_staff=sees_everything(user)
    )
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
