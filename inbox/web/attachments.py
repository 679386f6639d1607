"""Downloading a message's attachment: the stored bytes, to whoever may read the conversation.

What a consulter attached is served only as a download: never rendered on our origin (an HTML
or SVG file could run script there), never cached, never sniffed into another type.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from inbox.core.model import MessageId
from inbox.web.access import require
from inbox.web.api import ATTACHMENT_ROUTE, CONVERSATION_ROLES, visible_conversation
from inbox.web.server import SERVICES, path_id

routes = web.RouteTableDef()
# type/subtype as RFC 2045 tokens; anything else (it came from a stranger's mail) is served as
# opaque bytes, and could not be a header value anyway.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
_NOT_PLAIN = re.compile(r'[^\x20-\x7e]|["\\/]')  # what the ASCII fallback name cannot hold
_FALLBACK_NAME = "attachment"


def content_disposition(filename: str) -> str:
    """`attachment` with the name twice: an ASCII approximation in filename= for old clients,
    the exact (e.g. Japanese) name in RFC 5987 filename*=UTF-8'' that browsers prefer."""
    name = filename.strip() or _FALLBACK_NAME
    plain = _NOT_PLAIN.sub("_", name)
    exact = quote(name, safe="")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}"


def media_type(content_type: str) -> str:
    return content_type if _MEDIA_TYPE.fullmatch(content_type) else "application/octet-stream"


@routes.get(ATTACHMENT_ROUTE)
async def download(request: web.Request) -> web.Response:
    await require(request, *CONVERSATION_ROLES)  # 403 before anything is looked up
    store = request.app[SERVICES].store
    message = await store.get_message(MessageId(path_id(request, "message_id")))
    user, _ = await visible_conversation(request, message.conversation_id)  # 404 if not hers
    position = path_id(request, "position")
    attachment, content = await store.attachment(message.id, position)
    # Audited before the bytes leave, like a revealed address: what a consulter sent may be a
    # photo of an injury or an ID card. The name stays out of the log; the position finds it.
    await request.app[SERVICES].commands.conversations.record_download(
        message.conversation_id, message.id, position, actor=user.id
    )
    return web.Response(
        body=content,
        headers={
            "Content-Type": media_type(attachment.content_type),
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Referrer-Policy": "no-referrer",
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
