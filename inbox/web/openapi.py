"""The JSON API as an OpenAPI 3.1 document, served at GET /api/openapi.json.

Built in code so the enums come from inbox.core.model and cannot drift from it; a test compares its
paths and methods with the app's router, and schemathesis sends what it describes to a real
server (tests/web/test_openapi.py).
"""

from __future__ import annotations

from functools import cache

from aiohttp import web

from inbox.core.model import Anonymity, ChannelKind, Presence, Role
from inbox.web.openapi_agencies import AGENCY_PATHS
from inbox.web.openapi_casework import CASEWORK_PATHS
from inbox.web.openapi_follow_ups import FOLLOW_UP_PATHS
from inbox.web.openapi_parts import (
    BEFORE,
    CANNED_DRAFT,
    CHANNEL,
    CHANNEL_STATE,
    CONVERSATION_ID,
    COUNSELOR_UPDATE,
    ERRORS,
    FAILURES,
    ID,
    LIMIT,
    NOTE,
    PAGE_LIMIT,
    REPLY_BODY,
    SCHEMAS,
    TEXT,
    TEXT_BODY,
    TIME,
    USER_ID,
    Schema,
    conversation_action,
    enum_of,
    list_of,
    not_modified,
    nullable,
    obj,
    operation,
    param,
    query_text,
    ref,
    wrap,
)
from inbox.web.openapi_phone import LABEL, PHONE_PATHS
from inbox.web.openapi_report import REPORT_PATHS

OPENAPI_PATH = "/api/openapi.json"

AUDIT_EVENT = obj(
    ("id", "at", "actor_id", "actor_name", "kind", "conversation_id", "details"),
    id=ID,
    at=TIME,
    actor_id=nullable(ID),
    actor_name=nullable({"type": "string"}),
    kind=TEXT,
    conversation_id=nullable(ID),
    # picked by name from the event's data: staff (user_id, user_name, from_user_id,
    # from_name), channel, outcome, anonymity, fields, reason; never a body or an address
    details={"type": "object"},
)

_COUNT: Schema = {"type": "integer", "minimum": 0}
# The board's LINE quota (inbox.web.overview): "unavailable" when LINE could not be asked (the
# numbers are then null); limit null with state "ok": the account has no monthly limit.
LINE_QUOTA = obj(
    (
        "state",
        "limit",
        "used",
        "remaining",
        "percent",
        "warn",
        "exhausted",
        "warn_percent",
        "read_at",
    ),
    state={"type": "string", "enum": ["ok", "unavailable"]},
    limit=nullable(_COUNT),
    used=nullable(_COUNT),
    remaining=nullable(_COUNT),
    percent=nullable(_COUNT),
    warn={"type": "boolean"},
    exhausted={"type": "boolean"},
    warn_percent={"type": "integer", "minimum": 1, "maximum": 100},
    read_at=TIME,
)
_FRIENDS = obj(("added", "lost"), added=_COUNT, lost=_COUNT)
# LINE friends added (follows) and lost (unfollows) today and this month, in settings.timezone
LINE_FRIENDS = obj(("today", "month", "read_at"), today=_FRIENDS, month=_FRIENDS, read_at=TIME)


def _audit_filter(name: str, description: str, schema: Schema) -> Schema:
    return param(name, "query", schema, required=False) | {"description": description}


_DAY: Schema = {"type": "string", "format": "date", "examples": ["2026-11-30"]}
AUDIT_FILTERS = (
    _audit_filter(
        "actor",
        "a staff member's id, or any (the default), staff, system",
        {"type": "string", "maxLength": 20, "examples": ["staff", "2"]},
    ),
    _audit_filter(
        "kind",
        "event kinds, comma-separated (or the parameter repeated)",
        {"type": "string", "maxLength": 500, "examples": ["conversation_read,note_added"]},
    ),
    param("conversation", "query", ID, required=False),
    _audit_filter("day", "one day of the program's calendar (not with from/to)", _DAY),
    _audit_filter("from", "on or after this day", _DAY),
    _audit_filter("to", "on or before this day", _DAY),
)


def csv_operation(summary: str, *, params: tuple[Schema, ...], errors: tuple[int, ...]) -> Schema:
    """An operation whose answer is a CSV download."""
    op = operation(summary, None, params=params, errors=errors)
    op["responses"]["200"]["content"] = {"text/csv": {"schema": {"type": "string"}}}
    return op


AUDIT_LIMIT = param(
    "limit", "query", {"type": "integer", "minimum": 1, "maximum": 200}, required=False
)

PATHS: dict[str, dict[str, Schema]] = {
    "/api/session": {
        "post": operation(
            "sign in; sets the session cookie",
            wrap("user", ref("User")),
            body=obj(("username", "password"), username=TEXT, password=TEXT),
            errors=(401, 429, 503),
            public=True,
        ),
        "delete": operation("sign out", None, status=204, errors=(401, 503)),
    },
    "/api/me": {
        "get": operation(
            "who am I; a counselor's or phone staff's presence and load against her capacity",
            obj(
                ("user", "presence", "load"),
                user=ref("User"),
                presence=nullable(enum_of(Presence)),
                load=nullable(ref("Load")),
                # the reply box's SMS segment counter and its limit
                sms=obj(
                    ("enabled", "max_segments"),
                    enabled={"type": "boolean"},
                    max_segments={"type": "integer", "minimum": 1},
                ),
            ),
            errors=(401, 503),
        )
    },
    "/api/conversations": {
        "get": not_modified(
            operation(
                "the queue and her conversations (everything for supervisors); with an ETag "
                "and Cache-Control: private, no-cache, so that the browser revalidates it",
                list_of("conversations", "Conversation"),
                params=(
                    param(
                        "status",
                        "query",
                        {"type": "string", "examples": ["queued,assigned,waiting"]},
                        required=False,
                    ),
                    param("If-None-Match", "header", {"type": "string"}, required=False),
                ),
                errors=(400, 401, 403, 503),
            )
        )
    },
    "/api/conversations/{id}": {
        "get": operation(
            "a conversation and its messages; the assignee opening it accepts the offer",
            obj(
                ("conversation", "messages"),
                conversation=ref("Conversation"),
                messages={"type": "array", "items": ref("Message")},
            ),
            params=(CONVERSATION_ID,),
        )
    },
    "/api/conversations/{id}/replies": {
        "post": conversation_action("answer", REPLY_BODY, wrap("message", ref("Message")), 201)
    },
    "/api/conversations/{id}/notes": {
        "post": conversation_action(
            "internal note", TEXT_BODY, wrap("message", ref("Message")), 201
        )
    },
    "/api/conversations/{id}/assign": {
        "post": conversation_action(
            "take (herself) or give (supervisor) a conversation",
            obj(("user_id",), user_id=ID),
            wrap("conversation", ref("Conversation")),
        )
    },
    "/api/conversations/{id}/close": {
        "post": conversation_action(
            "close, saying how it ended: an outcome id of GET /api/outcomes, and a note",
            obj(
                ("outcome",),
                outcome={"type": "string", "minLength": 1, "examples": ["referred"]},
                note=NOTE,
            ),
            wrap("conversation", ref("Conversation")),
        )
    },
    "/api/conversations/{id}/timeline": {
        "get": operation(
            "the consulter's conversations on every channel, closed ones too, newest first; to "
            "staff who may read this conversation but not her history (not its assignee, not a "
            "supervisor) only those they may see anyway, with restricted: true",
            obj(
                ("contact_alias", "conversations", "next_before", "restricted"),
                contact_alias={"type": "string"},
                conversations={"type": "array", "items": ref("ConversationSummary")},
                next_before=nullable(ID),
                restricted={"type": "boolean"},
            ),
            params=(CONVERSATION_ID, BEFORE, PAGE_LIMIT),
            errors=(400, 401, 403, 404, 503),
        )
    },
    "/api/conversations/{id}/timeline/{other}/messages": {
        "get": operation(
            "one of her conversations' messages, a page back from the newest",
            obj(
                ("conversation", "messages", "next_before"),
                conversation=ref("Conversation"),
                messages={"type": "array", "items": ref("Message")},
                next_before=nullable(ID),
                calls={"type": "array", "items": {"type": "object"}},  # a phone conversation's
            ),
            params=(CONVERSATION_ID, param("other", "path", ID), BEFORE, PAGE_LIMIT),
            errors=(400, 401, 403, 404, 503),
        )
    },
    "/api/outcomes": {
        "get": operation(
            "how a conversation may end: the configured outcomes, in Japanese and English;"
            " `shown`: the words of other endings (a phone callback's), never offered",
            obj(
                ("outcomes", "shown"),
                outcomes={"type": "array", "items": LABEL},
                shown={"type": "array", "items": LABEL},
            ),
            errors=(401, 403, 503),
        )
    },
    "/api/search": {
        "get": operation(
            "conversations by text, alias, tag, status, channel and the day they began (the"
            " program's time zone); newest first. Counselors: hers (assigned, or she wrote in)",
            obj(
                ("results", "next_before", "scope", "recent_messages"),
                results={"type": "array", "items": ref("ConversationSummary")},
                next_before=nullable(ID),
                # recent: a text under 3 characters searched the latest recent_messages only
                scope={"type": "string", "enum": ["all", "recent"]},
                recent_messages={"type": "integer"},
            ),
            params=(
                query_text("q", "a Japanese word: any substring of a message", "眠れない"),
                query_text("alias", "the consulter's alias", "相談者-4F2KQ"),
                query_text("tag", "a tag", "dv"),
                query_text("status", "statuses, comma-separated", "closed"),
                query_text("channel", "channels, comma-separated", "line,webchat"),
                query_text("from", "began on or after this day", "2026-11-01"),
                query_text("to", "began on or before this day", "2026-11-30"),
                BEFORE,
                PAGE_LIMIT,
            ),
            errors=(400, 401, 403, 503),
        )
    },
    "/api/conversations/{id}/contact": {
        "get": operation(
            "alias, anonymity mode, discretion; an identified consulter's address",
            wrap("contact", ref("Contact")),
            params=(CONVERSATION_ID,),
        )
    },
    "/api/conversations/{id}/reveal": {
        "post": conversation_action(
            "a pseudonymous consulter's address, audited with the reason (409 for a web-chat "
            "session: it has no address to reveal, and nothing is audited)",
            obj(("reason",), reason={"type": "string", "minLength": 1, "maxLength": 500}),
            obj(("address", "channel"), address={"type": "string"}, channel=enum_of(ChannelKind)),
        )
    },
    # --- link: one consulter across channels
    "/api/conversations/{id}/link": {
        "post": conversation_action(
            "supervisor: the other conversation's consulter is this one's (her contact merges"
            " into this one's, so both show in one timeline under one alias), audited with the"
            " reason; 400 naming conversation_id for this conversation or one of hers already",
            obj(
                ("conversation_id", "reason"),
                conversation_id=ID,
                reason={"type": "string", "minLength": 1, "maxLength": 500},
            ),
            obj(
                ("contact_alias", "merged_alias"),
                contact_alias={"type": "string"},
                merged_alias={"type": "string"},
            ),
        )
    },
    "/api/conversations/{id}/anonymity": {
        "put": conversation_action(
            "her anonymity wish; null returns to the channel's default",
            obj(("anonymity",), anonymity=nullable(enum_of(Anonymity))),
            wrap("contact", ref("Contact")),
        )
    },
    "/api/conversations/{id}/discretion": {
        "post": conversation_action(
            "her discretion wish: automatic replies never name the program",
            obj(("discretion",), discretion={"type": "boolean"}),
            obj(
                ("conversation_id", "discretion"),
                conversation_id=ID,
                discretion={"type": "boolean"},
            ),
        )
    },
    "/api/conversations/{id}/handover": {
        "get": operation(
            "who gave it to its assignee, when, with what note (no read is audited); "
            "its assignee and supervisors only",
            obj(
                ("conversation_id", "contact_alias", "handover"),
                conversation_id=ID,
                contact_alias={"type": "string"},
                handover=nullable(
                    obj(
                        ("by_id", "at", "note"),
                        by_id=ID,
                        at=TIME,
                        note=nullable({"type": "string"}),
                    )
                ),
            ),
            params=(CONVERSATION_ID,),
        )
    },
    "/api/conversations/move": {
        "post": operation(
            "move many conversations to one counselor",
            obj(("moved", "failed"), moved={"type": "array", "items": ID}, failed=FAILURES),
            body=obj(
                ("conversation_ids", "to_user_id"),
                conversation_ids={"type": "array", "minItems": 1, "maxItems": 200, "items": ID},
                to_user_id=ID,
                note=NOTE,
            ),
            errors=(401, 403, 409, 503),
        )
    },
    "/api/messages/{message_id}/attachments/{position}": {
        "get": operation(
            "a stored attachment, as a download",
            None,
            params=(param("message_id", "path", ID), param("position", "path", ID)),
        )
    },
    "/api/counselors/{id}": {
        "get": operation(
            "her routing profile (the profile editor); a counselor or phone staff only her own",
            wrap("counselor", ref("Counselor")),
            params=(USER_ID,),
            errors=(401, 403, 404, 503),  # 404: no such counselor
        ),
        "patch": operation(
            "her routing profile; a counselor or phone staff only her own presence",
            wrap("counselor", ref("Counselor")),
            body=COUNSELOR_UPDATE,
            params=(USER_ID,),
            errors=(401, 403, 404, 409, 503),  # 409: not a counselor
        ),
    },
    "/api/counselors/{id}/drain": {
        "post": operation(
            "going off shift: hand her conversations back with a note, or keep them",
            obj(
                ("counselor", "requeued", "kept", "failed"),
                counselor=ref("Counselor"),
                requeued={"type": "array", "items": ID},
                kept={"type": "array", "items": ID},
                failed=FAILURES,
            ),
            body={
                **obj(keep={"type": "boolean"}, note=NOTE, presence=enum_of(Presence)),
                "additionalProperties": False,
            },
            params=(USER_ID,),
            errors=(401, 403, 404, 409, 503),  # 409: not a counselor
        )
    },
    "/api/channels": {
        "get": operation(
            "each channel and whether it is paused",
            wrap("channels", {"type": "array", "items": CHANNEL_STATE}),
            errors=(401, 403, 503),
        )
    },
    "/api/channels/{channel}/pause": {
        "post": operation("pause routing on a channel", CHANNEL_STATE, params=(CHANNEL,))
    },
    "/api/channels/{channel}/resume": {
        "post": operation("resume routing on a channel", CHANNEL_STATE, params=(CHANNEL,))
    },
    "/api/supervision": {
        "get": operation(
            "live load per counselor, queue depth, time to breach",
            obj(
                ("now", "counselors", "queue", "paused_channels", "time_to_breach"),
                now=TIME,
                counselors={"type": "array", "items": {"type": "object"}},
                queue={"type": "array", "items": {"type": "object"}},
                paused_channels={"type": "array", "items": enum_of(ChannelKind)},
                time_to_breach={"type": "array", "items": {"type": "object"}},
            ),
            errors=(401, 403, 503),
        )
    },
    # --- board: the supervisor's live board (also pushed: {"type": "board", ...} on /api/ws)
    "/api/board": {
        "get": operation(
            "the board: counselors, queue, today's waits, what may move, alerts",
            obj(
                (
                    "event_id",
                    "now",
                    "counselors",
                    "queue",
                    "waiting_total",
                    "channels",
                    "waits",
                    "waiting",
                    "assigned",
                    "alerts",
                    "on_call",
                    "line_quota",
                    "line_friends",
                ),
                event_id=ID,
                now=TIME,
                counselors={"type": "array", "items": {"type": "object"}},
                queue={"type": "array", "items": {"type": "object"}},
                waiting_total={"type": "integer", "minimum": 0},
                channels={"type": "array", "items": {"type": "object"}},
                waits={"type": "object"},
                waiting={"type": "array", "items": {"type": "object"}},
                assigned={"type": "array", "items": {"type": "object"}},
                alerts={"type": "array", "items": {"type": "object"}},
                # who the rota has on call now (routing.on_call), or null
                on_call=nullable(obj(("id", "display_name"), id=ID, display_name=nullable(TEXT))),
                # LINE's monthly quota, read at most every 5 minutes; null: [line] is off
                line_quota=nullable(LINE_QUOTA),
                # friends added and lost on LINE, counted at most every 5 minutes; null: off
                line_friends=nullable(LINE_FRIENDS),
            ),
            errors=(401, 403, 503),
        )
    },
    "/api/alerts/{id}/ack": {
        "post": operation(
            "acknowledge an alert (again: the first acknowledgement)",
            obj(
                ("event_id", "acknowledged"),
                event_id=ID,
                acknowledged=obj(
                    ("by_id", "by_name", "at"), by_id=ID, by_name=nullable(TEXT), at=TIME
                ),
            ),
            params=(param("id", "path", ID),),
        )
    },
    "/api/users": {
        "get": operation("accounts", list_of("users", "User"), errors=(401, 403, 503)),
        "post": operation(
            "create an account",
            wrap("user", ref("User")),
            status=201,
            body=obj(
                ("username", "password", "roles"),
                username=TEXT,
                password={"type": "string", "minLength": 10},
                roles={"type": "array", "minItems": 1, "items": enum_of(Role)},
                display_name=nullable({"type": "string"}),
                capacity=LIMIT,
                # default true: she sets her own password at her first sign-in
                must_change_password={"type": "boolean"},
            ),
            errors=(401, 403, 409, 503),
        ),
    },
    "/api/staff": {
        "get": operation(
            "every staff member's id and display name (any signed-in staff member)",
            wrap(
                "staff",
                {
                    "type": "array",
                    "items": obj(("id", "display_name"), id=ID, display_name={"type": "string"}),
                },
            ),
            errors=(401, 403, 503),
        )
    },
    "/api/users/{username}/disable": {
        "post": operation(
            "disable an account: ends her sessions, requeues her conversations (409: herself,"
            " or the last enabled admin)",
            wrap("user", ref("User")),
            params=(param("username", "path", TEXT),),
            errors=(401, 403, 404, 409, 503),
        )
    },
    # --- accounts: admins manage accounts; a password an admin set must be changed
    "/api/users/{username}/enable": {
        "post": operation(
            "enable a disabled account again (admins)",
            wrap("user", ref("User")),
            params=(param("username", "path", TEXT),),
        )
    },
    "/api/users/{username}": {
        "patch": operation(
            "change an account's display name and/or roles (admins; 409: her own admin role, or"
            " the last enabled admin's)",
            wrap("user", ref("User")),
            body={
                **obj(
                    display_name={"type": "string", "minLength": 1, "maxLength": 100},
                    roles={"type": "array", "minItems": 1, "items": enum_of(Role)},
                ),
                "minProperties": 1,
            },
            params=(param("username", "path", TEXT),),
            errors=(401, 403, 404, 409, 503),
        )
    },
    "/api/users/{username}/password": {
        "post": operation(
            "reset a password (admins): a temporary one, shown once; her sessions end and she"
            " must set her own at her next sign-in",
            obj(
                ("user", "temporary_password"),
                user=ref("User"),
                temporary_password={"type": "string", "minLength": 10},
            ),
            params=(param("username", "path", TEXT),),
        )
    },
    "/api/session/password": {
        "post": operation(
            "set her own password (the only call a session may make while an admin's password"
            " stands); her other sessions end",
            wrap("user", ref("User")),
            body=obj(
                ("current", "new"),
                current=TEXT,
                new={"type": "string", "minLength": 10},
            ),
            errors=(401, 403, 429, 503),
        )
    },
    "/api/events": {
        "get": operation(
            "the event log after an event id (ids and kinds; never bodies or addresses); an admin"
            " who is not also a supervisor gets the events about accounts alone, and pages on"
            " with next_after (the last event the page read, shown or not)",
            obj(
                ("events", "next_after"),
                events={"type": "array", "items": ref("Event")},
                next_after=ID,
            ),
            params=(param("after", "query", ID, required=False),),
            errors=(400, 401, 403, 503),
        )
    },
    "/api/ws": {
        "get": {
            "summary": "websocket: the new events, a frame per round (upgrade required)",
            # --- board: what a supervisor's socket is also pushed
            "description": "Every staff socket gets {type: events, events: [...]} frames; a "
            "supervisor's also gets {type: board, event_id, ...}: the body of GET /api/board, "
            "reflecting every event up to event_id, within a moment of each change.",
            "responses": {
                "101": {"description": "switching to the websocket protocol"},
                "400": {"description": "not a websocket handshake"},
                "401": {"description": ERRORS[401]},
                "403": {"description": "the Origin is not allowed, or the role"},
            },
        }
    },
    # --- desk: labels, tags, canned replies
    "/api/labels": {
        "get": operation(
            "the configured tags and triage's labels, with their words in ja and en",
            obj(
                ("tags", "labels", "max_tags", "max_tag_chars"),
                tags={"type": "array", "items": ref("Label")},
                labels={"type": "array", "items": ref("Label")},
                max_tags={"type": "integer"},
                max_tag_chars={"type": "integer"},
            ),
            errors=(401, 503),
        )
    },
    "/api/conversations/{id}/tags": {
        "put": conversation_action(
            "replace her tags (configured ones by id or word, or free); triage's labels stay",
            obj(("tags",), tags={"type": "array", "items": {"type": "string"}}),
            wrap("conversation", ref("Conversation")),
        )
    },
    "/api/canned-replies": {
        "get": operation(
            "the program's canned replies, in order",
            list_of("canned_replies", "CannedReply"),
            errors=(401, 503),
        ),
        "post": operation(
            "add a canned reply (supervisors and admins)",
            wrap("canned_reply", ref("CannedReply")),
            status=201,
            body=CANNED_DRAFT,
            errors=(401, 403, 503),
        ),
    },
    "/api/canned-replies/{id}": {
        "patch": operation(
            "change a canned reply's words or place (supervisors and admins)",
            wrap("canned_reply", ref("CannedReply")),
            body={**CANNED_DRAFT, "required": [], "minProperties": 1},
            params=(param("id", "path", ID),),
        ),
        "delete": operation(
            "delete a canned reply (supervisors and admins)",
            None,
            status=204,
            params=(param("id", "path", ID),),
        ),
    },
    # --- audit: who did what to which conversation, when (reads included)
    "/api/audit": {
        "get": operation(
            "the audit log, newest first (supervisors and admins; an admin sees no details of a"
            " conversation's event): by person, kinds, conversation and day (the program's days)",
            obj(
                ("events", "next_before"),
                events={"type": "array", "items": AUDIT_EVENT},
                next_before=nullable(ID),
            ),
            params=(*AUDIT_FILTERS, BEFORE, AUDIT_LIMIT),
            errors=(400, 401, 403, 503),
        )
    },
    "/api/audit.csv": {
        "get": csv_operation(
            "the audit log as CSV (UTF-8 with BOM, times in the program's time zone), the same"
            " filters; at most 10,000 rows, then a last line says more were left out",
            params=(
                *AUDIT_FILTERS,
                param("lang", "query", {"type": "string", "enum": ["ja", "en"]}, required=False),
            ),
            errors=(400, 401, 403, 503),
        )
    },
    OPENAPI_PATH: {"get": operation("this document", {"type": "object"}, errors=(), public=True)},
}
PATHS |= PHONE_PATHS
PATHS |= REPORT_PATHS
PATHS |= FOLLOW_UP_PATHS
PATHS |= AGENCY_PATHS  # casework: partner agencies and referrals
PATHS |= CASEWORK_PATHS


@cache
def openapi_document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tsunagu Inbox staff API", "version": "1"},
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "tsu_... API token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "tsunagu_session"},
            },
        },
        # A cookie session also needs X-Tsunagu-CSRF: 1 on state-changing requests.
        "security": [{"token": []}, {"session": []}],
    }


async def serve_openapi(_: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def add_routes(app: web.Application) -> None:
    app.router.add_get(OPENAPI_PATH, serve_openapi)
