"""The consulter asks where she stands: her place in line and an honest estimate, on request
only (never pushed unasked, never as spam). Uses the same texts as the waiting-line message."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from inbox.core.model import ChannelKind
from inbox.core.shifts import counselors_on_duty
from inbox.web.server import SERVICES
from routing.assign import queue_order
from routing.replies import waiting_line_reply

ROUND_WAIT_S = 1.0


async def queue_status(request: web.Request, identity: str) -> dict[str, Any]:
    """`{"type": "queue_status", "position": n | None, "text": ...}`; position None when a
    counselor has her conversation (or she has none open)."""
    services = request.app[SERVICES]
    history = await services.store.consulter_history(ChannelKind.WEBCHAT, identity, limit=1)
    if not history:
        return {"type": "queue_status", "position": None, "text": None}
    conversation_id = history[-1].conversation_id
    # Asked right after her message, the answer must not be "all busy" only because the router
    # has not had its round yet: let one run first (briefly; the answer is only an estimate).
    await services.router.next_round(timeout_s=ROUND_WAIT_S)
    snapshot = await services.store.routing_snapshot()
    order = [w.id for w in queue_order(snapshot.waiting)]
    if conversation_id not in order:
        return {"type": "queue_status", "position": None, "text": None}
    position = order.index(conversation_id) + 1
    reply = waiting_line_reply(
        services.settings.replies,
        position,
        handling_s=await services.store.recent_handling_s(),
        counselors=counselors_on_duty(snapshot.agents, services.clock()),
    )
    contact = await services.store.contact_address(conversation_id)
    text = None if reply is None else (reply.discreet_body if contact.discretion else reply.body)
    return {"type": "queue_status", "position": position, "text": text}
