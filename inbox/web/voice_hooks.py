"""Twilio Voice: a consulter's call in (the desk's phones ring; nobody answers: she hears a
neutral message and the call becomes a callback), its dial result and status callbacks, and
click-to-call: Twilio rings a staff member's own phone, then bridges her to the consulter with
the program's number as caller ID, so staff return a call without seeing the number.

Every webhook is signature-checked first (inbox.web.twilio_auth). Her number appears only in
the bridge's TwiML, which goes to Twilio alone: never in an answer to staff, nor in a log line.
"""

from __future__ import annotations

import logging

from aiohttp import web
from multidict import MultiDictProxy
from twilio.twiml.voice_response import VoiceResponse

from inbox.core.errors import ChannelError, PermissionDenied, ValidationError
from inbox.core.model import (
    ChannelKind,
    Conversation,
    ConversationId,
    ConversationStatus,
    Role,
    User,
)
from inbox.core.numbers import parse_number
from inbox.core.phone import CallDirection
from inbox.core.voice import CALL_STATUS_RANK, DIAL_STATUSES, DialResult, dial_result
from inbox.web.access import readable_conversation
from inbox.web.server import SERVICES, ApiError, Services, json_body, parse_id
from inbox.web.sms_hooks import MAX_SID_CHARS, required
from inbox.web.twilio_auth import signed_form

log = logging.getLogger(__name__)

VOICE_PATH = "/webhooks/twilio/voice"
DIALED_PATH = "/webhooks/twilio/voice/dialed"
STATUS_PATH = "/webhooks/twilio/voice/status"
BRIDGE_PATH = "/webhooks/twilio/voice/bridge"
MAX_DURATION_S = 86400
# Twilio's CallStatus values (the dial results are ours, never in a status callback)
TRACKED = frozenset(CALL_STATUS_RANK) - {r.value for r in DialResult}


def twiml(response: VoiceResponse) -> web.Response:
    return web.Response(text=str(response), content_type="text/xml", charset="utf-8")


def _sid(form: MultiDictProxy[str]) -> str:
    sid = required(form, "CallSid")
    if len(sid) > MAX_SID_CHARS:
        raise ValidationError(f"at most {MAX_SID_CHARS} characters", field="CallSid")
    return sid


def _duration(form: MultiDictProxy[str], name: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_DURATION_S:
        raise ValidationError(f"whole seconds from 0 to {MAX_DURATION_S}", field=name)
    return int(text)


def missed(services: Services) -> web.Response:
    """What a caller nobody answered hears: the configured neutral words, then the line ends."""
    response = VoiceResponse()
    response.say(services.settings.voice.missed_message, language="ja-JP")
    response.hangup()
    return twiml(response)


async def incoming_call(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    voice = services.settings.voice
    form = await signed_form(request, voice.auth_token)
    sid, status = _sid(form), form.get("CallStatus", "ringing")[:20] or "ringing"
    change = await services.voice.arrived(sid, status, form.get("From"))
    if not voice.forward_to or change.call.call_status == DialResult.MISSED.value:
        await services.voice.advance(sid, DialResult.MISSED.value, None, form.get("From"))
        return missed(services)
    response = VoiceResponse()
    dial = response.dial(
        timeout=voice.ring_s, action=services.settings.base_url + DIALED_PATH, method="POST"
    )
    for number in voice.forward_to:
        dial.number(number)
    return twiml(response)


async def dialed(request: web.Request) -> web.Response:
    """<Dial>'s end: answered or not. On her call in nobody answered, she hears missed_message
    and the call becomes a callback; the desk's call out just ends."""
    services = request.app[SERVICES]
    form = await signed_form(request, services.settings.voice.auth_token)
    sid, dial_status = _sid(form), required(form, "DialCallStatus")
    if dial_status not in DIAL_STATUSES:
        raise ValidationError(f"one of {', '.join(sorted(DIAL_STATUSES))}", field="DialCallStatus")
    result = dial_result(dial_status)
    duration = _duration(form, "DialCallDuration")
    change = await services.voice.advance(sid, result.value, duration, form.get("From"))
    inbound = change is None or change.call.direction is CallDirection.INBOUND
    if result is DialResult.MISSED and inbound:
        return missed(services)
    response = VoiceResponse()
    response.hangup()
    return twiml(response)


async def call_status(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await signed_form(request, services.settings.voice.auth_token)
    sid, status = _sid(form), required(form, "CallStatus")
    if status not in TRACKED:  # Twilio's statuses are all tracked today; a new one is not
        log.info("call status not tracked", extra={"action": "call_status_ignored"})
        return twiml(VoiceResponse())
    await services.voice.advance(sid, status, _duration(form, "CallDuration"), form.get("From"))
    return twiml(VoiceResponse())


async def bridge(request: web.Request) -> web.Response:
    """Staff answered the desk's call to her own phone: connect her to the consulter. Her
    number is in this TwiML to Twilio only."""
    services = request.app[SERVICES]
    voice = services.settings.voice
    await signed_form(request, voice.auth_token)
    call_id = parse_id(request.query.get("call", ""))
    if call_id is None:
        raise ValidationError("a call id", field="call")
    found = await services.store.get_call(call_id)
    address = None
    if found.direction is CallDirection.OUTBOUND and found.conversation_id is not None:
        address = await services.store.contact_address(found.conversation_id)
    response = VoiceResponse()
    if address is None or address.channel is not ChannelKind.PHONE or not address.address:
        log.warning("bridge without a number", extra={"action": "call_bridge_refused"})
        response.hangup()
        return twiml(response)
    dial = response.dial(
        caller_id=voice.program_number,
        action=services.settings.base_url + DIALED_PATH,
        method="POST",
    )
    dial.number(address.address)
    log.info("call bridged", extra={"action": "call_bridged", "call_id": call_id})
    return twiml(response)


async def dial_out(request: web.Request) -> web.Response:
    """POST /api/conversations/{id}/dial {"staff_number"}: click-to-call on a phone
    conversation (phone staff, supervisors) inside her call window. 201 {"call": id}."""
    user, conv = await readable_conversation(request)
    if not user.has_any(Role.PHONE_STAFF, Role.SUPERVISOR):
        raise PermissionDenied("this needs the role phone_staff or supervisor")
    services = request.app[SERVICES]
    settings = services.settings
    if not settings.voice.enabled or services.placer is None:
        raise ApiError(409, "voice_not_configured", "Twilio Voice is not configured")
    raw = (await json_body(request)).get("staff_number")
    if not isinstance(raw, str):
        raise ValidationError("required, your phone's number as a string", field="staff_number")
    staff_number = parse_number(raw, region=settings.sms.default_region, field="staff_number")
    address = None
    if conv.channel is ChannelKind.PHONE:
        address = await services.store.contact_address(ConversationId(conv.id))
    if address is None or address.channel is not ChannelKind.PHONE or not address.address:
        raise ApiError(409, "no_phone_number", "this conversation has no phone number to call")
    window = await services.store.call_window_of(ConversationId(conv.id))
    if not services.voice.may_call_now(window):
        raise ApiError(409, "outside_call_window", "her call window does not allow a call now")
    await _claim(services, user, conv)
    try:
        placed = await services.voice.dial(
            ConversationId(conv.id),
            staff_number.e164,
            staff=user.id,
            from_=settings.voice.program_number,
            bridge_url=settings.base_url + BRIDGE_PATH,
            status_callback=settings.base_url + STATUS_PATH,
        )
    except ChannelError as exc:
        raise ApiError(502, "call_failed", str(exc)) from None
    return web.json_response({"call": placed.id}, status=201)


async def _claim(services: Services, user: User, conv: Conversation) -> None:
    """Dialing works the callback: it becomes hers (the claim path of POST .../assign), so
    routing offers it to nobody else while she is on the call. Another's (assigned or offered)
    is refused. A supervisor who is not phone staff calls without taking it (the store gives
    phone conversations to phone staff only). Her own capacity does not stop the call: she is
    making it now, which is what the capacity limits."""
    if conv.assignee_id is not None and conv.assignee_id != user.id:
        raise ApiError(409, "callback_taken", "another staff member has this callback")
    if not user.has_any(Role.PHONE_STAFF) or conv.status is ConversationStatus.CLOSED:
        return
    if conv.assignee_id == user.id and conv.status is not ConversationStatus.QUEUED:
        return  # hers already
    await services.commands.conversations.assign(
        ConversationId(conv.id), user.id, actor=user.id, capacity=None
    )


def add_routes(app: web.Application, *, enabled: bool) -> None:
    """The webhooks only with [voice] enabled; the dial API always (409 without voice)."""
    if enabled:
        app.router.add_post(VOICE_PATH, incoming_call)
        app.router.add_post(DIALED_PATH, dialed)
        app.router.add_post(STATUS_PATH, call_status)
        app.router.add_post(BRIDGE_PATH, bridge)
    app.router.add_post("/api/conversations/{id}/dial", dial_out)
