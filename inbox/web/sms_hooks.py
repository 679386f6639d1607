"""Twilio's SMS webhooks: a consulter's text message in, and the status of the replies we sent.

Each request is checked by its signature first (inbox.web.twilio_auth). An incoming message is
answered only after the intake has committed it. Twilio retries a failed webhook only when
its URL asks for it (connection overrides, `#rc=3&rp=5xx,ct,rt`; see the README), and a
retry carries the same MessageSid, which the store keeps once ((channel, external_id)).
STOP / START change whether she may be written to (set by the intake with the message, see
inbox.sms_labels); HELP is answered in the TwiML itself.
The message is stored in every case, so her counselor sees what she wrote and why; but a digit
1-4 that answers her open satisfaction survey is only counted (storage.surveys), not a message.
Its MessageSid is kept then, without her number or the answer (channel_events, kind
survey_answer), in the answer's transaction: a redelivery of it is answered with the same empty
TwiML and stores nothing (it would otherwise become a message, her answer shown and tied to her).
"""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from aiohttp import web
from multidict import MultiDictProxy

from inbox.core.errors import ValidationError
from inbox.core.model import NEW_SENDER, ChannelKind, InboundMessage, OutboxId
from inbox.core.numbers import trusted_e164
from inbox.core.sms import PROVIDER_STATUS_RANK, Keyword, OptOutWords
from inbox.core.survey import digit_answer
from inbox.core.text import storable
from inbox.web.server import SERVICES, Services
from inbox.web.twilio_auth import signed_form

log = logging.getLogger(__name__)

SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/sms/status"
_XML = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY_TWIML = f"{_XML}<Response/>"
OPT_OUT_WORDS = web.AppKey("sms_opt_out_words", OptOutWords)
MAX_SID_CHARS = 64  # Twilio's SIDs are 34; anything far longer is not one


def twiml(reply: str | None = None) -> web.Response:
    """TwiML answering Twilio: empty, or one SMS back to her."""
    text = (
        EMPTY_TWIML
        if reply is None
        else f"{_XML}<Response><Message>{escape(reply)}</Message></Response>"
    )
    return web.Response(text=text, content_type="text/xml", charset="utf-8")


def required(form: MultiDictProxy[str], name: str, *, empty: bool = False) -> str:
    """Field `name` of Twilio's form; 400 naming it when it is missing (or empty, unless
    `empty` allows that, as for the Body of a picture-only message)."""
    value = form.get(name)
    if value is None or (not empty and not value.strip()):
        raise ValidationError("required", field=name)
    return value


def _sid(form: MultiDictProxy[str]) -> str:
    sid = required(form, "MessageSid")
    if len(sid) > MAX_SID_CHARS:
        raise ValidationError(f"at most {MAX_SID_CHARS} characters", field="MessageSid")
    return sid


async def incoming_sms(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    sms = services.settings.sms
    form = await signed_form(request, sms.auth_token)
    sid, body = _sid(form), required(form, "Body", empty=True)
    # Twilio writes From in E.164 already: kept when merely possible, so that a number
    # phonenumbers' metadata does not know yet is not refused (and her text lost).
    sender = trusted_e164(required(form, "From"), region=sms.default_region, field="From").e164
    if await _survey_answered(services, sid, sender, body):
        return twiml()  # her answer to the survey (or its redelivery): no message, no one alerted
    msg = InboundMessage(
        channel=ChannelKind.SMS,
        external_id=storable(sid),
        sender=sender,
        body=storable(body),  # the same words on both databases (no NUL, no lone surrogate)
        received_at=services.clock(),
    )
    # IntakeBusy: 503, and Twilio may try again (see the README on its retries). A STOP or
    # START is applied by the intake itself, in the transaction that stores the text
    # (inbox.sms_labels): committed together or not at all.
    stored = await services.intake.offer(msg)
    keyword = request.app[OPT_OUT_WORDS].classify(body)
    if keyword is Keyword.HELP:
        identity = services.intake.identity_of(ChannelKind.SMS, sender)
        return twiml(await _help_reply(services, identity))
    if keyword is not None:
        log.info(
            "SMS opt-out keyword stored with its effect",
            extra={
                "action": "sms_opted_out" if keyword is Keyword.STOP else "sms_opted_in",
                "conversation_id": stored.conversation_id,
            },
        )
    return twiml()


async def _survey_answered(services: Services, sid: str, sender: str, body: str) -> bool:
    """Her text is exactly a digit 1-4 and answers her survey still open: asked on this number
    within [survey].answer_hours, and she has written nothing since (its conversation is still
    her latest, closed). Counted apart from her; any other text is a message as always. True
    also when this MessageSid answered before (Twilio's retry): nothing more is stored."""
    surveys, answer = services.surveys, digit_answer(body)
    if surveys is None or answer is None:
        return False
    now = services.clock()
    answered = await services.store.answer_open_survey(
        ChannelKind.SMS,
        services.intake.identity_of(ChannelKind.SMS, sender),
        answer,
        on_day=surveys.day(now),
        asked_since=surveys.asked_since(ChannelKind.SMS, now),
        latest_closed=True,
        event_id=storable(sid),
    )
    if answered:
        log.info("survey answered", extra={"action": "survey_answered", "channel": "sms"})
    return answered


async def _help_reply(services: Services, identity: str) -> str | None:
    """The configured help text, unless she must be sent nothing: she opted out, or she asked
    for discretion (no automatic SMS, ever: someone else may read her phone)."""
    if not services.settings.sms.help_reply or await services.store.is_opted_out(identity):
        return None
    key = (ChannelKind.SMS, identity)
    if (await services.store.contact_facts([key])).get(key, NEW_SENDER).discretion:
        return None
    return services.settings.sms.help_reply


def _error_code(form: MultiDictProxy[str]) -> int | None:
    text = form.get("ErrorCode", "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise ValidationError("expected Twilio's numeric error code", field="ErrorCode")
    return int(text)


def _outbox_id(request: web.Request) -> OutboxId | None:
    """The outbox id our status callback URL carries (channels.sms.status_callback); None on
    the URL of replies sent before it did, which are found by their MessageSid."""
    text = request.query.get("outbox")
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationError("expected our outbox id", field="outbox")
    return OutboxId(int(text))


async def sms_status(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await signed_form(request, services.settings.sms.auth_token)  # query signed too
    sid, status = _sid(form), required(form, "MessageStatus")
    code, outbox_id = _error_code(form), _outbox_id(request)
    if status not in PROVIDER_STATUS_RANK:
        # Twilio has statuses we do not track (read, canceled, ...): answered, not retried.
        log.info(
            "SMS status not tracked", extra={"action": "sms_status_ignored", "status": status[:20]}
        )
        return twiml()
    if await services.store.record_provider_status(
        sid, status, code, now=services.clock(), outbox_id=outbox_id
    ):
        services.on_event()
    else:
        # An unknown MessageSid (not ours, or from before a restore) or an older status than
        # the one stored: 200 all the same, or a retrying Twilio would retry it for nothing.
        log.info(
            "SMS status changed nothing",
            extra={"action": "sms_status_unchanged", "status": status, "error_code": code},
        )
    return twiml()


def add_routes(app: web.Application) -> None:
    app[OPT_OUT_WORDS] = app[SERVICES].settings.sms.opt_out_words  # folded once, not per text
    app.router.add_post(SMS_PATH, incoming_sms)
    app.router.add_post(STATUS_PATH, sms_status)
