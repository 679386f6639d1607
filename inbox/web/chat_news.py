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

from inbox.core.errors import StorageError
from inbox.core.model import ChannelKind, ConversationId, Event
from inbox.web.hub import Hub
from storage.roles import PolicyStore

log = logging.getLogger(__name__)
NUDGE = {"type": "status_changed"}
# What changes her state (inbox.web.queue_status) for one conversation ...
CONVERSATION_KINDS = frozenset({"conversation_closed", "offer_opened", "conversation_requeued"})
# ... and for every consulter of the channel.
CHANNEL_KINDS = frozenset({"channel_paused", "channel_resumed"})


class ChatNews:
    def __init__(self, store: PolicyStore, hub: Hub) -> None:
        self._store = store
        self._hub = hub

    async def published(self, events: Sequence[Event]) -> None:
        """After the feed published `events`: nudge the chats whose standing they changed."""
        if not self._hub.keys():
            return  # no consulter has her chat open: nothing to look up
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
