"""Websockets: the consulter's chat socket and the staff event socket.

Every write to a socket goes through its hub queue and writer task, so a handler never awaits
a slow client and two tasks never write to one socket at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from channels.webchat import new_token, parse_chat_frame, session_key, valid_token
from inbox.errors import IntakeBusy, StorageError, TooLarge, ValidationError
from inbox.model import ChannelKind, Message, Role
from inbox.web.access import check_origin, require
from inbox.web.hub import Hub, Subscriber
from inbox.web.queue_status import queue_status
from inbox.web.server import SERVICES, read_json_object

log = logging.getLogger(__name__)
STAFF = "staff"
HELLO_TIMEOUT_S = 30.0
BUSY = "the database is unavailable; retry shortly"


def _socket(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SERVICES].settings
    return web.WebSocketResponse(
        heartbeat=settings.heartbeat_s,
        # room for a body at the limit even when JSON-escaped (\uXXXX, 6 bytes a character),
        # so an overlong body gets a precise too_large answer instead of a dropped socket
        max_msg_size=settings.max_message_chars * 6 + 1024,
    )


FrameHandler = Callable[[Subscriber, str], Awaitable[None]]


async def _serve(
    hub: Hub, key: Hashable, ws: web.WebSocketResponse, on_frame: FrameHandler | None = None
) -> None:
    """Run the writer beside the reader until the socket closes; always deregister."""
    sub = hub.add(key, ws)
    try:
        async with asyncio.TaskGroup() as tg:
            writer = tg.create_task(sub.write_forever(), name="ws-writer")
            async for frame in ws:
                if frame.type is WSMsgType.TEXT and on_frame is not None:
                    await on_frame(sub, frame.data)
            writer.cancel()
    finally:
        hub.remove(key, sub)


def _history_json(msg: Message) -> dict[str, Any]:
    return {
        "id": msg.id,
        "direction": msg.direction,
        "body": msg.body,
        "created_at": msg.created_at.isoformat(),
    }


async def consulter_socket(request: web.Request) -> web.WebSocketResponse:
    check_origin(request)
    services = request.app[SERVICES]
    ws = _socket(request)
    await ws.prepare(request)
    try:
        async with asyncio.timeout(HELLO_TIMEOUT_S):
            first = await ws.receive()
        hello = read_json_object(first.data.encode() if first.type is WSMsgType.TEXT else b"")
    except (TimeoutError, ValidationError):
        await ws.close(message=b"expected a hello frame")
        return ws
    token = hello.get("token")
    if not valid_token(token):
        token = new_token()  # a first visit, or a token we never issued: a fresh session
    assert isinstance(token, str)
    key = session_key(token)
    identity = services.intake.identity_of(ChannelKind.WEBCHAT, key)
    try:
        history = await services.store.consulter_history(ChannelKind.WEBCHAT, identity)
    except StorageError:
        # The page retries on its own; 1013 is "try again later".
        log.warning("chat history unavailable", extra={"action": "chat_hello_db_error"})
        await ws.send_json({"type": "error", "code": "busy", "client_id": None, "message": BUSY})
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"database unavailable")
        return ws
    await ws.send_json(
        {"type": "welcome", "token": token, "messages": [_history_json(m) for m in history]}
    )

    async def on_frame(sub: Subscriber, data: str) -> None:
        services.chat_hub.offer(key, sub, await _consulter_frame(request, key, identity, data))

    await _serve(services.chat_hub, key, ws, on_frame)
    return ws


async def _consulter_frame(
    request: web.Request, key: str, identity: str, data: str
) -> dict[str, Any]:
    """Parse a consulter's frame once and answer it: a message to store, or her question
    where she stands in line."""
    try:
        frame = read_json_object(data.encode())
    except ValidationError as exc:
        return {"type": "error", "code": "validation", "client_id": None, "message": str(exc)}
    if frame.get("type") == "queue_status":
        try:
            return await queue_status(request, identity)
        except StorageError:
            return {"type": "error", "code": "busy", "client_id": None, "message": BUSY}
    return await _chat_frame(request, key, frame)


async def _chat_frame(request: web.Request, key: str, frame: dict[str, Any]) -> dict[str, Any]:
    """Store one consulter message; the ack goes out only after the commit."""
    services = request.app[SERVICES]
    client_id = frame.get("client_id")
    try:
        if frame.get("type") != "message":
            raise ValidationError("expected 'message'", field="type")
        msg = parse_chat_frame(
            frame,
            session=key,
            received_at=services.clock(),
            max_chars=services.settings.max_message_chars,
        )
        stored = await services.intake.offer(msg)
    except TooLarge as exc:
        return {"type": "error", "code": "too_large", "client_id": client_id, "message": str(exc)}
    except ValidationError as exc:
        return {"type": "error", "code": "validation", "client_id": client_id, "message": str(exc)}
    except IntakeBusy as exc:
        return {"type": "error", "code": "busy", "client_id": client_id, "message": str(exc)}
    return {"type": "ack", "client_id": client_id, "message_id": stored.message_id}


async def staff_socket(request: web.Request) -> web.WebSocketResponse:
    check_origin(request)
    await require(request, Role.COUNSELOR, Role.SUPERVISOR, Role.PHONE_STAFF)
    ws = _socket(request)
    await ws.prepare(request)
    await _serve(request.app[SERVICES].staff_hub, STAFF, ws)
    return ws
