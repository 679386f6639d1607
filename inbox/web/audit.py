"""The audit log over HTTP: who did what to which conversation, when, filtered by person, kind,
conversation and day, a page at a time (GET /api/audit) or whole as CSV (GET /api/audit.csv).

Supervisors and admins read it. An admin who is not also a supervisor manages accounts, not the
work: she reads the events about staff accounts and sign-in alone (inbox.core.audit.ACCOUNT_KINDS),
no conversation's event at all, not even its id or kind (an urgent triage's supervisors_alerted
would tell what kind of case it is). The details are a short list of safe facts picked by name
from the event's data (staff, a channel, an outcome id, a reason), never a body or an address.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from inbox.core.audit import AUDIT_PAGE_MAX, Actors, AuditQuery, days_range
from inbox.core.errors import ValidationError
from inbox.core.model import ConversationId, Event, Role, UserId
from inbox.web.access import require
from inbox.web.api import Names, staff_names
from inbox.web.server import SERVICES, parse_id, query_date

routes = web.RouteTableDef()
AUDIT_ROLES = (Role.SUPERVISOR, Role.ADMIN)
MAX_KINDS = 50
_KIND = re.compile(r"[a-z][a-z0-9_]{0,59}")
REASON_MAX_CHARS = 200  # a reason is shown cut short: the log is a list, not the case file


def _id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "")
    if not raw:
        return None
    value = parse_id(raw)
    if value is None:
        raise ValidationError("an id: ASCII digits, below 2**63", field=name)
    return value


def _kinds(request: web.Request) -> tuple[str, ...]:
    """`kind=a,b` or `kind=a&kind=b`: event kinds (an unknown kind finds nothing)."""
    found: list[str] = []
    for raw in request.query.getall("kind", []):
        found += [k for k in raw.split(",") if k]
    if len(found) > MAX_KINDS:
        raise ValidationError(f"at most {MAX_KINDS} kinds", field="kind")
    if not all(_KIND.fullmatch(k) for k in found):
        raise ValidationError("kinds such as conversation_read, comma-separated", field="kind")
    return tuple(dict.fromkeys(found))


def _actor(request: web.Request) -> tuple[UserId | None, Actors]:
    raw = request.query.get("actor", "")
    if not raw:
        return None, Actors.ANY
    if raw in set(Actors):
        return None, Actors(raw)
    value = parse_id(raw)
    if value is None:
        allowed = ", ".join(a.value for a in Actors)
        raise ValidationError(f"a staff member's id, or one of: {allowed}", field="actor")
    return UserId(value), Actors.ANY


def audit_query(request: web.Request, *, limit: int, sees_cases: bool) -> AuditQuery:
    """The filters of the query string (shared by the page and the CSV); for a reader who does
    not see cases (an admin), the events about accounts only."""
    day = query_date(request, "day")
    first, last = query_date(request, "from"), query_date(request, "to")
    if day is not None:
        if first is not None or last is not None:
            raise ValidationError("either a day, or from and to", field="day")
        first = last = day
    if first is not None and last is not None and first > last:
        raise ValidationError("the last day is before the first (from)", field="to")
    at_from, at_before = days_range(first, last, request.app[SERVICES].settings.timezone)
    actor_id, actors = _actor(request)
    conversation = _id(request, "conversation")
    return AuditQuery(
        actor_id=actor_id,
        actors=actors,
        kinds=_kinds(request),
        conversation_id=None if conversation is None else ConversationId(conversation),
        at_from=at_from,
        at_before=at_before,
        before_id=_id(request, "before"),
        limit=limit,
        accounts_only=not sees_cases,
    )


def _limit(request: web.Request) -> int:
    limit = _id(request, "limit")
    if limit is None:
        return 50
    if not 1 <= limit <= AUDIT_PAGE_MAX:
        raise ValidationError(f"from 1 to {AUDIT_PAGE_MAX}", field="limit")
    return limit


def _staff(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def event_details(event: Event, names: Names) -> dict[str, Any]:
    """The facts of the event's data that may be shown, by name: never a body or an address."""
    data = event.data
    found: dict[str, Any] = {}
    for key, name_key in (("user_id", "user_name"), ("from_user_id", "from_name")):
        if (staff := _staff(data.get(key))) is not None:
            found[key] = staff
            found[name_key] = names.get(UserId(staff))
    for key in ("channel", "outcome", "anonymity"):
        if isinstance(value := data.get(key), str):
            found[key] = value[:40]
    if isinstance(fields := data.get("fields"), list):
        found["fields"] = [f for f in fields if isinstance(f, str)][:20]
    if isinstance(reason := data.get("reason"), str) and reason:
        found["reason"] = reason[:REASON_MAX_CHARS]
    # the grant report: which export of which days; how many bodies a purge emptied
    for key in ("export", "period"):
        if isinstance(value := data.get(key), str):
            found[key] = value[:40]
    if event.kind == "bodies_purged" and isinstance(count := data.get("messages"), int):
        found["messages"] = count
    return found


def audit_row(event: Event, names: Names, *, sees_cases: bool) -> dict[str, Any]:
    """One line of the audit log; details of a conversation's event only to `sees_cases`."""
    shown = sees_cases or event.conversation_id is None
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_name": None if event.actor_id is None else names.get(event.actor_id),
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "details": event_details(event, names) if shown else {},
    }


async def audit_reader(request: web.Request) -> tuple[bool, Names]:
    """A supervisor or an admin (403 otherwise): whether she sees conversations' details, and
    staff names."""
    user = await require(request, *AUDIT_ROLES)
    return user.has_any(Role.SUPERVISOR), await staff_names(request.app[SERVICES])


@routes.get("/api/audit")
async def audit_page(request: web.Request) -> web.Response:
    sees_cases, names = await audit_reader(request)
    query = audit_query(request, limit=_limit(request), sees_cases=sees_cases)
    found = await request.app[SERVICES].store.audit_events(query)
    return web.json_response(
        {
            "events": [audit_row(e, names, sees_cases=sees_cases) for e in found],
            "next_before": found[-1].id if len(found) == query.limit else None,
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
