"""Nudges to the consulter's chat when her standing changed: closed, opened by a counselor,
back in the queue, the web chat paused or resumed. Not on an offer: given out right after her
message, at intake, it is news to no one, and she stays "queued" until it is opened. The nudge
carries no data (no event, no body); her chat then asks where she stands
(inbox.web.queue_status), as she could herself.

Fed by the event feed (inbox.feed), so a change written by another instance or by the CLI
reaches her too. Best effort: a nudge lost to a database outage is made up for by her chat's
next question (on reconnect, after her next message, or its slow refresh while she waits).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from channels.webchat import PushedHere, outbound_json
from inbox.core.errors import StorageError
from inbox.core.model import (
    ChannelKind,
    ConversationId,
    Event,
    MessageId,
    OutboundMessage,
    SurveyAsk,
)
from inbox.web.hub import Hub
from storage.roles import DeskStore, PolicyStore

log = logging.getLogger(__name__)
NUDGE = {"type": "status_changed"}
# What changes her state (inbox.web.queue_status) for one conversation ...
CONVERSATION_KINDS = frozenset({"conversation_closed", "offer_opened", "conversation_requeued"})
# ... and for every consulter of the channel.
CHANNEL_KINDS = frozenset({"channel_paused", "channel_resumed"})


class NewsStore(PolicyStore, DeskStore, Protocol):
    """Her chat's address (a conversation's), and a reply to push to it."""


class ChatNews:
    def __init__(self, store: NewsStore, hub: Hub, pushed: PushedHere | None = None) -> None:
        self._store = store
        self._hub = hub
        self._pushed = pushed or PushedHere()

    async def published(self, events: Sequence[Event]) -> None:
        """After the feed published `events`: push the web chat replies another instance sent
        to her sockets here; nudge the chats whose standing they changed."""
        replies = [
            e
            for e in events
            if e.kind == "reply_sent"
            and e.data.get("channel") == ChannelKind.WEBCHAT
            and e.message_id is not None
            and e.conversation_id is not None
            and not self._pushed.take(MessageId(e.message_id))
        ]
        if not self._hub.keys():
            return  # no consulter has her chat open: nothing to look up
        for event in replies:
            await self._deliver(event)
        if any(
            e.kind in CHANNEL_KINDS and e.data.get("channel") == ChannelKind.WEBCHAT for e in events
        ):
            self._hub.push_all(NUDGE)
            return
        conversations = {
            e.conversation_id
            for e in events
            if e.kind in CONVERSATION_KINDS and e.conversation_id is not None
        }
        for conversation_id in sorted(conversations):
            await self._nudge(conversation_id)

    async def _deliver(self, event: Event) -> None:
        """A reply the outbox of another instance sent (to the sockets there): to hers here."""
        assert event.conversation_id is not None and event.message_id is not None
        try:
            contact = await self._store.contact_address(event.conversation_id)
            if not self._hub.count(contact.address):
                return
            msg = await self._store.get_message(event.message_id)
        except StorageError:
            # She reads it from her history on her chat's next question or reconnect.
            log.warning(
                "reply not pushed here",
                extra={
                    "action": "chat_reply_push_failed",
                    "conversation_id": event.conversation_id,
                },
            )
            return
        reply = OutboundMessage(
            message_id=msg.id,
            conversation_id=msg.conversation_id,
            channel=ChannelKind.WEBCHAT,
            recipient=contact.address,
            body=msg.body,
            automatic=msg.author_id is None,
            created_at=msg.created_at,
            survey=SurveyAsk(language="") if event.data.get("survey") else None,
        )
        self._hub.push(contact.address, {"type": "message", "message": outbound_json(reply)})

    async def _nudge(self, conversation_id: ConversationId) -> None:
        try:
            contact = await self._store.contact_address(conversation_id)
        except StorageError:
            log.warning(
                "chat not nudged",
                extra={"action": "chat_nudge_failed", "conversation_id": conversation_id},
            )
            return
        if contact.channel is ChannelKind.WEBCHAT:
            self._hub.push(contact.address, NUDGE)  # the address of a web chat: her session key
