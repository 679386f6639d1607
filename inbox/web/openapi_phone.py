"""The phone desk's part of the OpenAPI document (inbox.web.calls): its paths and the shapes of
a call and a callback. Never a number: no answer holds one."""

from __future__ import annotations

from inbox.core.model import ConversationStatus
from inbox.core.phone import MAX_CALL_DURATION_S, MAX_CALL_NOTE_CHARS, CallDirection
from inbox.web.openapi_parts import (
    CONVERSATION_ID,
    ID,
    TEXT,
    TIME,
    Schema,
    enum_of,
    nullable,
    obj,
    operation,
    param,
    wrap,
)

STAFF_REF = obj(("id", "name"), id=ID, name=nullable({"type": "string"}))
DAY: Schema = {"type": "string", "format": "date", "examples": ["2026-12-01"]}
NOTE_TEXT: Schema = {"type": "string", "maxLength": MAX_CALL_NOTE_CHARS}
CALL = obj(
    (
        "id",
        "direction",
        "started_at",
        "duration_s",
        "withheld",
        "outcome",
        "referrals",
        "follow_up",
        "conversation",
        "contact_alias",
        "staff",
        "call_sid",
    ),
    id=ID,
    direction=enum_of(CallDirection),
    started_at=TIME,
    duration_s=nullable({"type": "integer", "minimum": 0}),
    withheld={"type": "boolean"},
    outcome=nullable({"type": "string"}),
    # case text: in /api/calls and a conversation's own read, not in the timeline's summary
    note={"type": "string"},
    referrals={"type": "array", "items": {"type": "string"}},
    follow_up=nullable(DAY),
    conversation=nullable(ID),
    contact_alias=nullable({"type": "string"}),
    staff=nullable(STAFF_REF),
    call_sid={"type": "boolean"},  # logged by Twilio Voice
)
CALLBACK_DECISION = nullable(
    obj(
        ("status",),
        status={"type": "string", "enum": ["retry", "closed"]},
        at=TIME,
        reason={"type": "string", "enum": ["reached", "tries_used", "no_window"]},
        outcome=nullable({"type": "string"}),
    )
)
WINDOW: Schema = {
    "type": "object",
    "examples": [{"weekdays": ["12:00-13:00"]}],
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
CALLBACK = obj(
    (
        "conversation",
        "contact_alias",
        "status",
        "assignee",
        "tries",
        "due_at",
        "window",
        "callable_now",
        "next_allowed",
        "discretion",
        "waiting_since",
    ),
    conversation=ID,
    contact_alias={"type": "string"},
    status=enum_of(ConversationStatus),
    assignee=nullable(STAFF_REF),
    tries={"type": "integer", "minimum": 0},
    due_at=nullable(TIME),
    window=nullable(WINDOW),
    callable_now={"type": "boolean"},
    next_allowed=nullable(TIME),
    discretion={"type": "boolean"},
    waiting_since=TIME,
)
LABEL = obj(("id", "ja", "en"), id=TEXT, ja=TEXT, en=TEXT)
NEW_CALL = obj(
    ("direction", "started_at", "duration_s", "outcome"),
    direction=enum_of(CallDirection),
    started_at={**TIME, "examples": ["2026-12-01T10:30:00+09:00"]},
    duration_s={"type": "integer", "minimum": 0, "maximum": MAX_CALL_DURATION_S},
    number=nullable({"type": "string", "maxLength": 64, "examples": ["090-1234-5678"]}),
    withheld={"type": "boolean"},
    outcome={"type": "string", "examples": ["no_answer"]},
    note=NOTE_TEXT,
    referrals={"type": "array", "items": {"type": "string"}, "examples": [["police"]]},
    follow_up=nullable(DAY),
    conversation=nullable(ID),
)
CALL_LIMIT = param(
    "limit", "query", {"type": "integer", "minimum": 1, "maximum": 100}, required=False
)

PHONE_PATHS: dict[str, dict[str, Schema]] = {
    "/api/phone/settings": {
        "get": operation(
            "the phone desk's call outcomes and referrals (ja/en), and whether Twilio Voice"
            " can connect calls",
            obj(
                ("outcomes", "referrals", "voice", "desk_phones"),
                outcomes={
                    "type": "array",
                    "items": obj(
                        ("id", "ja", "en", "reached"),
                        id=TEXT,
                        ja=TEXT,
                        en=TEXT,
                        reached={"type": "boolean"},
                    ),
                },
                referrals={"type": "array", "items": LABEL},
                voice={"type": "boolean"},
                desk_phones={
                    "type": "array",
                    "items": obj(
                        ("id", "label", "number"),
                        id={"type": "integer", "minimum": 0},
                        label=TEXT,
                        number={"type": "string", "examples": ["\u20222222"]},
                    ),
                },
            ),
            errors=(401, 403, 503),
        )
    },
    "/api/calls": {
        "post": operation(
            "log a call by hand (phone staff, supervisors); on a callback, its next try or end"
            " (a follow_up date: a retry not before that morning; ended: a new callback due"
            " then). 409 callback_taken: the callback is assigned to someone else (phone staff"
            " work their own or a queued one, which they then take; supervisors any)",
            obj(("call", "callback"), call=CALL, callback=CALLBACK_DECISION),
            status=201,
            body=NEW_CALL,
            errors=(401, 403, 404, 409, 503),
        ),
        "get": operation(
            "her recent calls, newest first (a supervisor's without mine=1: everyone's)",
            wrap("calls", {"type": "array", "items": CALL}),
            params=(
                param("mine", "query", {"type": "string", "enum": ["1", "0"]}, required=False),
                CALL_LIMIT,
            ),
            errors=(400, 401, 403, 503),
        ),
    },
    "/api/callbacks": {
        "get": operation(
            "open callbacks, who may be called now first (phone staff: the queue's and hers;"
            " supervisors: all)",
            wrap("callbacks", {"type": "array", "items": CALLBACK}),
            errors=(401, 403, 503),
        )
    },
    "/api/conversations/{id}/callback": {
        "post": operation(
            "ask for a callback to her number, in the window she allows (null: keep the one she"
            " gave before, or any time the desk's phone hours allow); opens a phone conversation"
            " on her contact. 409 number_of_other_consulter when the number is another"
            " consulter's (nothing is changed; a supervisor links them first); 400 on window"
            " when it never meets the desk's phone hours within 14 days",
            obj(("conversation", "created"), conversation=ID, created={"type": "boolean"}),
            status=201,
            body=obj(
                ("number",),
                number={"type": "string", "maxLength": 64, "examples": ["090-1234-5678"]},
                window=nullable(WINDOW),
                note=NOTE_TEXT,
            ),
            params=(CONVERSATION_ID,),
            errors=(401, 403, 404, 409, 503),
        )
    },
}

# --- Twilio Voice (inbox.web.voice_hooks): click-to-call, and a call polled until it ended
LIVE_CALL = {
    **CALL,
    "required": [*CALL["required"], "status", "ended"],
    "properties": {
        **CALL["properties"],
        "status": nullable({"type": "string", "examples": ["ringing", "answered", "missed"]}),
        "ended": {"type": "boolean"},
    },
}
CALL_ID = param("call_id", "path", ID)
OUTCOME_FORM = obj(
    ("outcome",),
    outcome={"type": "string", "examples": ["reached"]},
    note=NOTE_TEXT,
    referrals={"type": "array", "items": {"type": "string"}, "examples": [["police"]]},
    follow_up=nullable(DAY),
)
PHONE_PATHS |= {
    "/api/calls/{call_id}": {
        "get": operation(
            "one call with Twilio's state: poll until `ended`, then give its outcome (phone"
            " staff: theirs and those nobody has; supervisors: all)",
            wrap("call", LIVE_CALL),
            params=(CALL_ID,),
            errors=(400, 401, 403, 404, 503),
        ),
        "patch": operation(
            "the outcome form for a call Twilio logged; on her callback its next try or end"
            " (409 when it has an outcome already)",
            obj(("call", "callback"), call=LIVE_CALL, callback=CALLBACK_DECISION),
            body=OUTCOME_FORM,
            params=(CALL_ID,),
            errors=(401, 403, 404, 409, 503),
        ),
    },
    "/api/conversations/{id}/dial": {
        "post": operation(
            "click-to-call: Twilio rings one of the desk's own phones (staff_number: an id of"
            " GET /api/phone/settings desk_phones; any other number is refused, 400), and once"
            " staff press 1 connects her with the program's number as caller ID; her number is"
            " never shown. 409: voice_not_configured, no_phone_number, outside_call_window;"
            " 502: call_failed; 504: call_timeout",
            wrap("call", ID),
            status=201,
            body=obj(
                ("staff_number",),
                staff_number={"type": "integer", "minimum": 0, "examples": [0]},
            ),
            params=(CONVERSATION_ID,),
            errors=(400, 401, 403, 404, 409, 502, 503, 504),
        )
    },
}
