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

from inbox.commands.voice import DialTimeout
from inbox.core.errors import ChannelError, Conflict, PermissionDenied, ValidationError
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
from inbox.core.voice import BRIDGED, CALL_STATUS_RANK, DIAL_STATUSES, DialResult, dial_result
from inbox.sms_config import VoiceConfig
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
TRACKED = frozenset(CALL_STATUS_RANK) - {r.value for r in DialResult} - {BRIDGED}
# What staff hear on her own phone before the desk connects her: a key press proves a person
# answered (a voicemail that picks up presses nothing, so the consulter is never put to it).
BRIDGE_PROMPT = "相談者におつなぎします。1を押してください。"
BRIDGE_NO_KEY = "おつなぎしませんでした。"
BRIDGE_GATHER_S = 10


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


def _store_failed(exc: Exception) -> None:
    """A webhook's store write failed; her call goes on (TwiML all the same). The type alone:
    a driver's message may quote the number."""
    log.error("call not stored", extra={"action": "call_store_failed", "error": type(exc).__name__})


def missed(services: Services) -> web.Response:
    """What a caller nobody answered hears: the configured neutral words, then the line ends."""
    response = VoiceResponse()
    response.say(services.settings.voice.missed_message, language="ja-JP")
    response.hangup()
    return twiml(response)


async def incoming_call(request: web.Request) -> web.Response:
    """Her call: the desk's phones ring (showing the program's number unless
    voice.show_caller_number), or she hears missed_message. A store failure still answers
    TwiML (else she hears Twilio's English "application error"): logged, the call goes on."""
    services = request.app[SERVICES]
    voice = services.settings.voice
    form = await signed_form(request, voice.auth_token)
    sid, status = _sid(form), form.get("CallStatus", "ringing")[:20] or "ringing"
    try:
        change = await services.voice.arrived(sid, status, form.get("From"))
        if not voice.forward_to or change.call.call_status == DialResult.MISSED.value:
            await services.voice.advance(sid, DialResult.MISSED.value, None, form.get("From"))
            return missed(services)
    except Exception as exc:  # noqa: BLE001  (any failure: she must still hear something)
        _store_failed(exc)
        if not voice.forward_to:
            return missed(services)
    response = VoiceResponse()
    dial = response.dial(
        timeout=voice.ring_s,
        action=services.settings.base_url + DIALED_PATH,
        method="POST",
        caller_id=None if voice.show_caller_number else voice.program_number,
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
    call_id = _call_id(request, required=False)
    try:
        change = await services.voice.advance(
            sid, result.value, duration, form.get("From"), call_id=call_id
        )
    except Exception as exc:  # noqa: BLE001  (she still hears the right words, not an error)
        _store_failed(exc)
        change = None
    inbound = call_id is None if change is None else change.call.direction is CallDirection.INBOUND
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
    await services.voice.advance(
        sid,
        status,
        _duration(form, "CallDuration"),
        form.get("From"),
        call_id=_call_id(request, required=False),
    )
    return twiml(VoiceResponse())


def _call_id(request: web.Request, *, required: bool) -> int | None:
    """The desk's call out named by id in our URL (`?call=`); inbound calls have none."""
    text = request.query.get("call")
    if text is None and not required:
        return None
    call_id = parse_id(text or "")
    if call_id is None:
        raise ValidationError("a call id", field="call")
    return call_id


async def bridge(request: web.Request) -> web.Response:
    """Staff's own phone answered the desk's call out. First (no step) a prompt: press 1;
    then (step=connect) on Digits=1 only, the <Dial> that connects her to the consulter,
    served once per call, for this call's CallSid while it is live. Her number is in this
    TwiML to Twilio only."""
    services = request.app[SERVICES]
    voice = services.settings.voice
    form = await signed_form(request, voice.auth_token)
    sid = _sid(form)
    call_id = _call_id(request, required=True)
    assert call_id is not None
    response = VoiceResponse()
    if request.query.get("step") != "connect":
        found = await services.store.get_call(call_id)
        if (
            found.call_sid != sid
            or CALL_STATUS_RANK.get(found.call_status or "", 0) >= (CALL_STATUS_RANK[BRIDGED])
        ):
            log.warning("bridge refused", extra={"action": "call_bridge_refused"})
            response.hangup()
            return twiml(response)
        gather = response.gather(
            num_digits=1,
            action=f"{services.settings.base_url}{BRIDGE_PATH}?call={call_id}&step=connect",
            method="POST",
            timeout=BRIDGE_GATHER_S,
        )
        gather.say(BRIDGE_PROMPT, language="ja-JP")
        response.say(BRIDGE_NO_KEY, language="ja-JP")  # no key pressed in time
        response.hangup()
        return twiml(response)
    if form.get("Digits") != "1":
        response.say(BRIDGE_NO_KEY, language="ja-JP")
        response.hangup()
        return twiml(response)
    found = await services.store.get_call(call_id)
    address = None
    if found.direction is CallDirection.OUTBOUND and found.conversation_id is not None:
        address = await services.store.contact_address(found.conversation_id)
    if address is None or address.channel is not ChannelKind.PHONE or not address.address:
        log.warning("bridge without a number", extra={"action": "call_bridge_refused"})
        response.hangup()
        return twiml(response)
    if await services.voice.bridge(call_id, sid) is None:  # replayed, another call's, or over
        response.hangup()
        return twiml(response)
    dial = response.dial(
        caller_id=voice.program_number,
        action=f"{services.settings.base_url}{DIALED_PATH}?call={call_id}",
        method="POST",
    )
    dial.number(address.address)
    log.info("call bridged", extra={"action": "call_bridged", "call_id": call_id})
    return twiml(response)


async def dial_out(request: web.Request) -> web.Response:
    """POST /api/conversations/{id}/dial {"staff_number": <a desk phone's id>}: click-to-call
    on a phone conversation (phone staff, supervisors) inside her call window, ringing one of
    the desk's own phones (voice.staff_phones; GET /api/phone/settings lists them as
    desk_phones). 201 {"call": id}."""
    user, conv = await readable_conversation(request)
    if not user.has_any(Role.PHONE_STAFF, Role.SUPERVISOR):
        raise PermissionDenied("this needs the role phone_staff or supervisor")
    services = request.app[SERVICES]
    settings = services.settings
    if not settings.voice.enabled or services.placer is None:
        raise ApiError(409, "voice_not_configured", "Twilio Voice is not configured")
    staff_number = desk_phone(
        settings.voice, settings.sms.default_region, (await json_body(request)).get("staff_number")
    )
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
            staff_number,
            staff=user.id,
            from_=settings.voice.program_number,
            bridge_url=settings.base_url + BRIDGE_PATH,
            status_callback=settings.base_url + STATUS_PATH,
        )
    except DialTimeout as exc:
        raise ApiError(504, "call_timeout", str(exc)) from None
    except ChannelError as exc:
        raise ApiError(502, "call_failed", str(exc)) from None
    return web.json_response({"call": placed.id}, status=201)


def desk_phone(voice: VoiceConfig, region: str, raw: object) -> str:
    """The E.164 number of the desk phone the request names: its id (index in desk_phones),
    its label, or its very number. Nothing else is rung: not any number a request carries."""
    phones = [(p.label, parse_number(p.number, region=region).e164) for p in voice.desk_phones]
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(phones):
        return phones[raw][1]
    if isinstance(raw, str) and raw.strip():
        for label, number in phones:
            if raw.strip() == label:
                return number
        try:
            asked = parse_number(raw, region=region, field="staff_number").e164
        except ValidationError:
            asked = None
        if asked is not None and any(number == asked for _, number in phones):
            return asked
    raise ValidationError(
        "one of the desk's phones: an id from GET /api/phone/settings desk_phones",
        field="staff_number",
    )


def _taken() -> ApiError:
    return ApiError(409, "callback_taken", "another staff member has this callback")


async def _claim(services: Services, user: User, conv: Conversation) -> None:
    """Dialing works the callback: it becomes hers (the claim path of POST .../assign), so
    routing offers it to nobody else while she is on the call. Another's (assigned or offered)
    is refused. A supervisor who is not phone staff calls without taking it (the store gives
    phone conversations to phone staff only). Her capacity is not checked: she is making
    this call now, whatever else she holds."""
    if conv.assignee_id is not None and conv.assignee_id != user.id:
        raise _taken()
    if not user.has_any(Role.PHONE_STAFF) or conv.status is ConversationStatus.CLOSED:
        return
    if conv.assignee_id == user.id and conv.status is not ConversationStatus.QUEUED:
        return  # hers already
    try:
        await services.commands.conversations.assign(
            ConversationId(conv.id), user.id, actor=user.id, capacity=None, unclaimed=True
        )
    except Conflict:
        # refused under the lock: taken by someone else meanwhile (else closed, or the like)
        fresh = await services.store.get_conversation(ConversationId(conv.id))
        if fresh.assignee_id not in (None, user.id):
            raise _taken() from None
        raise


def add_routes(app: web.Application, *, enabled: bool) -> None:
    """The webhooks only with [voice] enabled; the dial API always (409 without voice)."""
    if enabled:
        app.router.add_post(VOICE_PATH, incoming_call)
        app.router.add_post(DIALED_PATH, dialed)
        app.router.add_post(STATUS_PATH, call_status)
        app.router.add_post(BRIDGE_PATH, bridge)
    app.router.add_post("/api/conversations/{id}/dial", dial_out)
