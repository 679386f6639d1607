"""Websockets: the consulter's chat socket and the staff event socket.

Every write to a socket goes through its hub queue and writer task, so a handler never awaits
a slow client and two tasks never write to one socket at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from channels.webchat import new_token, parse_chat_frame, session_key, valid_token
from inbox.core.errors import IntakeBusy, StorageError, TooLarge, ValidationError
from inbox.core.model import ChannelKind, Direction, Event, Message, MessageId, Role
from inbox.core.sessions import session_tag
from inbox.web.access import check_origin, require, session_hash, signed_out_since
from inbox.web.board_live import board_frame
from inbox.web.chat_limits import SessionLimits
from inbox.web.hub import STAFF, Hub, Subscriber, socket_response
from inbox.web.line_typing import LineTyping
from inbox.web.live import LiveDesk
from inbox.web.queue_status import chat_settings, queue_status, standing
from inbox.web.server import SERVICES, Services, is_int64, read_json_object

log = logging.getLogger(__name__)
HELLO_TIMEOUT_S = 30.0
LANGUAGES = frozenset({"ja", "en"})  # her chat's languages (static/i18n.js)
BUSY = "the database is unavailable; retry shortly"
# A page holds at most this many characters of bodies (always at least one message), so that a
# welcome stays small even over a history of messages at max_message_chars.
HISTORY_PAGE_CHARS = 50_000
CHAT_LIMITS = web.AppKey("chat_limits", SessionLimits)
LIVE = web.AppKey("live", LiveDesk)


def add_chat_socket(app: web.Application) -> None:
    chat = app[SERVICES].settings.webchat
    app[CHAT_LIMITS] = SessionLimits(
        frames_per_minute=chat.frames_per_minute, messages_per_day=chat.messages_per_day
    )
    app.router.add_get("/chat/ws", consulter_socket)
    app.router.add_get("/chat/settings", chat_settings)


def add_staff_socket(app: web.Application) -> None:
    services = app[SERVICES]
    line_typing = None
    if services.line is not None:  # [line] on: her assignee's typing shows on LINE too
        line_typing = shown = LineTyping(
            services.store,
            services.line.show_loading,
            seconds=services.settings.line.loading_seconds,
        )
        app.on_shutdown.append(lambda _app: shown.close())
    app[LIVE] = LiveDesk(
        services.store, services.staff_hub, services.chat_hub, line_typing=line_typing
    )
    app.router.add_get("/api/ws", staff_socket)


# The events that end every session of hers, and the close reason her sockets get.
_SESSIONS_ENDED = {"user_disabled": b"account disabled", "password_reset": b"password reset"}


def close_revoked_staff(hub: Hub, event: Event) -> None:
    """Close the staff sockets an event takes from her (from this process, the CLI or another
    instance, as the event feed reads it), before they get its news: on `user_disabled` or an
    admin's `password_reset` all of them (her sessions and tokens are already ended in the
    store); on `user_updated` of her roles all of them, so that her page reconnects and is
    judged afresh (a supervisor no more is sent no board, one with no staff role is refused);
    on her own `password_changed` those of her other sessions, which ended: the session she
    kept (`kept_session`) and her API tokens' sockets stay."""
    user_id = event.data.get("user_id")
    if user_id is None:
        return
    spare: Callable[[Subscriber], bool] | None = None
    if (reason := _SESSIONS_ENDED.get(event.kind)) is not None:
        pass
    elif event.kind == "user_updated" and "roles" in _fields(event.data.get("fields")):
        reason = b"roles changed"
    elif event.kind == "password_changed":
        reason = b"password changed"
        spare = functools.partial(_kept_or_token, event.data.get("kept_session"))
    else:
        return
    if closed := hub.close_owned_by(STAFF, user_id, reason, spare=spare):
        log.info(
            "user's sockets closed: her sessions or roles changed",
            extra={"action": "ws_closed_revoked", "kind": event.kind, "count": closed},
        )


def _fields(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _kept_or_token(kept: object, sub: Subscriber) -> bool:
    """Whether a socket of hers stays open after her own password change: its session is the
    one she kept, or it rides on an API token (her own change keeps her tokens)."""
    return sub.session is None or sub.session == kept


def _socket(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SERVICES].settings
    return socket_response(
        heartbeat_s=settings.heartbeat_s,
        # room for a body at the limit even when JSON-escaped (\uXXXX, 6 bytes a character),
        # so an overlong body gets a precise too_large answer instead of a dropped socket
        max_msg_size=settings.max_message_chars * 6 + 1024,
    )


FrameHandler = Callable[[Subscriber, str], Awaitable[None]]


async def _serve(
    hub: Hub,
    key: Hashable,
    ws: web.WebSocketResponse,
    request: web.Request,
    on_frame: FrameHandler | None = None,
    *,
    greeting: dict[str, Any] | None = None,
    owner: Hashable = None,
    session: Hashable = None,
    on_gone: Callable[[Subscriber], None] | None = None,
    on_added: Callable[[Subscriber], None] | None = None,
    signed_out: Callable[[], Awaitable[bytes | None]] | None = None,
) -> None:
    """Run the writer beside the reader until the socket closes; always deregister.
    `signed_out` is asked once the socket is in the hub, so that a change that took her
    right away before then (its event published to a hub without her socket) still closes it
    (with the reason it gives)."""
    sub = hub.add(key, ws, request, owner=owner, session=session)
    if on_added is not None:
        on_added(sub)
    try:
        if signed_out is not None and (reason := await signed_out()) is not None:
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=reason)
            return
        if greeting is not None:
            hub.offer(key, sub, greeting)  # through the writer, which gives up on a stuck peer
        async with asyncio.TaskGroup() as tg:
            writer = tg.create_task(sub.write_forever(), name="ws-writer")
            async for frame in ws:
                if frame.type is WSMsgType.TEXT and on_frame is not None:
                    await on_frame(sub, frame.data)
            writer.cancel()
    finally:
        hub.remove(key, sub)
        if on_gone is not None:
            on_gone(sub)


def _history_json(msg: Message, survey: MessageId | None = None) -> dict[str, Any]:
    """As the chat shows it: `conversation` lets her chat mark where one ended and the next
    began; `automatic` (a reply no person wrote) as in the live push (channels.webchat);
    `survey` on the question of her survey still open (its answers shown as buttons)."""
    return {
        "id": msg.id,
        "conversation": msg.conversation_id,
        "direction": msg.direction,
        "body": msg.body,
        "created_at": msg.created_at.isoformat(),
        "automatic": msg.direction is Direction.OUTBOUND and msg.author_id is None,
    } | ({"survey": True} if msg.id == survey else {})


async def _history_page(
    request: web.Request,
    identity: str,
    before: MessageId | None,
    survey: MessageId | None = None,
) -> dict[str, Any]:
    """The latest page of her history (before a message id, if given), oldest first, and
    whether there are older messages to ask for; `survey`: her open survey's question."""
    services = request.app[SERVICES]
    size = services.settings.webchat.history_page
    found = await services.store.consulter_history(
        ChannelKind.WEBCHAT, identity, limit=size + 1, before=before
    )
    more = len(found) > size
    page: list[Message] = []
    chars = 0
    for msg in reversed(found[-size:]):
        chars += len(msg.body)
        if page and chars > HISTORY_PAGE_CHARS:
            more = True
            break
        page.append(msg)
    return {"messages": [_history_json(m, survey) for m in reversed(page)], "more": more}


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
    # One socket too many is refused first, so that it costs the session's other sockets
    # nothing; a hello counts as a frame, so that reconnecting in a loop is refused before it
    # costs a history page.
    if services.chat_hub.count(key) >= services.settings.webchat.sockets_per_session:
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too_many_sockets")
        return ws
    if not request.app[CHAT_LIMITS].take_frame(key, services.clock()):
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"rate_limited")
        return ws
    identity = services.intake.identity_of(ChannelKind.WEBCHAT, key)
    language = ChatLanguage(services, identity, hello.get("lang"))
    try:
        page = await _history_page(request, identity, None, await _open_survey(services, identity))
        status = await standing(services, identity, place=False)
    except StorageError:
        # The page retries on its own; 1013 is "try again later".
        log.warning("chat history unavailable", extra={"action": "chat_hello_db_error"})
        await ws.send_json({"type": "error", "code": "busy", "client_id": None, "message": BUSY})
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"database unavailable")
        return ws
    welcome = {"type": "welcome", "token": token, "status": status} | page

    async def on_frame(sub: Subscriber, data: str) -> None:
        answer = await _consulter_frame(request, key, language, data)
        if answer is not None:
            services.chat_hub.offer(key, sub, answer)

    await _serve(services.chat_hub, key, ws, request, on_frame, greeting=welcome)
    return ws


def _error(code: str, client_id: object, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "client_id": client_id, "message": message}


class ChatLanguage:
    """The language her chat is set to ("ja" or "en"; said in her hello and again when she
    switches), stored by her address before her next message is, so that the automatic replies
    to it are in that language alone. Written once per socket and change, not per message."""

    def __init__(self, services: Services, identity: str, said: object) -> None:
        self._services = services
        self._identity = identity
        self._language = said if said in LANGUAGES else None
        self._stored: str | None = None

    def said(self, language: object) -> None:
        if language in LANGUAGES:
            assert isinstance(language, str)
            self._language = language

    async def before_message(self) -> None:
        """Raises StorageError."""
        if self._language is None or self._language == self._stored:
            return
        await self._services.store.set_consulter_language(
            ChannelKind.WEBCHAT, self._identity, self._language, now=self._services.clock()
        )
        self._stored = self._language

    @property
    def identity(self) -> str:
        return self._identity


async def _consulter_frame(
    request: web.Request, key: str, language: ChatLanguage, data: str
) -> dict[str, Any] | None:
    """Parse a consulter's frame once and answer it: a message to store, her question where
    she stands in line, an older page; how far she has read and her language switched are not
    answered."""
    identity = language.identity
    services = request.app[SERVICES]
    if not request.app[CHAT_LIMITS].take_frame(key, services.clock()):
        per_minute = services.settings.webchat.frames_per_minute
        return _error("rate_limited", _client_id(data), f"at most {per_minute} a minute; wait")
    try:
        frame = read_json_object(data.encode())
    except ValidationError as exc:
        return _error("validation", None, str(exc))
    try:
        match frame.get("type"):
            case "queue_status":
                return await queue_status(request, identity)
            case "history":
                return await _older_page(request, identity, frame.get("before"))
            case "read":
                return await _read(request, identity, frame.get("message_id"))
            case "lang":
                language.said(frame.get("lang"))
                return None
            case "survey":
                return await _survey_answer(services, identity, frame.get("answer"))
            case "message":
                try:
                    await language.before_message()
                except StorageError:  # as the intake's busy: her page resends it later
                    return _error("busy", _echoed(frame.get("client_id")), BUSY)
    except StorageError:
        # her socket stays open: she may ask again once the database is back
        return _error("busy", None, BUSY)
    return await _chat_frame(request, key, frame)


async def _open_survey(services: Services, identity: str) -> MessageId | None:
    """The question of her survey still open, if any: her chat shows its buttons again."""
    if services.surveys is None:
        return None
    since = services.surveys.asked_since(ChannelKind.WEBCHAT, services.clock())
    return await services.store.open_survey_message(
        ChannelKind.WEBCHAT, identity, asked_since=since
    )


async def _survey_answer(services: Services, identity: str, answer: object) -> dict[str, Any]:
    """Her answer to the survey her chat showed (her latest still open, bound to her session):
    counted once; `answered` false when there was none to answer (answered, expired)."""
    if not isinstance(answer, int) or isinstance(answer, bool) or not 1 <= answer <= 4:
        return _error("validation", None, "answer: 1 to 4")
    surveys, now = services.surveys, services.clock()
    answered = surveys is not None and await services.store.answer_open_survey(
        ChannelKind.WEBCHAT,
        identity,
        answer,
        on_day=surveys.day(now),
        asked_since=surveys.asked_since(ChannelKind.WEBCHAT, now),
        latest_closed=False,
    )
    return {"type": "survey", "answered": answered}


async def _older_page(request: web.Request, identity: str, before: object) -> dict[str, Any]:
    if not is_int64(before) or before <= 0:
        return _error("validation", None, "before: a message id")
    return {"type": "history"} | await _history_page(request, identity, MessageId(before))


async def _read(request: web.Request, identity: str, message_id: object) -> dict[str, Any] | None:
    """Her page showed her messages up to this id (it says so only while it is visible): stored
    as her conversation's read state, and the staff's sockets hear of it through the event."""
    if not is_int64(message_id) or message_id <= 0:
        return _error("validation", None, "message_id: a message id")
    services = request.app[SERVICES]
    changed = await services.store.mark_consulter_read(
        ChannelKind.WEBCHAT, identity, MessageId(message_id), now=services.clock()
    )
    if changed is not None:
        services.on_event()
    return None


def _client_id(data: str) -> str | None:
    """The client_id of a frame refused before it is handled, so her page can mark that
    message; parsed as every frame is (depth-bounded, text made storable), or None."""
    try:
        return _echoed(read_json_object(data.encode()).get("client_id"))
    except ValidationError:
        return None


def _echoed(client_id: object) -> str | None:
    """A client_id worth sending back: her page's UUIDs; anything else is not echoed."""
    return client_id if isinstance(client_id, str) and len(client_id) <= 64 else None


async def _chat_frame(request: web.Request, key: str, frame: dict[str, Any]) -> dict[str, Any]:
    """Store one consulter message; the ack goes out only after the commit."""
    services = request.app[SERVICES]
    client_id = _echoed(frame.get("client_id"))
    try:
        if frame.get("type") != "message":
            raise ValidationError("expected 'message'", field="type")
        msg = parse_chat_frame(
            frame,
            session=key,
            received_at=services.clock(),
            max_chars=services.settings.max_message_chars,
        )
        limits, now = request.app[CHAT_LIMITS], services.clock()
        if not limits.may_store(key, now, client_id):
            per_day = services.settings.webchat.messages_per_day
            return _error("daily_limit", client_id, f"at most {per_day} messages a day")
        stored = await services.intake.offer(msg)
    except TooLarge as exc:
        return _error("too_large", client_id, str(exc))
    except ValidationError as exc:
        return _error("validation", client_id, str(exc))
    except IntakeBusy as exc:
        return _error("busy", client_id, str(exc))
    if not stored.duplicate:
        limits.stored(key, now, client_id)
    return {
        "type": "ack",
        "client_id": client_id,
        "message_id": stored.message_id,
        "conversation": stored.conversation_id,
    }


async def staff_socket(request: web.Request) -> web.WebSocketResponse:
    check_origin(request)
    user = await require(request, Role.COUNSELOR, Role.SUPERVISOR, Role.PHONE_STAFF)
    signed_in = session_hash(request)
    services = request.app[SERVICES]
    live = request.app[LIVE]
    ws = _socket(request)
    await ws.prepare(request)

    async def on_frame(sub: Subscriber, data: str) -> None:
        if not board_frame(services.supervisors, sub, user, data):
            await live.frame(sub, user, data)

    def added(sub: Subscriber) -> None:
        if user.has_any(Role.SUPERVISOR):  # the board's frames (inbox.web.board_live)
            services.supervisors.add(sub)

    def gone(sub: Subscriber) -> None:
        services.supervisors.discard(sub)
        live.gone(sub)

    # Her presence follows her sockets (inbox.presence): back, an away the disconnect set ends.
    # Marked once her socket is in the hub: from then on it hears every event published (one
    # published while her presence was being written would otherwise pass it by).
    present = False

    async def admitted() -> bytes | None:
        nonlocal present
        await services.presence.opened(user.id)
        present = True
        return await signed_out_since(request, user)

    try:
        await _serve(
            services.staff_hub,
            STAFF,
            ws,
            request,
            on_frame,
            owner=user.id,
            session=None if signed_in is None else session_tag(signed_in),
            on_gone=gone,
            on_added=added,
            signed_out=admitted,
        )
    finally:
        if present:
            await services.presence.closed(user.id)
    return ws
