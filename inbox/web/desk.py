"""The counselor's desk: the words of every tag and label, a conversation's tags, and the
program's canned replies (any staff reads them; supervisors and admins change them)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inbox.core.errors import TooLarge, ValidationError
from inbox.core.labels import Label
from inbox.core.model import CannedReply, CannedReplyDraft, CannedReplyId, Role
from inbox.web.access import check_can_note, current_user, require
from inbox.web.api import (
    Names,
    conversation_json,
    staff_names,
    urgency_categories,
    visible_conversation,
)
from inbox.web.server import SERVICES, json_body, path_id

routes = web.RouteTableDef()
EDITORS = (Role.SUPERVISOR, Role.ADMIN)  # who may change canned replies
MAX_TITLE_CHARS = 100
MAX_BODY_CHARS = 4000
TEXT_FIELDS = ("title_ja", "title_en", "body_ja", "body_en")
DRAFT_FIELDS = frozenset({*TEXT_FIELDS, "position"})
MAX_POSITION = 1_000_000


def label_json(label: Label) -> dict[str, str]:
    return {"id": label.id, "ja": label.ja, "en": label.en}


@routes.get("/api/labels")
async def labels(request: web.Request) -> web.Response:
    """The configured tags and the labels triage writes, each with its words in Japanese and
    English, so that no screen shows a raw id; and the limits of a conversation's tags."""
    await current_user(request)
    book = request.app[SERVICES].settings.tags
    return web.json_response(
        {
            "tags": [label_json(t) for t in book.tags],
            "labels": [label_json(t) for t in book.labels],
            "max_tags": book.max_tags,
            "max_tag_chars": book.max_tag_chars,
        }
    )


@routes.put("/api/conversations/{id}/tags")
async def set_tags(request: web.Request) -> web.Response:
    """Replace her tags: configured ones by id or by either word, free ones as written
    (cleaned); triage's labels stay. Whoever may add notes may tag."""
    user, conv = await visible_conversation(request)
    check_can_note(user, conv)
    services = request.app[SERVICES]
    book = services.settings.tags
    data = await json_body(request)
    tags = book.normalize(data.get("tags"))
    keep = {label.id for label in book.labels}
    named = keep | {label.id for label in book.tags}  # configured: said by id in the event
    updated = await services.commands.conversations.set_tags(
        conv.id, tags, keep=keep, named=named, actor=user.id
    )
    names = await staff_names(services)
    shown = conversation_json(updated, names, categories=urgency_categories(request))
    return web.json_response({"conversation": shown})


# ---- canned replies ---------------------------------------------------------------------------
def canned_json(reply: CannedReply, names: Names) -> dict[str, Any]:
    d = reply.draft
    return {
        "id": reply.id,
        "title_ja": d.title_ja,
        "title_en": d.title_en,
        "body_ja": d.body_ja,
        "body_en": d.body_en,
        "position": d.position,
        "updated_by": reply.updated_by,
        "updated_by_name": None if reply.updated_by is None else names.get(reply.updated_by),
        "updated_at": reply.updated_at.isoformat(),
    }


def _text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError("a string (empty for none)", field=name)
    value = value.strip()
    if len(value) > limit:
        raise TooLarge(f"at most {limit} characters, got {len(value)}", field=name)
    return value


def parse_draft(data: dict[str, Any], base: CannedReplyDraft | None = None) -> CannedReplyDraft:
    """A whole draft (POST), or `base` with the fields given (PATCH). A title and a body are
    each needed in at least one language; each field named in its error."""
    unknown = sorted(set(data) - DRAFT_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(DRAFT_FIELDS))
        raise ValidationError(f"unknown field; allowed: {allowed}", field=unknown[0])
    base = base or CannedReplyDraft()
    texts = {
        name: (
            _text(data, name, MAX_TITLE_CHARS if name.startswith("title") else MAX_BODY_CHARS)
            if name in data
            else getattr(base, name)
        )
        for name in TEXT_FIELDS
    }
    position = data.get("position")
    if position is not None and (
        not isinstance(position, int)
        or isinstance(position, bool)
        or not -MAX_POSITION <= position <= MAX_POSITION
    ):
        raise ValidationError(
            f"an integer from {-MAX_POSITION} to {MAX_POSITION}, or null", field="position"
        )
    if not texts["title_ja"] and not texts["title_en"]:
        raise ValidationError("a title in Japanese or in English is required", field="title_ja")
    if not texts["body_ja"] and not texts["body_en"]:
        raise ValidationError("a text in Japanese or in English is required", field="body_ja")
    return CannedReplyDraft(**texts, position=position)


@routes.get("/api/canned-replies")
async def list_canned(request: web.Request) -> web.Response:
    await current_user(request)
    store = request.app[SERVICES].store
    replies = await store.list_canned_replies()
    names = await staff_names(request.app[SERVICES])
    return web.json_response({"canned_replies": [canned_json(r, names) for r in replies]})


@routes.post("/api/canned-replies")
async def create_canned(request: web.Request) -> web.Response:
    user = await require(request, *EDITORS)
    services = request.app[SERVICES]
    draft = parse_draft(await json_body(request))
    made = await services.commands.canned.create(draft, actor=user.id)
    return web.json_response(
        {"canned_reply": canned_json(made, {user.id: user.display_name})}, status=201
    )


@routes.patch("/api/canned-replies/{id}")
async def update_canned(request: web.Request) -> web.Response:
    user = await require(request, *EDITORS)
    services = request.app[SERVICES]
    reply_id = CannedReplyId(path_id(request))
    data = await json_body(request)
    if not data:
        raise ValidationError("nothing to change", field="body")
    current = await services.store.get_canned_reply(reply_id)
    draft = parse_draft(data, current.draft)  # without a position, it keeps its place
    updated = await services.commands.canned.update(reply_id, draft, actor=user.id)
    return web.json_response({"canned_reply": canned_json(updated, {user.id: user.display_name})})


@routes.delete("/api/canned-replies/{id}")
async def delete_canned(request: web.Request) -> web.Response:
    user = await require(request, *EDITORS)
    reply_id = CannedReplyId(path_id(request))
    await request.app[SERVICES].commands.canned.delete(reply_id, actor=user.id)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
