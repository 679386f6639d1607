"""The aiohttp application: every route registered, health, readiness and the pages.

The route modules take what they share (SERVICES, ApiError, request parsing) from
inbox.web.server and this module imports them all, so the imports point one way.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

from aiohttp import web

from inbox.core.errors import StorageError
from inbox.web import (
    accounts,
    agencies,
    api,
    attachments,
    audit,
    audit_csv,
    board_live,
    calls,
    casework,
    contact,
    context,
    desk,
    follow_ups,
    line_hooks,
    openapi,
    overview,
    report,
    sms_hooks,
    sockets,
    supervision,
    survey_form,
    voice_hooks,
)
from inbox.web.queue_page import QUEUE_PAGES, ROW_JSON, SHARED_PARTS, QueuePages, RowJson
from inbox.web.server import SERVICES, Handler, Services, error_middleware

STATIC_DIR = Path(str(resources.files("inbox") / "web" / "static"))
# the staff pages besides the console (lib/staff_page.js)
STAFF_PAGES = ("phone", "board", "audit", "report", "agencies", "activities", "accounts")
READY_TIMEOUT_S = 2.0  # a database that does not answer a ping within this is not "ready"


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """503 while the database is unreachable, and until every background worker has resumed
    after it came back (they retry with backoff, so that can take a few seconds)."""
    services = request.app[SERVICES]
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await services.store.ping()
    except (StorageError, TimeoutError):
        return web.json_response({"status": "database unreachable"}, status=503)
    if waiting := services.outages.waiting:
        return web.json_response({"status": "recovering", "workers": waiting}, status=503)
    return web.json_response({"status": "ready"})


def _page(name: str) -> Handler:
    async def serve_page(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / name, headers=_PAGE_HEADERS)

    return serve_page


# The pages hold counseling conversations: no caching, no framing, no referrer, nothing external.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def build_app(services: Services) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware], client_max_size=services.settings.max_body_bytes
    )
    app[SERVICES] = services
    app[ROW_JSON] = RowJson()
    if services.news is not None:
        app[QUEUE_PAGES] = QueuePages(services.news)
        app[SHARED_PARTS] = QueuePages(services.news)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/", _page("index.html"))
    app.router.add_get("/console", _page("console.html"))
    for page in STAFF_PAGES:  # the pages check her roles; their API refuses all the same
        app.router.add_get(f"/{page}", _page(f"{page}.html"))
    if services.settings.webchat_enabled:
        app.router.add_get("/chat", _page("chat.html"))
        sockets.add_chat_socket(app)
    if services.settings.sms.enabled:  # Twilio's webhooks, signed with its auth token
        sms_hooks.add_routes(app)
    if services.settings.line.enabled:  # LINE's webhook, signed with the channel secret
        line_hooks.add_routes(app)
    app.router.add_static("/static", STATIC_DIR, append_version=False)
    api.add_routes(app)
    attachments.add_routes(app)
    supervision.add_routes(app)
    contact.add_routes(app)
    desk.add_routes(app)
    overview.add_routes(app)
    board_live.add_routes(app)
    context.add_routes(app)
    accounts.add_routes(app)
    openapi.add_routes(app)
    audit.add_routes(app)
    audit_csv.add_routes(app)
    calls.add_routes(app)
    report.add_routes(app)
    follow_ups.add_routes(app)
    survey_form.add_routes(app)  # the e-mail's survey link: public, its token the key
    agencies.add_routes(app)  # casework: partner agencies and referrals
    casework.add_routes(app)
    voice_hooks.add_routes(app, enabled=services.settings.voice.enabled)
    sockets.add_staff_socket(app)
    app.on_shutdown.append(_close_sockets)
    return app


async def _close_sockets(app: web.Application) -> None:
    # Without this, runner.cleanup() waits out its shutdown timeout on every open socket.
    services = app[SERVICES]
    await services.staff_hub.close_all()
    await services.chat_hub.close_all()
