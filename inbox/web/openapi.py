"""The JSON API as an OpenAPI 3.1 document, served at GET /api/openapi.json.

Built in code so the enums come from inbox.core.model and cannot drift from it; a test compares its
paths and methods with the app's router, and schemathesis sends what it describes to a real
server (tests/web/test_openapi.py).
"""

from __future__ import annotations

from functools import cache

from aiohttp import web

from inbox.core.model import Anonymity, ChannelKind, Presence, Role
from inbox.web.openapi_parts import (
    CHANNEL,
    CHANNEL_STATE,
    CONVERSATION_ID,
    COUNSELOR_UPDATE,
    ERRORS,
    FAILURES,
    ID,
    LIMIT,
    NOTE,
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
    nullable,
    obj,
    operation,
    param,
    ref,
    wrap,
)

OPENAPI_PATH = "/api/openapi.json"

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
    "/api/me": {"get": operation("who am I", wrap("user", ref("User")), errors=(401, 503))},
    "/api/conversations": {
        "get": operation(
            "the queue and her conversations (everything for supervisors)",
            list_of("conversations", "Conversation"),
            params=(
                param(
                    "status",
                    "query",
                    {"type": "string", "examples": ["queued,assigned,waiting"]},
                    required=False,
                ),
            ),
            errors=(400, 401, 403, 503),
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
        "post": conversation_action("close", None, wrap("conversation", ref("Conversation")))
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
            "a pseudonymous consulter's address, audited with the reason",
            obj(("reason",), reason={"type": "string", "minLength": 1, "maxLength": 500}),
            obj(("address", "channel"), address={"type": "string"}, channel=enum_of(ChannelKind)),
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
        "patch": operation(
            "her routing profile; a counselor may change only her own presence",
            wrap("counselor", ref("Counselor")),
            body=COUNSELOR_UPDATE,
            params=(USER_ID,),
            errors=(401, 403, 404, 409, 503),  # 409: not a counselor
        )
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
            "disable an account: ends her sessions, requeues her conversations",
            wrap("user", ref("User")),
            params=(param("username", "path", TEXT),),
        )
    },
    "/api/events": {
        "get": operation(
            "the event log after an event id (ids and kinds; never bodies or addresses)",
            list_of("events", "Event"),
            params=(param("after", "query", ID, required=False),),
            errors=(400, 401, 403, 503),
        )
    },
    "/api/ws": {
        "get": {
            "summary": "websocket: the new events, a frame per round (upgrade required)",
            "responses": {
                "101": {"description": "switching to the websocket protocol"},
                "400": {"description": "not a websocket handshake"},
                "401": {"description": ERRORS[401]},
                "403": {"description": "the Origin is not allowed, or the role"},
            },
        }
    },
    OPENAPI_PATH: {"get": operation("this document", {"type": "object"}, errors=(), public=True)},
}


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
