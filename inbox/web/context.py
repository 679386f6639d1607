"""The counselor's context over HTTP: the outcomes closing may choose, a consulter's timeline
(her conversations on every channel, each readable on demand) and search over conversations.

Who reads what: the timeline follows the conversation it is opened from (whoever may read that
one may read her history); search gives supervisors everything, counselors the conversations
assigned to them or that they wrote in, phone staff the phone conversations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from aiohttp import web

from inbox.core.context import ConversationSummary, SearchHit, SearchQuery, contact_id_of
from inbox.core.errors import ValidationError
from inbox.core.model import ChannelKind, Conversation, ConversationId, MessageId, Role, User
from inbox.core.phone import CALLBACK_CLOSED_OUTCOMES, Call
from inbox.core.text import storable
from inbox.web.access import (
    can_see,
    phone_side_only,
    readable_conversation,
    require,
    sees_everything,
)
from inbox.web.api import (
    CONVERSATION_ROLES,
    Names,
    conversation_json,
    message_json,
    parse_statuses,
    staff_names,
    urgency_categories,
)
from inbox.web.calls import call_json
from inbox.web.server import SERVICES, ApiError, parse_id, path_id, query_date

routes = web.RouteTableDef()
PAGE_MAX = 100


def summary_json(s: ConversationSummary, names: Names, categories: Sequence[str]) -> dict[str, Any]:
    return conversation_json(s.conversation, names, categories=categories) | {
        "handled_by": s.handled_by,
        "handled_by_name": s.handled_by_name,
        "message_count": s.message_count,
    }


def hit_json(hit: SearchHit, names: Names, categories: Sequence[str]) -> dict[str, Any]:
    return summary_json(hit.summary, names, categories) | {
        "message_id": hit.message_id,
        "snippet": hit.snippet,
    }


def _query_int(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = parse_id(raw)
    if value is None:
        raise ValidationError("a non-negative integer in ASCII digits", field=name)
    return value


def _limit(request: web.Request, default: int) -> int:
    limit = _query_int(request, "limit", default)
    assert limit is not None
    if not 1 <= limit <= PAGE_MAX:
        raise ValidationError(f"from 1 to {PAGE_MAX}", field="limit")
    return limit


@routes.get("/api/outcomes")
async def outcomes(request: web.Request) -> web.Response:
    await require(request, *CONVERSATION_ROLES)
    settings = request.app[SERVICES].settings
    # `shown`: other endings a conversation may have, for their words only (a phone callback
    # closes with its call's outcome, or with why it gave up); never offered when closing.
    shown = (*settings.phone.outcomes, *CALLBACK_CLOSED_OUTCOMES)
    return web.json_response(
        {
            "outcomes": [{"id": o.id, "ja": o.ja, "en": o.en} for o in settings.outcomes],
            "shown": [{"id": o.id, "ja": o.ja, "en": o.en} for o in shown],
        }
    )


def may_read_history(user: User, conv: Conversation) -> bool:
    """Her history (earlier conversations, their notes and closing notes) is for whoever helps
    her now: supervisors, and the conversation's assignee. Seeing the queue is not enough: an
    unassigned conversation would otherwise open everything she ever wrote to anyone on duty.
    Phone staff assigned her callback (or who logged a call of hers) are not given it either
    (phone_side_only): they read what they may see anyway, her phone conversations."""
    if phone_side_only(user):
        return False
    return sees_everything(user) or conv.assignee_id == user.id


@routes.get("/api/conversations/{id}/timeline")
async def timeline(request: web.Request) -> web.Response:
    """Her conversations on every channel; to staff who may read this one but not her history
    (may_read_history), only those they may see anyway, with `restricted: true`."""
    user, conv = await readable_conversation(request)
    whole = may_read_history(user, conv)
    limit = _limit(request, 20)
    before = _query_int(request, "before", None)
    found = await request.app[SERVICES].store.consulter_timeline(
        conv.contact_id, before=None if before is None else ConversationId(before), limit=limit
    )
    next_before = found[-1].conversation.id if len(found) == limit else None
    names, categories = await staff_names(request.app[SERVICES]), urgency_categories(request)
    shown = [s for s in found if whole or can_see(user, s.conversation)]
    # A phone conversation's calls stand in her timeline beside her chats and mails; their
    # notes are case text, read (and audited) with the conversation's messages.
    calls = await request.app[SERVICES].store.calls_in(
        [s.conversation.id for s in shown if s.conversation.channel is ChannelKind.PHONE]
    )
    return web.json_response(
        {
            "contact_alias": conv.contact_alias,
            "conversations": [
                summary_json(s, names, categories)
                | {"current": s.conversation.id == conv.id}
                | _calls_of(s, calls, names)
                for s in shown
            ],
            "next_before": next_before,
            "restricted": not whole,
        }
    )  # fmt: skip


def _calls_of(s: ConversationSummary, calls: Sequence[Call], names: Names) -> dict[str, Any]:
    if s.conversation.channel is not ChannelKind.PHONE:
        return {}
    mine = [c for c in calls if c.conversation_id == s.conversation.id]
    return {"calls": [call_json(c, names, with_note=False) for c in mine]}


@routes.get("/api/conversations/{id}/timeline/{other}/messages")
async def timeline_messages(request: web.Request) -> web.Response:
    """Her earlier conversation's messages, a page at a time from the newest: readable by
    whoever may read the history of the conversation the timeline was opened from."""
    user, conv = await readable_conversation(request)
    store = request.app[SERVICES].store
    other = await store.get_conversation(ConversationId(path_id(request, "other")))
    if other.contact_id != conv.contact_id or not (
        may_read_history(user, conv) or can_see(user, other)
    ):
        raise ApiError(404, "not_found", f"conversation {other.id} is not in this timeline")
    limit = _limit(request, 50)
    before = _query_int(request, "before", None)
    # Reading her earlier conversation is reading it (the audit log); its next pages are the
    # same read (inbox.core.audit.READ_COALESCE).
    await request.app[SERVICES].commands.conversations.record_read(other.id, actor=user.id)
    found = await store.message_page(
        other.id, before=None if before is None else MessageId(before), limit=limit
    )
    names = await staff_names(request.app[SERVICES])
    calls = await store.calls_of(other.id) if other.channel is ChannelKind.PHONE else []
    return web.json_response(
        {
            "conversation": conversation_json(other, names, categories=urgency_categories(request)),
            "messages": [message_json(m, names) for m in found],
            "next_before": found[0].id if len(found) == limit else None,
            # a phone conversation's calls with their notes: reading them is this audited read
            "calls": [call_json(c, names) for c in calls],
        }
    )


def _channels(raw: str) -> tuple[ChannelKind, ...]:
    try:
        return tuple(ChannelKind(s) for s in raw.split(",") if s)
    except ValueError:
        allowed = ",".join(c.value for c in ChannelKind)
        raise ValidationError(f"unknown channel; allowed: {allowed}", field="channel") from None


def _day(request: web.Request, name: str, *, end: bool) -> datetime | None:
    """The start of a day given as YYYY-MM-DD in the program's time zone (for `to`, of the day
    after it, so the day itself is included), as an aware time."""
    day = query_date(request, name)
    if day is None:
        return None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=request.app[SERVICES].settings.timezone)


def _text(request: web.Request, name: str, max_chars: int) -> str | None:
    # searching " a  b" means "a b"; storable: no NUL or lone surrogate reaches the database
    raw = storable(" ".join(request.query.get(name, "").split()))
    if not raw:
        return None
    if len(raw) > max_chars:
        raise ValidationError(f"at most {max_chars} characters", field=name)
    return raw


@routes.get("/api/search")
async def search(request: web.Request) -> web.Response:
    user = await require(request, *CONVERSATION_ROLES)
    settings = request.app[SERVICES].settings
    alias = _text(request, "alias", 40)
    contact_id = None
    if alias is not None:
        contact_id = contact_id_of(alias)
        if contact_id is None:
            raise ValidationError("not an alias such as 相談者-4F2KQ", field="alias")
    created_from = _day(request, "from", end=False)
    created_before = _day(request, "to", end=True)
    channels = _channels(request.query.get("channel", ""))
    visible_to = None
    if not sees_everything(user):
        if user.has_any(Role.COUNSELOR):
            visible_to = user.id
        elif ChannelKind.PHONE in channels or not channels:  # phone staff: phone conversations
            channels = (ChannelKind.PHONE,)
        else:
            return await _results(request, [], None, "all", settings.short_query_recent_messages)
    query = SearchQuery(
        text=_text(request, "q", 200),
        contact_id=contact_id,
        tag=_text(request, "tag", 100),
        statuses=tuple(parse_statuses(request.query.get("status", ""))),
        channels=channels,
        created_from=created_from,
        created_before=created_before,
        visible_to=visible_to,
        before=_query_int(request, "before", None),
        limit=_limit(request, 20),
        recent_messages=settings.short_query_recent_messages,
    )
    page = await request.app[SERVICES].store.search(query)
    return await _results(request, page.hits, page.next_before, page.scope, query.recent_messages)


async def _results(
    request: web.Request,
    hits: list[SearchHit],
    next_before: int | None,
    scope: str,
    recent_messages: int,
) -> web.Response:
    """scope "recent": the text was too short for the index, so only the latest
    `recent_messages` messages were searched (the console says so)."""
    names, categories = await staff_names(request.app[SERVICES]), urgency_categories(request)
    return web.json_response(
        {
            "results": [hit_json(h, names, categories) for h in hits],
            "next_before": next_before,
            "scope": scope,
            "recent_messages": recent_messages,
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
