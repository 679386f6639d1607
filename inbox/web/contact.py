"""A conversation's consulter: her privacy mode, and revealing her address with a reason.

The address leaves the server only here, only as inbox.privacy allows, and only after the
address_revealed event (who, which conversation, the reason; never the address) is stored.
"""

from __future__ import annotations

from aiohttp import web

from inbox.core.errors import PermissionDenied, ValidationError
from inbox.core.model import Anonymity, ContactAddress
from inbox.privacy import reveal_refusal, shown_address
from inbox.web.access import check_can_act
from inbox.web.api import visible_conversation
from inbox.web.server import SERVICES, Services, field_str, json_body

routes = web.RouteTableDef()
MAX_REASON_CHARS = 500


def _contact_json(services: Services, contact: ContactAddress, alias: str) -> dict[str, object]:
    mode = services.settings.anonymity.mode(contact.channel, contact.anonymity)
    return {
        "alias": alias,
        "anonymity": mode.value,
        "anonymity_source": "contact" if contact.anonymity else "channel",
        "discretion": contact.discretion,
        "address": shown_address(mode, contact.address),
    }


@routes.get("/api/conversations/{id}/contact")
async def get_contact(request: web.Request) -> web.Response:
    _, conv = await visible_conversation(request)
    services = request.app[SERVICES]
    contact = await services.store.contact_address(conv.id)
    return web.json_response({"contact": _contact_json(services, contact, conv.contact_alias)})


@routes.post("/api/conversations/{id}/reveal")
async def reveal_address(request: web.Request) -> web.Response:
    user, conv = await visible_conversation(request)
    services = request.app[SERVICES]
    reason = field_str(await json_body(request), "reason", max_chars=MAX_REASON_CHARS)
    contact = await services.store.contact_address(conv.id)
    mode = services.settings.anonymity.mode(contact.channel, contact.anonymity)
    refusal = reveal_refusal(mode, user, services.settings.reveal_roles)
    if refusal is not None:
        raise PermissionDenied(refusal)
    # Audited first: if the event cannot be written, the address is not shown.
    await services.commands.conversations.record_reveal(
        conv.id, actor=user.id, reason=reason, mode=mode
    )
    return web.json_response({"address": contact.address, "channel": contact.channel.value})


@routes.put("/api/conversations/{id}/anonymity")
async def set_anonymity(request: web.Request) -> web.Response:
    """The consulter's wish, set by her counselor or a supervisor; null returns to the
    channel's default."""
    user, conv = await visible_conversation(request)
    check_can_act(user, conv)
    services = request.app[SERVICES]
    value = (await json_body(request)).get("anonymity", "missing")
    if value is not None and (not isinstance(value, str) or value not in set(Anonymity)):
        modes = ", ".join(m.value for m in Anonymity)
        raise ValidationError(
            f"one of {modes}, or null for the channel's default", field="anonymity"
        )
    mode = None if value is None else Anonymity(value)
    await services.commands.conversations.set_anonymity(conv.id, mode, actor=user.id)
    contact = await services.store.contact_address(conv.id)
    return web.json_response({"contact": _contact_json(services, contact, conv.contact_alias)})


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
