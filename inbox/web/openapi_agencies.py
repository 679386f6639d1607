"""Partner agencies and referrals in the OpenAPI document (inbox.web.agencies)."""

from __future__ import annotations

from inbox.core.agencies import (
    MAX_AGENCY_NOTE_CHARS,
    MAX_AREA_CHARS,
    MAX_CONTACT_CHARS,
    MAX_NAME_CHARS,
    MAX_REFERRAL_NOTE_CHARS,
)
from inbox.core.casework import AGENCY_KINDS, REFERRAL_KINDS
from inbox.web.openapi_parts import (
    CONVERSATION_ID,
    ID,
    TEXT,
    TIME,
    Schema,
    nullable,
    obj,
    operation,
    param,
    wrap,
)
from inbox.web.openapi_phone import DAY, LABEL, STAFF_REF

AGENCY_KIND: Schema = {"type": "string", "enum": [k.id for k in AGENCY_KINDS]}
REFERRAL_KIND: Schema = {"type": "string", "enum": [k.id for k in REFERRAL_KINDS]}
AGENCY = obj(
    ("id", "name", "kind", "area", "contact", "note", "archived", "updated_at"),
    id=ID,
    name=TEXT,
    kind=AGENCY_KIND,
    area={"type": "string"},
    contact={"type": "string"},
    note={"type": "string"},
    archived={"type": "boolean"},
    updated_at=TIME,
)
_DRAFT_FIELDS: dict[str, Schema] = {
    "name": {"type": "string", "maxLength": MAX_NAME_CHARS, "examples": ["中央警察署"]},
    # an id, or its word in Japanese or English
    "kind": {"type": "string", "maxLength": 100, "examples": ["police", "警察"]},
    "area": {"type": "string", "maxLength": MAX_AREA_CHARS, "examples": ["中央区"]},
    "contact": {"type": "string", "maxLength": MAX_CONTACT_CHARS},
    "note": {"type": "string", "maxLength": MAX_AGENCY_NOTE_CHARS},
}
AGENCY_DRAFT = obj(("name", "kind"), **_DRAFT_FIELDS)
AGENCY_CHANGE = {
    **obj((), **_DRAFT_FIELDS, archived={"type": "boolean"}),
    "minProperties": 1,
}
IMPORT = obj(
    ("applied", "added", "updated", "unchanged", "rows"),
    applied={"type": "boolean"},  # false: a preview, nothing written
    added={"type": "integer", "minimum": 0},
    updated={"type": "integer", "minimum": 0},
    unchanged={"type": "integer", "minimum": 0},
    rows={
        "type": "array",
        "items": obj(
            ("row", "action", "agency_id", "archived", "name", "kind", "area"),
            row={"type": "integer", "minimum": 2},
            action={"type": "string", "enum": ["add", "update", "same"]},
            agency_id=nullable(ID),
            archived={"type": "boolean"},
            name=TEXT,
            kind=AGENCY_KIND,
            area={"type": "string"},
        ),
    },
)
REFERRAL = obj(
    ("id", "conversation", "call", "agency", "kind", "on_day", "note", "staff", "created_at"),
    id=ID,
    conversation=nullable(ID),
    call=nullable(ID),
    agency=obj(("id", "name", "kind"), id=ID, name=TEXT, kind=AGENCY_KIND),
    kind=REFERRAL_KIND,
    on_day=DAY,
    note={"type": "string"},
    staff=nullable(STAFF_REF),
    created_at=TIME,
)
NEW_REFERRAL = obj(
    ("agency_id", "kind"),
    agency_id={**ID, "minimum": 1},
    kind=REFERRAL_KIND,
    on_day={
        **DAY,
        "description": "a day of the program's calendar, not after today; absent: today",
    },
    note={"type": "string", "maxLength": MAX_REFERRAL_NOTE_CHARS},
)
REFERRALS = wrap("referrals", {"type": "array", "items": REFERRAL})
CALL_ID = param("call_id", "path", ID)
_WRITE_ERRORS = (401, 403, 404, 409, 503)


def _import_operation() -> Schema:
    op = operation(
        "import agencies from a CSV (supervisors and admins): UTF-8 with or without BOM, a header"
        " of 名称/name, 種別/kind, 地域/area, 連絡先/contact, 備考/note; each row upserted on"
        " (name, area) in one transaction. A bad row: 400 with field csv and row, column,"
        " problem; nothing imported. ?preview=1: what it would do, nothing written (200)",
        wrap("import", IMPORT),
        status=201,
        params=(param("preview", "query", {"type": "string", "enum": ["1", "0"]}, required=False),),
        errors=(400, 401, 403, 409, 413, 503),
    )
    op["responses"]["200"] = {
        "description": "a preview",
        "content": {"application/json": {"schema": wrap("import", IMPORT)}},
    }
    op["requestBody"] = {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {
                    "type": "string",
                    "examples": ["名称,種別,地域\n中央警察署,警察,中央区\n"],
                }
            }
        },
    }
    return op


AGENCY_PATHS: dict[str, dict[str, Schema]] = {
    "/api/agencies": {
        "get": operation(
            "the directory of partner agencies (any staff; active ones unless archived=1 or"
            " all), by kind, area and name, with the words of the agency kinds and of the kinds"
            " of help a referral is",
            obj(
                ("agencies", "kinds", "referral_kinds"),
                agencies={"type": "array", "items": AGENCY},
                kinds={"type": "array", "items": LABEL},
                referral_kinds={"type": "array", "items": LABEL},
            ),
            params=(
                param(
                    "archived",
                    "query",
                    {"type": "string", "enum": ["0", "1", "all"]},
                    required=False,
                ),
                param("kind", "query", {"type": "string", "maxLength": 100}, required=False),
                param("area", "query", {"type": "string", "maxLength": 100}, required=False),
            ),
            errors=(400, 401, 403, 503),
        ),
        "post": operation(
            "add an agency (supervisors and admins); 409 on field name when one of the same"
            " name and area exists",
            wrap("agency", AGENCY),
            status=201,
            body=AGENCY_DRAFT,
            errors=(401, 403, 409, 503),
        ),
    },
    "/api/agencies/{id}": {
        "patch": operation(
            "change an agency's fields, or archive or restore it (supervisors and admins)",
            wrap("agency", AGENCY),
            body=AGENCY_CHANGE,
            params=(param("id", "path", ID),),
            errors=_WRITE_ERRORS,
        )
    },
    "/api/agencies/import": {"post": _import_operation()},
    "/api/conversations/{id}/referrals": {
        "get": operation(
            "the conversation's referrals (its calls' too), by day",
            REFERRALS,
            params=(CONVERSATION_ID,),
        ),
        "post": operation(
            "record a referral on the conversation (whoever may add notes to it); 409 when the"
            " agency is archived",
            wrap("referral", REFERRAL),
            status=201,
            body=NEW_REFERRAL,
            params=(CONVERSATION_ID,),
            errors=_WRITE_ERRORS,
        ),
    },
    "/api/calls/{call_id}/referrals": {
        "get": operation(
            "the call's referrals (phone staff: their calls and those nobody has; supervisors)",
            REFERRALS,
            params=(CALL_ID,),
        ),
        "post": operation(
            "record a referral on the call (and its conversation, if any); 409 when the agency"
            " is archived",
            wrap("referral", REFERRAL),
            status=201,
            body=NEW_REFERRAL,
            params=(CALL_ID,),
            errors=_WRITE_ERRORS,
        ),
    },
    "/api/referrals/{id}": {
        "delete": operation(
            "delete a referral recorded by mistake (who recorded it, or a supervisor)",
            None,
            status=204,
            params=(param("id", "path", ID),),
        )
    },
}
