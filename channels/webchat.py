"""Web chat: anonymous consulters in a browser; frames in, pushes to their sockets out.

The consulter's browser keeps a random session token; the server only ever stores the token's
hash (the session key), which is the "address" replies go to.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any, Protocol, Self

from inbox.core.errors import ChannelError, TooLarge, ValidationError
from inbox.core.model import ChannelKind, InboundMessage, MessageId, OutboundMessage
from inbox.core.text import storable


class ConsulterSockets(Protocol):
    """The web layer's registry of open consulter sockets."""

    def push(self, session_key: str, payload: dict[str, Any]) -> int:
        """Queue a payload for every socket of that session; return how many were reached."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def session_key(token: str) -> str:
    """The stored form of a session token: a leaked database does not let anyone resume it."""
    return hashlib.sha256(token.encode()).hexdigest()[:40]


def valid_token(token: object) -> bool:
    return isinstance(token, str) and 20 <= len(token) <= 100 and token.isascii()


def parse_chat_frame(
    frame: dict[str, Any], *, session: str, received_at: datetime, max_chars: int
) -> InboundMessage:
    """A `{"type": "message", "client_id": uuid, "body": str}` frame as an InboundMessage.

    The client_id is the browser's own id for the message, so a resend after a reconnect is
    recognized as the same message.
    """
    client_id = frame.get("client_id")
    if not isinstance(client_id, str):
        raise ValidationError("required, a UUID string", field="client_id")
    try:
        uuid.UUID(client_id)
    except ValueError:
        raise ValidationError("must be a UUID", field="client_id") from None
    body = frame.get("body")
    if not isinstance(body, str):
        raise ValidationError("required, a string", field="body")
    # The frame may come from anywhere, not only our page: a NUL or a lone surrogate
    # ("\\ud83d") would fail the database (inbox.core.text).
    body = storable(body).strip()
    if not body:
        raise ValidationError("must not be empty", field="body")
    if len(body) > max_chars:
        raise TooLarge(f"at most {max_chars} characters, got {len(body)}", field="body")
    return InboundMessage(
        channel=ChannelKind.WEBCHAT,
        external_id=f"{session}:{client_id.lower()}",
        sender=session,
        body=body,
        received_at=received_at,
    )


def outbound_json(msg: OutboundMessage) -> dict[str, Any]:
    """A reply as her chat shows it live: with its time, and whether a person wrote it (an
    automatic message looks different), as in her history (inbox.web.sockets); the survey's
    question is marked, and her chat shows its answers as buttons."""
    return {
        "id": msg.message_id,
        "conversation": msg.conversation_id,
        "direction": "outbound",
        "body": msg.body,
        "created_at": None if msg.created_at is None else msg.created_at.isoformat(),
        "automatic": msg.automatic,
    } | ({"survey": True} if msg.survey is not None else {})


PUSHED_MEMORY = 4096  # replies pushed here whose reply_sent event the feed has not read yet


class PushedHere:
    """The replies this process pushed to its own sockets, until its event feed reads their
    reply_sent event: the outbox of any instance may send a web chat reply, and her socket
    may be open on another (sticky to its load-balanced instance). Each instance's feed
    pushes a reply it did not push itself to her sockets there (inbox.web.chat_news), so she
    gets each reply once, wherever her sockets are. Bounded: a reply whose event is never
    read here (it cannot happen while the feed runs) costs one slot until pushed out."""

    def __init__(self, size: int = PUSHED_MEMORY) -> None:
        self._ids: OrderedDict[MessageId, None] = OrderedDict()
        self._size = size

    def add(self, message_id: MessageId) -> None:
        self._ids[message_id] = None
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)

    def take(self, message_id: MessageId) -> bool:
        """Whether this process pushed that reply itself (and forget it: its event is read)."""
        return self._ids.pop(message_id, False) is None


class WebChatChannel:
    """Replies go to the consulter's open sockets; when none is open, she reads them from her
    history on return, so a reply counts as sent once it is stored and pushed where possible."""

    kind = ChannelKind.WEBCHAT

    def __init__(self, sockets: ConsulterSockets, pushed: PushedHere | None = None) -> None:
        self._sockets = sockets
        self._pushed = pushed or PushedHere()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def send(self, msg: OutboundMessage) -> str:
        if not msg.recipient:
            raise ChannelError("no session to send to", channel=self.kind, retryable=False)
        self._sockets.push(msg.recipient, {"type": "message", "message": outbound_json(msg)})
        self._pushed.add(msg.message_id)
        return f"webchat-{msg.message_id}"
