"""The staff JSON API: sign-in, the queue, conversations, replies, notes, assignment, users."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web

from inbox.auth import new_secret, secret_hash
from inbox.core.audit import about_accounts
from inbox.core.casework import UNKNOWN_AGE
from inbox.core.errors import PermissionDenied, ValidationError
from inbox.core.follow_ups import FollowUp
from inbox.core.model import (
    MAX_CAPACITY,
    OPT_OUT_CHANNELS,
    ChannelKind,
    Conversation,
    ConversationId,
    ConversationStatus,
    Event,
    Message,
    MessageId,
    NewUser,
    Role,
    User,
    UserId,
)
from inbox.outcomes import checked_note, checked_outcome
from inbox.web.access import (
    SESSION_COOKIE,
    check_can_act,
    check_can_note,
    check_can_see,
    current_user,
    phone_side_only,
    readable_conversation,
    require,
    sees_everything,
    session_ttl,
)
from inbox.web.queue_page import (
    QUEUE_PAGES,
    ROW_JSON,
    SHARED_PARTS,
    EncodedPage,
    OrderedRow,
    SharedPart,
    answer,
    merged_page,
    not_modified,
    page_of,
)
from inbox.web.server import (
    SERVICES,
    Services,
    field_int,
    field_str,
    json_body,
    optional_bool,
    optional_id,
    parse_id,
    path_id,
)
from inbox.web.signin import checked_login, new_password_hash

routes = web.RouteTableDef()


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(user.roles),
        "capacity": user.capacity,
        "disabled": user.disabled,
        "must_change_password": user.must_change_password,
    }


Names = Mapping[UserId, str]  # staff display names by id (staff_names)
NO_NAMES: Names = {}


async def staff_names(services: Services) -> Names:
    """Every staff member's display name, so that JSON names people instead of showing ids."""
    return await services.names.get(services.store)


# Triage's default categories (routing.rules.DEFAULT_KEYWORDS), for callers without settings.
URGENCY_CATEGORIES = ("suicide_risk", "immediate_danger")


def urgency_of(tags: Iterable[str], categories: Sequence[str]) -> str | None:
    """The urgency category triage gave the conversation (the first, in triage's order, among
    its tags), or None: for the screens to word, never to show as it is."""
    found = set(tags)
    return next((c for c in categories if c in found), None)


def conversation_json(
    conv: Conversation, names: Names, *, categories: Sequence[str]
) -> dict[str, Any]:
    """The conversation as staff see it: the assignee by name, the urgency as triage's category
    (from the configured categories: see urgency_categories)."""

    def iso(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": conv.id,
        "contact_alias": conv.contact_alias,
        "channel": conv.channel,
        "status": conv.status,
        "priority": conv.priority,
        "urgency": urgency_of(conv.tags, categories),
        "assignee_id": conv.assignee_id,
        "assignee_name": None if conv.assignee_id is None else names.get(conv.assignee_id),
        "tags": list(conv.tags),
        "created_at": iso(conv.created_at),
        "updated_at": iso(conv.updated_at),
        "last_inbound_at": iso(conv.last_inbound_at),
        "first_response_due": iso(conv.first_response_due),
        "next_response_due": iso(conv.next_response_due),
        "offered_at": iso(conv.offered_at),
        "opened_at": iso(conv.opened_at),
        "closed_at": iso(conv.closed_at),
        "outcome": conv.outcome,
        "outcome_note": conv.outcome_note,
        # web chat: her replies up to this id are shown to the consulter as read
        "consulter_read_message_id": conv.consulter_read_message_id,
    }


# Served by inbox.web.attachments; position is the attachment's index in the message's list.
ATTACHMENT_ROUTE = "/api/messages/{message_id}/attachments/{position}"


def attachment_json(msg: Message, position: int) -> dict[str, Any]:
    a = msg.attachments[position]
    url = ATTACHMENT_ROUTE.format(message_id=msg.id, position=position) if a.stored else None
    return {
        "filename": a.filename,
        "content_type": a.content_type,
        "size_bytes": a.size_bytes,
        "stored": a.stored,  # False: refused (over the size limit), listed so she knows of it
        "download_url": url,
    }


def message_json(msg: Message, names: Names = NO_NAMES) -> dict[str, Any]:
    return {
        "id": msg.id,
        "conversation_id": msg.conversation_id,
        "direction": msg.direction,
        "body": msg.body,
        "author_id": msg.author_id,
        "author_name": None if msg.author_id is None else names.get(msg.author_id),
        "created_at": msg.created_at.isoformat(),
        "delivery_status": msg.delivery_status,
        # a failed reply: why, as the outbox recorded it (a short reason, never an address)
        "failure_reason": msg.failure_reason,
        "attachments": [attachment_json(msg, i) for i in range(len(msg.attachments))],
    }


# Events whose data says whose a conversation was and whose it became (staff ids, never case
# data): the live feed carries them, so that a counselor with the conversation open can be told
# "moved to B by S" (the actor) instead of meeting an error.
HANDOVER_KINDS = frozenset({"conversation_assigned", "conversation_requeued"})
# Events whose reason the screens need (an alert's urgency category, why presence changed): a
# category or a word, never text from a message. Other events' data stays out of the feed.
_REASONED = frozenset({"supervisors_alerted", "counselor_updated"})


def event_json(event: Event) -> dict[str, Any]:
    found = {
        "id": event.id,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "conversation_id": event.conversation_id,
        "message_id": event.message_id,
    }
    if event.kind in HANDOVER_KINDS:
        found["from_user_id"] = _staff_id(event.data.get("from_user_id"))
        found["to_user_id"] = _staff_id(event.data.get("user_id"))
    if event.kind in _REASONED and isinstance(reason := event.data.get("reason"), str):
        found["reason"] = reason
    return found


def _staff_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ---- sign-in --------------------------------------------------------------------------------
@routes.post("/api/session")
async def sign_in(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    data = await json_body(request)
    username, password = field_str(data, "username"), field_str(data, "password")
    user = await checked_login(request, username, password)
    token = new_secret()
    ttl = session_ttl(services.settings.session_ttl_h)
    await services.commands.accounts.start_session(user.id, secret_hash(token), ttl=ttl)
    response = web.json_response({"user": user_json(user)})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=services.settings.secure_cookies,
        path="/",
    )
    return response


@routes.delete("/api/session")
async def sign_out(request: web.Request) -> web.Response:
    await current_user(request)
    if cookie := request.cookies.get(SESSION_COOKIE):
        await request.app[SERVICES].commands.accounts.end_session(secret_hash(cookie))
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def load_json(user: User, by_channel: list[tuple[ChannelKind, int]]) -> dict[str, Any]:
    """Her open conversations (those that take capacity) against her capacity."""
    return {
        "open": sum(n for _, n in by_channel),
        "capacity": user.capacity,
        "by_channel": {c.value: n for c, n in by_channel},
        "channel_capacity": {c.value: n for c, n in user.channel_capacity},
    }


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    """Who she is; for a counselor or phone staff (the router offers both work by presence)
    also her presence and her load against her capacity (the console's header, the /phone
    page). Presence is changed with PATCH /api/counselors/{id}."""
    user = await current_user(request)
    answer: dict[str, Any] = {"user": user_json(user), "presence": None, "load": None}
    if user.has_any(Role.COUNSELOR, Role.PHONE_STAFF):
        by_channel = await request.app[SERVICES].store.counselor_load(user.id)
        answer |= {"presence": user.presence.value, "load": load_json(user, by_channel)}
    # the reply box counts SMS segments and warns above the program's limit
    sms = request.app[SERVICES].settings.sms
    answer["sms"] = {"enabled": sms.enabled, "max_segments": sms.max_segments}
    return web.json_response(answer)


# ---- conversations --------------------------------------------------------------------------
def urgency_categories(request: web.Request) -> tuple[str, ...]:
    return request.app[SERVICES].settings.urgency_categories


def parse_statuses(raw: str) -> list[ConversationStatus]:
    """A `status=` query: comma-separated statuses; a ValidationError names the field."""
    try:
        return [ConversationStatus(s) for s in raw.split(",") if s]
    except ValueError:
        allowed = ",".join(s.value for s in ConversationStatus)
        raise ValidationError(
            f"unknown status in {raw!r}; allowed: {allowed}", field="status"
        ) from None


@routes.get("/api/conversations")
async def list_conversations(request: web.Request) -> web.Response:
    """The queue page, built once per change for everyone who sees the same (queue_page)."""
    user = await require(request, Role.COUNSELOR, Role.SUPERVISOR, Role.PHONE_STAFF)
    statuses = parse_statuses(request.query.get("status", "queued,assigned,waiting"))
    services = request.app[SERVICES]
    pages = request.app.get(QUEUE_PAGES)
    names = await staff_names(services)
    if pages is None:  # no staff feed tells of changes (some tests): built every time
        body = await queue_page(request, user, statuses, names)
        return web.Response(body=body, content_type="application/json")
    key = pages.key(user, statuses, services.names.version)  # before the page's query
    seen_by = key.seer
    if (
        seen_by is not None
        and not seen_by.phone
        and seen_by.counselor is not None
        and ConversationStatus.CLOSED not in statuses  # the queue's parts: open ones only
    ):
        parts = request.app[SHARED_PARTS]

        async def hers() -> EncodedPage:
            shared = await parts.page(key.shared(), lambda: shared_part(request, statuses, names))
            own = await ordered_rows(request, statuses, names, user.id)
            return merged_page(own, shared, QUEUE_LIMIT)

        page = await pages.page(key, hers)
    else:

        async def whole() -> EncodedPage:
            return EncodedPage.of(await queue_page(request, user, statuses, names))

        page = await pages.page(key, whole)
    return answer(page.etag, None if not_modified(request, page.etag) else page.body)


QUEUE_LIMIT = 200  # the queue page's rows (storage list_conversations' default)


async def ordered_rows(
    request: web.Request,
    statuses: Sequence[ConversationStatus],
    names: Names,
    assignee: UserId | None,
) -> list[OrderedRow]:
    """A part of a counselor's page (the unassigned queued ones, or those assigned to
    `assignee`), each row encoded with its place in the queue's order."""
    store = request.app[SERVICES].store
    found, tasks = await store.queue_part(statuses=statuses, assignee=assignee, limit=QUEUE_LIMIT)
    encoded = await encoded_rows(request, [c for _, c in found], names, tasks)
    return [(order, row) for (order, _), row in zip(found, encoded, strict=True)]


async def shared_part(
    request: web.Request, statuses: Sequence[ConversationStatus], names: Names
) -> SharedPart:
    """The part of a counselor's page that every counselor's shares: the unassigned queued."""
    return SharedPart.of(await ordered_rows(request, statuses, names, None))


async def queue_page(
    request: web.Request, user: User, statuses: Sequence[ConversationStatus], names: Names
) -> bytes:
    """`{"conversations": [...]}`, those `user` sees of these statuses, most urgent then oldest
    first, encoded: each row's JSON is built only when it changed (queue_page.RowJson)."""
    store = request.app[SERVICES].store
    if sees_everything(user):
        found = await store.list_conversations(statuses=statuses)
    else:
        found = []
        if user.has_any(Role.COUNSELOR):
            found += await store.list_conversations(statuses=statuses, visible_to=user.id)
        if user.has_any(Role.PHONE_STAFF):
            found += await store.list_conversations(statuses=statuses, channels=[ChannelKind.PHONE])
        found = list({c.id: c for c in found}.values())
    return page_of(await encoded_rows(request, found, names))


async def encoded_rows(
    request: web.Request,
    found: Sequence[Conversation],
    names: Names,
    tasks: Mapping[ConversationId, FollowUp] | None = None,
) -> list[bytes]:
    """Each conversation's row as the queue page has it, encoded (once per content). `tasks`:
    their due follow-ups, when read with them (else read here)."""
    if tasks is None:
        store = request.app[SERVICES].store
        tasks = await store.follow_up_tasks([ConversationId(c.id) for c in found]) if found else {}
    categories = urgency_categories(request)
    rows = request.app[ROW_JSON]

    def row(c: Conversation) -> bytes:
        task = tasks.get(ConversationId(c.id))
        name = None if c.assignee_id is None else names.get(c.assignee_id)
        due = None if task is None else (task.id, task.due_on, task.counselor_id)
        return rows.get(
            (c, name, due),
            lambda: (
                conversation_json(c, names, categories=categories)
                | {"follow_up": task_marker(task)}
            ),
        )

    return [row(c) for c in found]


def task_marker(f: FollowUp | None) -> dict[str, Any] | None:
    """What marks a conversation as a follow-up's task (近況確認) in the queue and its view
    (None: it is none): the day and whom it is offered first."""
    if f is None:
        return None
    return {"id": f.id, "due_on": f.due_on.isoformat(), "counselor_id": f.counselor_id}


# Who works with conversations at all; admins manage accounts and see none.
CONVERSATION_ROLES = (Role.COUNSELOR, Role.SUPERVISOR, Role.PHONE_STAFF)


async def visible_conversation(
    request: web.Request, conversation_id: ConversationId | None = None
) -> tuple[User, Conversation]:
    """The signed-in staff member and the conversation (by default the one the path names) if
    she may see it: 403 for a role that sees no conversations, 404 for one she may not see."""
    user = await require(request, *CONVERSATION_ROLES)
    if conversation_id is None:
        conversation_id = ConversationId(path_id(request))
    conv = await request.app[SERVICES].store.get_conversation(conversation_id)
    check_can_see(user, conv)
    return user, conv


@routes.get("/api/conversations/{id}")
async def get_conversation(request: web.Request) -> web.Response:
    user, conv = await readable_conversation(request)
    services = request.app[SERVICES]
    # Who read it (the audit log): before anything of it is shown; her screen's refetches of
    # the open conversation are the same read (inbox.core.audit.READ_COALESCE).
    await services.commands.conversations.record_read(conv.id, actor=user.id)
    if conv.assignee_id == user.id and conv.opened_at is None:
        # she has seen the offer, so the router's offer timeout must not take it back
        opened = await services.commands.conversations.open_offer(conv.id, user.id)
        if opened is not None:
            conv = dataclasses.replace(conv, opened_at=opened)
    messages = await services.store.list_messages(conv.id)
    # A returning consulter: she wrote before (any channel), and who helped her last.
    earlier = await services.store.consulter_timeline(conv.contact_id, before=conv.id, limit=20)
    if phone_side_only(user):  # her chats, and who helped her there, are not theirs to know
        earlier = [e for e in earlier if e.conversation.channel is ChannelKind.PHONE]
    helper = next((e.handled_by_name for e in earlier if e.handled_by_name), None)
    history: dict[str, Any] = {"returning": bool(earlier), "last_helped_by": helper}
    # She texted STOP, or blocked the LINE account: the console says so and sends nothing (the
    # outbox refuses it too).
    opted_out = conv.channel in OPT_OUT_CHANNELS and await services.store.recipient_opted_out(
        conv.id
    )
    history["opted_out"] = opted_out
    tasks = await services.store.follow_up_tasks([ConversationId(conv.id)])
    history["follow_up"] = task_marker(tasks.get(ConversationId(conv.id)))
    # casework (issue 17): the topics the counselor ticked, her age group ("unknown": not told)
    history["topics"] = list(await services.store.conversation_topics(conv.id))
    history["age_group"] = await services.store.age_group_of(conv.contact_id) or UNKNOWN_AGE
    names = await staff_names(services)
    return web.json_response(
        {
            "conversation": conversation_json(conv, names, categories=urgency_categories(request))
            | history,
            "messages": [message_json(m, names) for m in messages],
        }
    )


@routes.post("/api/conversations/{id}/replies")
async def reply(request: web.Request) -> web.Response:
    user, conv = await visible_conversation(request)
    check_can_act(user, conv)
    services = request.app[SERVICES]
    data = await json_body(request)
    body = field_str(data, "body", max_chars=services.settings.max_message_chars)
    # No double replies: the last message her screen showed; when another staff member's reply
    # was stored after it, 409 reply_collision names who, and she resends with force: true.
    seen = optional_id(data, "last_seen_message_id")
    if optional_bool(data, "force"):
        seen = None
    msg = await services.commands.conversations.reply(
        conv.id, user.id, body, seen_up_to=None if seen is None else MessageId(seen)
    )
    return web.json_response(
        {"message": message_json(msg, {user.id: user.display_name})}, status=201
    )


@routes.post("/api/conversations/{id}/notes")
async def note(request: web.Request) -> web.Response:
    user, conv = await visible_conversation(request)
    check_can_note(user, conv)
    services = request.app[SERVICES]
    body = field_str(
        await json_body(request), "body", max_chars=services.settings.max_message_chars
    )
    msg = await services.commands.conversations.note(conv.id, user.id, body)
    return web.json_response(
        {"message": message_json(msg, {user.id: user.display_name})}, status=201
    )


@routes.post("/api/conversations/{id}/assign")
async def assign(request: web.Request) -> web.Response:
    user, conv = await visible_conversation(request)
    services = request.app[SERVICES]
    target = UserId(field_int(await json_body(request), "user_id"))
    if sees_everything(user):
        capacity = None  # a supervisor's decision overrides capacity
    elif target == user.id and user.has_any(Role.COUNSELOR, Role.PHONE_STAFF):
        # claiming from the queue: only with room to spare, and only what is hers to take (the
        # store gives calls to phone staff only, everything else to counselors only)
        capacity = user.capacity
    else:
        raise PermissionDenied("counselors can only take conversations themselves")
    updated = await services.commands.conversations.assign(
        conv.id, target, actor=user.id, capacity=capacity
    )
    names = await staff_names(services)
    return web.json_response(
        {"conversation": conversation_json(updated, names, categories=urgency_categories(request))}
    )


@routes.post("/api/conversations/{id}/close")
async def close(request: web.Request) -> web.Response:
    user, conv = await visible_conversation(request)
    check_can_act(user, conv)
    services = request.app[SERVICES]
    data = await json_body(request)
    outcome = checked_outcome(services.settings.outcomes, data.get("outcome"))
    closed = await services.commands.conversations.close(
        conv.id, actor=user.id, outcome=outcome, note=checked_note(data.get("note"))
    )
    names = await staff_names(services)
    return web.json_response(
        {"conversation": conversation_json(closed, names, categories=urgency_categories(request))}
    )


# ---- users and events -----------------------------------------------------------------------
@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    await require(request, Role.SUPERVISOR, Role.ADMIN)
    users = await request.app[SERVICES].store.list_users()
    return web.json_response({"users": [user_json(u) for u in users]})


def checked_roles(value: object) -> frozenset[Role]:
    allowed = ", ".join(r.value for r in Role)
    if not isinstance(value, list) or not value:
        raise ValidationError(f"required, a non-empty list of: {allowed}", field="roles")
    try:
        return frozenset(Role(r) for r in value)
    except ValueError:
        raise ValidationError(f"unknown role; allowed: {allowed}", field="roles") from None


@routes.post("/api/users")
async def create_user(request: web.Request) -> web.Response:
    admin = await require(request, Role.ADMIN)
    services = request.app[SERVICES]
    data = await json_body(request)
    capacity = data.get("capacity", 3)
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        raise ValidationError(f"an integer from 0 to {MAX_CAPACITY}", field="capacity")
    if not 0 <= capacity <= MAX_CAPACITY:
        raise ValidationError(f"an integer from 0 to {MAX_CAPACITY}", field="capacity")
    username = field_str(data, "username")
    display_name = data.get("display_name")
    if display_name is not None and not isinstance(display_name, str):
        raise ValidationError("a string, or null for the username", field="display_name")
    # The admin chose this password, so by default it is not hers: she sets her own first.
    must_change = data.get("must_change_password", True)
    if not isinstance(must_change, bool):
        raise ValidationError("true or false (default true)", field="must_change_password")
    new = NewUser(
        username=username,
        display_name=display_name or username,
        password_hash=await new_password_hash(services, field_str(data, "password")),
        roles=checked_roles(data.get("roles")),
        capacity=capacity,
        must_change_password=must_change,
    )
    created = await services.commands.accounts.create_user(new, by=admin.id)
    return web.json_response({"user": user_json(created)}, status=201)


@routes.get("/api/events")
async def list_events(request: web.Request) -> web.Response:
    user = await require(request, Role.SUPERVISOR, Role.ADMIN)
    after = parse_id(request.query.get("after", "0"))
    if after is None:
        raise ValidationError("an event id: ASCII digits, below 2**63", field="after")
    events = await request.app[SERVICES].store.list_events(after_id=after)
    # The log with each event's data, which the live feed to every staff socket leaves out.
    # An admin who is not also a supervisor manages accounts, not the work: the events about
    # accounts alone (inbox.core.audit), and `next_after` pages past the ones she is not shown.
    sees_cases = user.has_any(Role.SUPERVISOR)
    shown = events if sees_cases else [e for e in events if about_accounts(e)]
    return web.json_response(
        {
            "events": [event_json(e) | {"data": e.data} for e in shown],
            "next_after": events[-1].id if events else after,
        }
    )


@routes.get("/api/staff")
async def list_staff(request: web.Request) -> web.Response:
    """Every staff member's id and display name, for any signed-in staff member: the console
    names who moved a conversation, who replied and who has it open, never "ID 2"."""
    await require(request, *CONVERSATION_ROLES, Role.ADMIN)
    names = await staff_names(request.app[SERVICES])
    return web.json_response(
        {"staff": [{"id": i, "display_name": name} for i, name in names.items()]}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
