"""The OpenAPI document's building blocks: the shared schemas and one operation's shape."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from inbox.core.model import (
    MAX_CAPACITY,
    Anonymity,
    ChannelKind,
    ClosedDays,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Presence,
    Role,
)
from inbox.web.server import INT64_MAX

Schema = dict[str, Any]

ERRORS = {
    400: "a field is malformed; `field` names it",
    401: "not signed in, or an unknown token",
    403: "the role does not allow this, or the CSRF header is missing, or she must set a new"
    " password first (password_change_required)",
    404: "no such thing, or not visible to you",
    409: "the state changed meanwhile, or the key is taken (`field` names it)",
    413: "the body or a field is over its limit",
    502: "a provider (Twilio) refused or could not be reached; `code` says which",
    429: "too many failed sign-ins for this username or address; retry after Retry-After seconds",
    503: "the database or the intake is busy; retry after Retry-After seconds",
    504: "a provider (Twilio) did not answer in time; `code` says which",
}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def enum_of(kind: type[StrEnum]) -> Schema:
    return {"type": "string", "enum": [m.value for m in kind]}


def obj(required: tuple[str, ...] = (), **props: Schema) -> Schema:
    return {"type": "object", "properties": props, "required": list(required)}


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


ID: Schema = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
TEXT: Schema = {"type": "string", "minLength": 1}
TIME: Schema = {"type": "string", "format": "date-time"}
LABELS: Schema = {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 40}}
LIMIT: Schema = {"type": "integer", "minimum": 0, "maximum": MAX_CAPACITY}
FAILURES: Schema = {"type": "array", "items": obj(("id", "error", "message"), id=ID)}

SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        ("error",),
        # field names what was wrong, even an unknown key the client sent (which may be "")
        error=obj(
            ("code", "message"),
            code=TEXT,
            message={"type": "string"},
            field={"type": "string"},
            # reply_collision: who replied after the last message the composer saw
            authors={"type": "array", "items": {"type": "string"}},
        ),
    ),
    "User": obj(
        ("id", "username", "display_name", "roles", "capacity", "disabled"),
        id=ID,
        username=TEXT,
        display_name={"type": "string"},
        roles={"type": "array", "items": enum_of(Role)},
        capacity={"type": "integer"},
        disabled={"type": "boolean"},
        must_change_password={"type": "boolean"},
    ),
    "Counselor": {
        "allOf": [
            ref("User"),
            obj(
                ("presence", "on_shift"),
                presence=enum_of(Presence),
                skills=LABELS,
                languages=LABELS,
                teams=LABELS,
                channel_capacity={"type": "object", "additionalProperties": LIMIT},
                shift=nullable(ref("Shift")),
                on_shift={"type": "boolean"},
            ),
        ]
    },
    "Shift": obj(
        timezone={"type": "string", "examples": ["Asia/Tokyo"]},
        weekly={
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "examples": [{"monday": ["09:00-17:30"]}],
        },
        exceptions={
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "examples": [{"2026-12-24": ["13:00-17:00"], "2026-12-25": []}],
        },
        # on the desk's closed days (holidays, year-end closure, closed dates) her weekly
        # windows are off ("follow", the default) or kept ("work"); an exception still wins
        closed_days=enum_of(ClosedDays)
        | {
            "default": ClosedDays.FOLLOW.value,
            "description": "follow: off on the desk's closed days; work: works them",
        },
    ),
    "Conversation": obj(
        ("id", "channel", "status", "priority", "assignee_id"),
        id=ID,
        contact_alias={"type": "string"},
        channel=enum_of(ChannelKind),
        status=enum_of(ConversationStatus),
        priority={"type": "integer"},
        # triage's urgency category (suicide_risk, immediate_danger, ...), or null
        urgency=nullable(TEXT),
        assignee_id=nullable(ID),
        assignee_name=nullable({"type": "string"}),
        tags={"type": "array", "items": {"type": "string"}},
        **{
            name: nullable(TIME)
            for name in (
                "created_at",
                "updated_at",
                "last_inbound_at",
                "first_response_due",
                "next_response_due",
                "offered_at",
                "opened_at",
                "closed_at",
            )
        },
        outcome=nullable({"type": "string"}),
        outcome_note=nullable({"type": "string"}),
        # opening one (GET /api/conversations/{id}): she wrote before, and who helped her last
        returning={"type": "boolean"},
        last_helped_by=nullable({"type": "string"}),
        consulter_read_message_id=nullable(ID),
        # opening one: an SMS consulter who texted STOP; no reply can be sent
        opted_out={"type": "boolean"},
        # the queue and opening one: a follow-up's task (近況確認), or null
        follow_up=nullable(
            obj(
                ("id", "due_on"),
                id=ID,
                due_on={"type": "string", "format": "date"},
                counselor_id=nullable(ID),
            )
        ),
        # opening one: casework's topics (configured ids) and her age group ("unknown": not told)
        topics={"type": "array", "items": {"type": "string"}},
        age_group={"type": "string"},
    ),
    # A conversation as a line of a consulter's timeline or of search results.
    "ConversationSummary": {
        "allOf": [
            ref("Conversation"),
            obj(
                ("handled_by", "handled_by_name", "message_count"),
                handled_by=nullable(ID),
                handled_by_name=nullable({"type": "string"}),
                message_count={"type": "integer", "minimum": 0},
                current={"type": "boolean"},  # the timeline's: the one it was opened from
                message_id=nullable(ID),  # search's: the newest message with the text
                snippet=nullable({"type": "string"}),
                # the timeline's, on a phone conversation: its calls, without their notes
                calls={"type": "array", "items": {"type": "object"}},
            ),
        ]
    },
    "Message": obj(
        ("id", "conversation_id", "direction", "body", "created_at"),
        id=ID,
        conversation_id=ID,
        direction=enum_of(Direction),
        body={"type": "string"},
        author_id=nullable(ID),
        author_name=nullable({"type": "string"}),
        created_at=TIME,
        delivery_status=nullable(enum_of(DeliveryStatus)),
        failure_reason=nullable({"type": "string"}),  # a failed reply: why, never an address
        attachments={"type": "array", "items": {"type": "object"}},
    ),
    "Event": obj(
        ("id", "kind", "at"),
        id=ID,
        kind=TEXT,
        at=TIME,
        actor_id=nullable(ID),
        conversation_id=nullable(ID),
        message_id=nullable(ID),
        # conversation_assigned / conversation_requeued: whose it was and whose it became
        from_user_id=nullable(ID),
        to_user_id=nullable(ID),
        data={"type": "object"},
        # supervisors_alerted: the urgency category or rule; counselor_updated: why presence
        # changed (reconnected, disconnected)
        reason=TEXT,
    ),
    "Contact": obj(
        ("alias", "anonymity", "discretion"),
        alias={"type": "string"},
        anonymity=enum_of(Anonymity),
        anonymity_source={"type": "string", "enum": ["contact", "channel"]},
        discretion={"type": "boolean"},
        address=nullable({"type": "string"}),
        revealable={"type": "boolean"},
    ),
}


def param(name: str, where: str, schema: Schema, *, required: bool = True) -> Schema:
    return {"name": name, "in": where, "required": required, "schema": schema}


CONVERSATION_ID = param("id", "path", ID)
BEFORE = param(
    "before", "query", ID, required=False
)  # a page's cursor: the last page's next_before
PAGE_LIMIT = param(
    "limit", "query", {"type": "integer", "minimum": 1, "maximum": 100}, required=False
)


def query_text(name: str, description: str, example: str) -> Schema:
    schema = {"type": "string", "maxLength": 200, "examples": [example]}
    return param(name, "query", schema, required=False) | {"description": description}


USER_ID = param("id", "path", ID)


def operation(
    summary: str,
    ok: Schema | None,
    *,
    status: int = 200,
    body: Schema | None = None,
    params: tuple[Schema, ...] = (),
    errors: tuple[int, ...] = (401, 403, 404, 503),
    public: bool = False,
) -> Schema:
    """One operation; `ok` None means an answer without a body. A body brings 400 and 413."""
    success: Schema = {"description": "done"}
    if ok is not None:
        success["content"] = {"application/json": {"schema": ok}}
    responses: dict[str, Schema] = {str(status): success}
    codes = set(errors) | ({400, 413} if body is not None else set())
    for code in sorted(codes):
        responses[str(code)] = {
            "description": ERRORS[code],
            "content": {"application/json": {"schema": ref("Error")}},
        }
    op: Schema = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if public:
        op["security"] = []
    return op


def not_modified(op: Schema) -> Schema:
    """An operation answered with an ETag, and 304 (no body) to an If-None-Match that names it."""
    op["responses"]["304"] = {"description": "not modified: the page her If-None-Match names"}
    return op


def wrap(name: str, schema: Schema) -> Schema:
    return obj((name,), **{name: schema})


def list_of(name: str, item: str) -> Schema:
    return wrap(name, {"type": "array", "items": ref(item)})


def conversation_action(summary: str, body: Schema | None, ok: Schema, status: int = 200) -> Schema:
    return operation(
        summary, ok, status=status, body=body, params=(CONVERSATION_ID,),
        errors=(401, 403, 404, 409, 503),
    )  # fmt: skip


TEXT_BODY = obj(("body",), body=TEXT)
REPLY_BODY = obj(
    ("body",),
    body=TEXT,
    # no double replies: the last message she saw; another's later reply answers 409
    # reply_collision with the authors' names, and force: true sends all the same
    last_seen_message_id=ID,
    force={"type": "boolean"},
)
CHANNEL = param("channel", "path", enum_of(ChannelKind))
CHANNEL_STATE = obj(("channel", "paused"), channel=enum_of(ChannelKind), paused={"type": "boolean"})
NOTE: Schema = nullable({"type": "string", "maxLength": 2000})
COUNSELOR_UPDATE = {
    **obj(
        presence=enum_of(Presence),
        capacity=LIMIT,
        channel_capacity={"type": "object", "additionalProperties": LIMIT},
        skills=LABELS,
        languages=LABELS,
        teams=LABELS,
        shift=nullable(ref("Shift")),
    ),
    "minProperties": 1,
    "additionalProperties": False,
}

# --- desk: labels, load, canned replies
SCHEMAS["Label"] = obj(("id", "ja", "en"), id=TEXT, ja=TEXT, en=TEXT)
SCHEMAS["Load"] = obj(
    ("open", "capacity", "by_channel", "channel_capacity"),
    open={"type": "integer", "minimum": 0},
    capacity=LIMIT,
    by_channel={"type": "object", "additionalProperties": {"type": "integer"}},
    channel_capacity={"type": "object", "additionalProperties": LIMIT},
)
_CANNED_TEXTS: dict[str, Schema] = {
    "title_ja": {"type": "string", "maxLength": 100},
    "title_en": {"type": "string", "maxLength": 100},
    "body_ja": {"type": "string", "maxLength": 4000},
    "body_en": {"type": "string", "maxLength": 4000},
}
_POSITION: Schema = {"type": "integer", "minimum": -1_000_000, "maximum": 1_000_000}
SCHEMAS["CannedReply"] = obj(
    ("id", *_CANNED_TEXTS, "position", "updated_by", "updated_at"),
    id=ID,
    **_CANNED_TEXTS,
    position=_POSITION,
    updated_by=nullable(ID),
    updated_by_name=nullable({"type": "string"}),
    updated_at=TIME,
)
CANNED_DRAFT: Schema = {
    **obj((), **_CANNED_TEXTS, position=nullable(_POSITION)),
    "additionalProperties": False,
}
