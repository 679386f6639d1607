"""A conversation's consulter: her privacy mode, revealing her address with a reason, and
linking another conversation's consulter to her (one person across channels).

The address leaves the server only here, only as inbox.privacy allows, and only after the
address_revealed event (who, which conversation, the reason; never the address) is stored.
"""

from __future__ import annotations

from aiohttp import web

from inbox.core.errors import PermissionDenied, ValidationError
from inbox.core.model import (
    Anonymity,
    ChannelKind,
    ContactAddress,
    ConversationId,
    Role,
    User,
    contact_alias,
)
from inbox.privacy import reveal_refusal, shown_address
from inbox.web.access import check_can_act, require
from inbox.web.api import visible_conversation
from inbox.web.server import SERVICES, ApiError, Services, field_str, is_int64, json_body

routes = web.RouteTableDef()
MAX_REASON_CHARS = 500


# Addresses that mean nothing to a person: a web-chat session's random key, a LINE user id
# (it reaches no one outside the Messaging API). Never shown, revealed or audited; an
# identified LINE consulter is shown by her LINE display name instead.
NO_ADDRESS_CHANNELS = frozenset({ChannelKind.WEBCHAT, ChannelKind.LINE})


def has_address(contact: ContactAddress) -> bool:
    """Whether her address means anything to a person."""
    return contact.channel not in NO_ADDRESS_CHANNELS


def _shown(mode: Anonymity, contact: ContactAddress) -> str | None:
    if contact.channel is ChannelKind.LINE:
        return contact.display_name if mode is Anonymity.IDENTIFIED else None
    return shown_address(mode, contact.address) if has_address(contact) else None


def _contact_json(
    services: Services, contact: ContactAddress, alias: str, user: User
) -> dict[str, object]:
    mode = services.settings.anonymity.mode(contact.channel, contact.anonymity)
    refusal = reveal_refusal(mode, user, services.settings.reveal_roles)
    shown = _shown(mode, contact)
    return {
        "alias": alias,
        "anonymity": mode.value,
        "anonymity_source": "contact" if contact.anonymity else "channel",
        "discretion": contact.discretion,
        "address": shown,
        # whether the console offers her a reveal (with a reason): an address that is not shown
        # already, that her role may see
        "revealable": has_address(contact) and shown is None and refusal is None,
    }


@routes.get("/api/conversations/{id}/contact")
async def get_contact(request: web.Request) -> web.Response:
    user, conv = await visible_conversation(request)
    services = request.app[SERVICES]
    contact = await services.store.contact_address(conv.id)
    shown = _contact_json(services, contact, conv.contact_alias, user)
    return web.json_response({"contact": shown})


@routes.post("/api/conversations/{id}/reveal")
async def reveal_address(request: web.Request) -> web.Response:
    user, conv = await visible_conversation(request)
    services = request.app[SERVICES]
    contact = await services.store.contact_address(conv.id)
    mode = services.settings.anonymity.mode(contact.channel, contact.anonymity)
    refusal = reveal_refusal(mode, user, services.settings.reveal_roles)
    if refusal is not None:
        raise PermissionDenied(refusal)
    reason = field_str(await json_body(request), "reason", max_chars=MAX_REASON_CHARS)
    if not has_address(contact):  # nothing to reveal, so nothing to audit
        raise ApiError(
            409, "conflict", f"a {contact.channel} conversation has no address to reveal"
        )
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
    shown = _contact_json(services, contact, conv.contact_alias, user)
    return web.json_response({"contact": shown})


# --- link: one consulter across channels
@routes.post("/api/conversations/{id}/link")
async def link_conversation(request: web.Request) -> web.Response:
    """A supervisor's decision, with a reason, that the consulter of another conversation (on
    another channel, under another alias) is this one's: her contact merges into this one's,
    so either conversation's timeline shows both and staff see one alias. Nothing can tell it
    automatically (guessing would be a privacy failure), so only a supervisor may."""
    await require(request, Role.SUPERVISOR)
    user, conv = await visible_conversation(request)
    data = await json_body(request)
    other_id = data.get("conversation_id")
    if not is_int64(other_id) or other_id < 0:
        raise ValidationError("required, a conversation id", field="conversation_id")
    reason = field_str(data, "reason", max_chars=MAX_REASON_CHARS)
    if other_id == conv.id:
        raise ValidationError("another conversation than this one", field="conversation_id")
    _, other = await visible_conversation(request, ConversationId(other_id))
    if other.contact_id == conv.contact_id:
        raise ValidationError(
            "that conversation is this consulter's already", field="conversation_id"
        )
    services = request.app[SERVICES]
    kept, merged = await services.commands.conversations.link_contacts(
        conv.id, other.id, actor=user.id, reason=reason
    )
    return web.json_response(
        {"contact_alias": contact_alias(kept), "merged_alias": contact_alias(merged)}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
