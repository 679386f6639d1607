"""Who has a conversation open and who is writing in it: the staff's live signals.

A staff socket says which conversation its page shows (`{"type": "view", "conversation_id": 7}`,
or null when none) and, while she writes in it, that she is typing (`{"type": "typing",
"conversation_id": 7}`, sent by the console at most every few seconds, and `"active": false`
once she sends or clears the box). Everyone viewing the same conversation is told who else is
there (`{"type": "viewers", ...}`, display names and who is typing), so that two staff members
do not answer one consulter twice; the consulter's web chat is told that her counselor is
typing (`{"type": "typing", "active": true, "ttl_s": 6}`) when the typist is the assignee, and a
consulter on LINE is shown LINE's loading animation then (inbox.web.line_typing).

These signals are ephemeral and stay in this process: no event, no database write, no NOTIFY.
A hint that shows a little late or not at all costs nothing, while the durable guarantees live
in the database and cross instances by themselves: a reply that would double another is refused
by the store (storage.desk REPLIED_SINCE, 409 reply_collision), and the consulter's read state
is a stored column and an event. On several instances a viewer or a consulter connected to
another instance does not see these hints; sending them over NOTIFY (ids only) would cost the one
PostgreSQL a round trip per keystroke burst of every counselor, for a hint. Reads only: one to
check she may see a conversation when she opens it, and at most one per TARGET_TTL_S per typing
conversation to learn whom the typing may reach (the assignee may have changed).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from inbox.core.errors import StorageError, ValidationError
from inbox.core.model import ChannelKind, ConversationId, ConversationStatus, User, UserId
from inbox.web.access import can_see
from inbox.web.hub import STAFF, Hub, Subscriber
from inbox.web.line_typing import LineTyping
from inbox.web.server import is_int64, read_json_object
from storage.base import Store

TYPING_TTL_S = 6.0  # a typing signal shows this long unless renewed (the console renews every 3 s)
TYPING_GAP_S = 2.0  # a socket's typing frames closer together than this are not passed on
TARGET_TTL_S = 5.0  # how long the assignee and chat session of a conversation are trusted


@dataclass(slots=True)
class _View:
    conversation_id: ConversationId
    user_id: UserId
    display_name: str
    typing_until: float = 0.0
    last_typing: float = float("-inf")


@dataclass(frozen=True, slots=True)
class _Target:
    """Whom a conversation's typing may reach: its assignee, and her chat's session key."""

    assignee_id: UserId | None
    chat_key: str | None  # web chat's session (the chat hub's key); None on other channels
    line: bool  # an open LINE conversation: her typing shows as LINE's loading animation
    read_at: float


class LiveDesk:
    """The viewers of each conversation in this process, by staff socket."""

    def __init__(
        self,
        store: Store,
        staff_hub: Hub,
        chat_hub: Hub,
        *,
        line_typing: LineTyping | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._line_typing = line_typing
        self._staff_hub = staff_hub
        self._chat_hub = chat_hub
        self._now = monotonic
        self._views: dict[Subscriber, _View] = {}
        self._viewers: dict[ConversationId, set[Subscriber]] = defaultdict(set)
        self._targets: dict[ConversationId, _Target] = {}

    async def frame(self, sub: Subscriber, user: User, data: str) -> None:
        """One frame from a staff socket; a malformed or unknown one is ignored (the console
        sends only these, and nothing depends on an answer)."""
        try:
            frame = read_json_object(data.encode())
        except ValidationError:
            return
        conv_id = frame.get("conversation_id")
        match frame.get("type"):
            case "view" if conv_id is None:
                self.gone(sub)
            case "view" if _is_id(conv_id):
                await self._view(sub, user, ConversationId(conv_id))
            case "typing" if _is_id(conv_id):
                await self._typing(sub, ConversationId(conv_id), frame.get("active", True) is True)

    def gone(self, sub: Subscriber) -> None:
        """Her socket closed, or her page shows no conversation."""
        view = self._views.pop(sub, None)
        if view is None:
            return
        viewers = self._viewers[view.conversation_id]
        viewers.discard(sub)
        if view.typing_until > self._now():
            self._tell_consulter(view, active=False)
        if viewers:
            self._tell_viewers(view.conversation_id)
        else:
            del self._viewers[view.conversation_id]
            self._targets.pop(view.conversation_id, None)

    async def _view(self, sub: Subscriber, user: User, conv_id: ConversationId) -> None:
        current = self._views.get(sub)
        if current is not None and current.conversation_id == conv_id:
            return
        self.gone(sub)  # whatever comes of it, she has left the one she had open
        try:
            conv = await self._store.get_conversation(conv_id)
        except StorageError:
            return  # unknown, or the database is away: she is simply not shown as viewing
        if not can_see(user, conv) or sub.dropped:
            return
        self._views[sub] = _View(conv_id, user.id, user.display_name)
        self._viewers[conv_id].add(sub)
        self._tell_viewers(conv_id)

    async def _typing(self, sub: Subscriber, conv_id: ConversationId, active: bool) -> None:
        view = self._views.get(sub)
        if view is None or view.conversation_id != conv_id:
            return  # typing counts only in the conversation her page shows
        now = self._now()
        was_typing = view.typing_until > now
        if active:
            if now - view.last_typing < TYPING_GAP_S:
                return
            view.last_typing, view.typing_until = now, now + TYPING_TTL_S
        elif was_typing:
            view.typing_until, view.last_typing = 0.0, float("-inf")
        else:
            return
        self._tell_viewers(conv_id)
        target = await self._target(conv_id)
        if target is not None and target.assignee_id == view.user_id:
            self._tell_consulter(view, active=active, target=target)
            if active and target.line and self._line_typing is not None:
                self._line_typing.typed(conv_id)  # returns at once; the request runs beside

    async def _target(self, conv_id: ConversationId) -> _Target | None:
        target = self._targets.get(conv_id)
        if target is not None and self._now() - target.read_at < TARGET_TTL_S:
            return target
        try:
            conv = await self._store.get_conversation(conv_id)
            chat_key = None
            is_open = conv.status is not ConversationStatus.CLOSED
            if conv.channel is ChannelKind.WEBCHAT and is_open:
                chat_key = (await self._store.contact_address(conv_id)).address
        except StorageError:
            return None
        line = conv.channel is ChannelKind.LINE and is_open
        target = _Target(conv.assignee_id, chat_key, line, self._now())
        if conv_id in self._viewers:  # she may have left while we read
            self._targets[conv_id] = target
        return target

    def _tell_consulter(self, view: _View, *, active: bool, target: _Target | None = None) -> None:
        target = target or self._targets.get(view.conversation_id)
        if target is None or target.chat_key is None or target.assignee_id != view.user_id:
            return
        payload: dict[str, Any] = {"type": "typing", "active": active}
        if active:
            payload["ttl_s"] = TYPING_TTL_S
        self._chat_hub.push(target.chat_key, payload)

    def _tell_viewers(self, conv_id: ConversationId) -> None:
        subs = self._viewers.get(conv_id)
        if not subs:
            return
        now = self._now()
        people: dict[UserId, dict[str, Any]] = {}
        for sub in subs:
            view = self._views[sub]
            seen = people.setdefault(
                view.user_id,
                {"user_id": view.user_id, "display_name": view.display_name, "typing": False},
            )
            seen["typing"] = seen["typing"] or view.typing_until > now
        self._staff_hub.push_to(
            STAFF,
            subs,
            {
                "type": "viewers",
                "conversation_id": conv_id,
                "viewers": sorted(people.values(), key=lambda p: p["user_id"]),
                "typing_ttl_s": TYPING_TTL_S,
            },
        )

    def viewing(self, conv_id: ConversationId) -> set[UserId]:
        """Who has the conversation open in this process (for tests and diagnostics)."""
        return {self._views[s].user_id for s in self._viewers.get(conv_id, ())}


def _is_id(value: object) -> TypeGuard[int]:
    return is_int64(value) and value > 0
