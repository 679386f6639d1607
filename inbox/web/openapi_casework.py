"""Casework's part of the OpenAPI document (inbox.web.casework): topics and age group, and
activities outside conversations."""

from __future__ import annotations

from inbox.core.activity import MAX_NOTE_CHARS, MAX_PEOPLE, MAX_PLACE_CHARS
from inbox.core.casework import ACTIVITY_KINDS, AGE_GROUPS
from inbox.web.openapi_parts import (
    CONVERSATION_ID,
    ID,
    TIME,
    Schema,
    nullable,
    obj,
    operation,
    param,
)
from inbox.web.openapi_phone import CALL_ID, DAY, LABEL, STAFF_REF

TOPICS = obj(
    ("topics",),
    topics={"type": "array", "items": {"type": "string"}, "examples": [["dv", "work"]]},
)
AGE_GROUP = {"type": "string", "enum": [a.id for a in AGE_GROUPS]}
KIND = {"type": "string", "enum": [k.id for k in ACTIVITY_KINDS]}
COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_PEOPLE}
ACTIVITY_FORM = obj(
    ("kind",),
    kind=KIND,
    day=DAY,
    place_kind={"type": "string", "maxLength": MAX_PLACE_CHARS, "examples": ["公民館"]},
    people=COUNT,
    new_people=COUNT,
    note={"type": "string", "maxLength": MAX_NOTE_CHARS},
)
ACTIVITY = obj(
    (
        "id",
        "kind",
        "day",
        "place_kind",
        "people",
        "new_people",
        "note",
        "staff",
        "editable",
        "created_at",
        "updated_at",
    ),
    id=ID,
    kind=KIND,
    day=DAY,
    place_kind={"type": "string"},
    people=COUNT,
    new_people=COUNT,
    note={"type": "string"},
    staff=nullable(STAFF_REF),
    editable={"type": "boolean"},  # hers, or she is a supervisor
    created_at=TIME,
    updated_at=TIME,
)
ACTIVITY_ID = param("id", "path", ID)
DAY_QUERY = {"type": "string", "format": "date", "examples": ["2026-04-01"]}

CASEWORK_PATHS: dict[str, dict[str, Schema]] = {
    "/api/casework": {
        "get": operation(
            "casework's words in ja and en: the configured topics ([casework] topics), the age"
            " groups and the activity kinds, in order",
            obj(
                ("topics", "age_groups", "activity_kinds", "max_place_chars"),
                topics={"type": "array", "items": LABEL},
                age_groups={"type": "array", "items": LABEL},
                activity_kinds={"type": "array", "items": LABEL},
                max_place_chars={"type": "integer"},
            ),
            errors=(401, 403, 503),
        )
    },
    "/api/conversations/{id}/topics": {
        "put": operation(
            "replace the consultation's topics (configured ids; [] clears); whoever may add"
            " notes to it. Never needed to close",
            TOPICS,
            body=TOPICS,
            params=(CONVERSATION_ID,),
        )
    },
    "/api/conversations/{id}/age-group": {
        "put": operation(
            "her age group on the conversation's contact (unknown or null clears it)",
            obj(("age_group",), age_group=AGE_GROUP),
            body=obj(("age_group",), age_group=nullable(AGE_GROUP)),
            params=(CONVERSATION_ID,),
        )
    },
    "/api/calls/{call_id}/topics": {
        "put": operation(
            "replace a call's topics (phone staff: theirs and those nobody has; supervisors)",
            TOPICS,
            body=TOPICS,
            params=(CALL_ID,),
        )
    },
    "/api/calls/{call_id}/age-group": {
        "put": operation(
            "the caller's age group on the call's contact (unknown or null clears it); as the"
            " call's topics. A withheld call has no contact: 409 withheld_call",
            obj(("age_group",), age_group=AGE_GROUP),
            body=obj(("age_group",), age_group=nullable(AGE_GROUP)),
            params=(CALL_ID,),
            errors=(401, 403, 404, 409, 503),
        )
    },
    "/api/activities": {
        "get": operation(
            "activities on days from..to (default: this fiscal year, April to March, in the"
            " program's time zone), newest first, with totals by kind",
            obj(
                ("from", "to", "fiscal_year", "activities", "truncated", "totals"),
                **{"from": DAY, "to": DAY},
                fiscal_year=obj(
                    ("year", "ja", "en"),
                    year={"type": "integer"},
                    ja={"type": "string", "examples": ["2026年度（令和8年度）"]},
                    en={"type": "string", "examples": ["FY2026 (Reiwa 8)"]},
                ),
                activities={"type": "array", "items": ACTIVITY},
                # more than the 5,000 listed (the newest): the totals still count every one
                truncated={"type": "boolean"},
                totals={
                    "type": "array",
                    "items": obj(
                        ("kind", "count", "people", "new_people"),
                        kind=KIND,
                        count={"type": "integer", "minimum": 0},
                        people={"type": "integer", "minimum": 0},
                        new_people={"type": "integer", "minimum": 0},
                    ),
                },
            ),
            params=(
                param("from", "query", DAY_QUERY, required=False),
                param("to", "query", DAY_QUERY, required=False),
            ),
            errors=(400, 401, 403, 503),
        ),
        "post": operation(
            "log an activity outside conversations (counselors, phone staff, supervisors); day"
            " defaults to today; new_people at most people; the note is for staff alone",
            obj(("activity",), activity=ACTIVITY),
            status=201,
            body=ACTIVITY_FORM,
            errors=(401, 403, 503),
        ),
    },
    "/api/activities/{id}": {
        "patch": operation(
            "change the fields given: her own, a supervisor any",
            obj(("activity",), activity=ACTIVITY),
            body={**ACTIVITY_FORM, "required": []},
            params=(ACTIVITY_ID,),
        ),
        "delete": operation(
            "delete one: her own, a supervisor any", None, status=204, params=(ACTIVITY_ID,)
        ),
    },
}
