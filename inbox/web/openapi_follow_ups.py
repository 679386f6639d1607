"""Follow-ups' (近況確認) part of the OpenAPI document (inbox.web.follow_ups)."""

from __future__ import annotations

from inbox.core.casework import FOLLOW_UP_OUTCOMES
from inbox.core.follow_ups import MAX_FOLLOW_UP_NOTE_CHARS, FollowUpStatus
from inbox.core.model import ChannelKind
from inbox.web.openapi_parts import (
    CONVERSATION_ID,
    ID,
    TIME,
    Schema,
    enum_of,
    nullable,
    obj,
    operation,
    param,
    wrap,
)

DAY: Schema = {"type": "string", "format": "date", "examples": ["2026-12-14"]}
PERSON = obj(("id", "name"), id=ID, name=nullable({"type": "string"}))
OUTCOME: Schema = {"type": "string", "enum": [o.id for o in FOLLOW_UP_OUTCOMES]}
FOLLOW_UP = obj(
    ("id", "due_on", "status", "note", "channel", "counselor", "conversation"),
    id=ID,
    due_on=DAY,
    status=enum_of(FollowUpStatus),
    note={"type": "string"},  # staff's, never sent to her
    channel=enum_of(ChannelKind),
    identity=ID,
    counselor=nullable(PERSON),
    conversation=nullable(ID),  # its task in the queue, once due
    from_conversation=nullable(ID),
    created_at=TIME,
    created_by=nullable(PERSON),
    resolved_at=nullable(TIME),
    resolved_by=nullable(PERSON),
)
FOLLOW_UP_ID = param("id", "path", ID)
ONE = wrap("follow_up", FOLLOW_UP)

FOLLOW_UP_PATHS: dict[str, Schema] = {
    "/api/conversations/{id}/follow-ups": {
        "get": operation(
            "her follow-ups (this conversation's consulter's), latest day first; the identities"
            " one may be written to (id and channel, never the address), the form's default day"
            " (a week ahead in the program's zone) and the outcomes' words. Counselors and"
            " supervisors who may read the conversation",
            obj(
                ("follow_ups", "identities", "default_due_on", "today", "outcomes"),
                follow_ups={"type": "array", "items": FOLLOW_UP},
                identities={
                    "type": "array",
                    "items": obj(("id", "channel"), id=ID, channel=enum_of(ChannelKind)),
                },
                default_due_on=DAY,
                today=DAY,
                outcomes={
                    "type": "array",
                    "items": obj(("id", "ja", "en"), id=OUTCOME),
                },
            ),
            params=(CONVERSATION_ID,),
        ),
        "post": operation(
            "set a follow-up (近況確認) on her: on due_on (today to a year ahead, in the program's"
            " zone, within the desk's hours for her channel) a task enters the queue, offered"
            " first to the one who set it; written to on this conversation's identity, or on"
            " `identity` (one of hers). The assignee or a supervisor",
            ONE,
            status=201,
            body=obj(
                ("due_on",),
                due_on=DAY,
                note={"type": "string", "maxLength": MAX_FOLLOW_UP_NOTE_CHARS},
                identity=nullable(ID),
            ),
            params=(CONVERSATION_ID,),
        ),
    },
    "/api/follow-ups/{id}/cancel": {
        "post": operation(
            "cancel a follow-up before its day (409 once due or over): its counselor, who set"
            " it, or a supervisor",
            ONE,
            params=(FOLLOW_UP_ID,),
            errors=(401, 403, 404, 409, 503),
        )
    },
    "/api/follow-ups/{id}/resolve": {
        "post": operation(
            "record a follow-up's outcome: done, skipped or unreachable (409 once over): its"
            " counselor, who set it, the assignee of its task, or a supervisor",
            ONE,
            body=obj(("outcome",), outcome=OUTCOME),
            params=(FOLLOW_UP_ID,),
            errors=(401, 403, 404, 409, 503),
        )
    },
}
