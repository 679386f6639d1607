"""LINE's webhook: a consulter's messages, follows, unfollows and postbacks.

The signature (X-Line-Signature) is checked over the raw bytes before anything is read from
them; a missing or forged one gets 403 and nothing is stored. The answer is 200 only once every
event is durably stored: the messages through the one intake (a redelivered message keeps its
LINE message id, which the store keeps once), the other events by their webhookEventId. The
LINE console's verification request (no events) gets 200.

Her reply token is stored by the intake with her message, so that an automatic reply queued by
its commit can use it (a reply costs no quota; a push does). Files are fetched from the content
API while LINE waits, each within [line].content_timeout_s and max_content_bytes, all at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from aiohttp import web

from channels.line import Content, LineChannel, not_kept
from channels.line_signature import SIGNATURE_HEADER, valid_line_signature
from inbox.core.errors import StorageError
from inbox.core.line import (
    CONTENT_KINDS,
    DEFAULT_TYPES,
    ChannelEvent,
    LineMessage,
    LineOther,
    LocationPolicy,
    Webhook,
    attachment_name,
    message_text,
    parse_webhook,
)
from inbox.core.model import (
    Anonymity,
    Attachment,
    ChannelKind,
    ConversationId,
    InboundMessage,
    ReplyToken,
)
from inbox.core.survey import SurveyAnswer, parse_postback
from inbox.core.text import storable
from inbox.line_config import LineConfig
from inbox.web.server import SERVICES, ApiError, Services

log = logging.getLogger(__name__)
LINE = ChannelKind.LINE
CONTENT_AT_ONCE = 4


async def line_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    settings = services.settings.line
    body = await request.read()
    if not valid_line_signature(
        settings.channel_secret, body, request.headers.get(SIGNATURE_HEADER)
    ):
        reason = "missing" if SIGNATURE_HEADER not in request.headers else "does not match"
        log.warning(
            "LINE webhook refused: signature",
            extra={"action": "line_signature_refused", "reason": reason},
        )
        raise ApiError(403, "line_signature", f"X-Line-Signature {reason}; nothing was stored")
    hook = parse_webhook(body)  # ValidationError: 400 naming the field
    if hook.messages or hook.others:
        await _store(services, hook)
    log.info(
        "LINE webhook stored",
        extra={
            "action": "line_webhook",
            "messages": len(hook.messages),
            "events": len(hook.others),
            "ignored": hook.ignored,
        },
    )
    return web.Response(status=200)


async def _store(services: Services, hook: Webhook) -> None:
    """Every event, run by run in body order (a follow before her message unblocks her before
    the message's auto-reply is queued); then, where she is identified, her name."""
    now = services.clock()
    fresh: list[tuple[str, ConversationId]] = []
    for run in hook.runs():
        if isinstance(run[0], LineMessage):
            fresh += await _store_messages(services, run, now)
        else:
            await _store_events(services, run, now)
    # Only where LINE consulters are identified by default (a read per new message otherwise,
    # on the hot path); her own setting may still say no.
    identified = services.settings.anonymity.mode(LINE, None) is Anonymity.IDENTIFIED
    if fresh and identified and services.line is not None:
        await _remember_names(services, services.line, fresh)


async def _store_messages(
    services: Services, messages: tuple[LineMessage, ...], now: datetime
) -> list[tuple[str, ConversationId]]:
    """Stored through the intake; (user id, conversation) of each new one."""
    contents = await _contents(services, messages)
    location = LocationPolicy(services.settings.line.location)
    msgs = [
        InboundMessage(
            channel=LINE,
            external_id=m.message_id,
            sender=m.user_id,
            body=storable(message_text(m, location)),
            # LINE's time of a redelivered event is when she wrote; never ahead of ours
            received_at=min(m.at, now),
            attachments=contents.get(m.message_id, ()),
            reply_token=_reply_token(services.settings.line, m.reply_token, m.at, now),
        )
        for m in messages
    ]
    # IntakeBusy: 503; LINE redelivers when the channel's webhook redelivery is on.
    answers = await services.intake.offer_many(msgs)
    return [
        (m.user_id, a.conversation_id)
        for m, a in zip(messages, answers, strict=True)
        if not a.duplicate
    ]


async def _store_events(services: Services, others: tuple[LineOther, ...], now: datetime) -> None:
    identity_of = services.intake.identity_of
    await _keep_event_tokens(services, others, now)
    await services.store.keep_channel_events(
        LINE,
        [
            _survey_event(services, e, now)
            or ChannelEvent(
                event_id=e.event_id,
                kind=e.kind,
                at=min(e.at, now),
                identity_hash=identity_of(LINE, e.user_id),
                data=e.data,
            )
            for e in others
        ],
    )
    services.on_event()


def _survey_event(services: Services, e: LineOther, now: datetime) -> ChannelEvent | None:
    """A postback of the survey's quick reply: kept (by its event id, so that a redelivery
    counts nothing) without her identity or its data, and her answer recorded with it where its
    token opens a survey still unanswered; a forged or changed token finds none and counts
    nothing. None for any other event (another postback is kept on her conversation)."""
    parsed = parse_postback(e.data)  # survey=<token>&a=<1-4>: nothing else is taken for one
    if parsed is None:
        return None
    surveys, (token, answer) = services.surveys, parsed
    survey = None
    if surveys is not None:
        survey = SurveyAnswer(
            channel=LINE,
            answer=answer,
            on_day=surveys.day(now),
            asked_since=surveys.asked_since(LINE, now),
            token_hash=surveys.token_hash(token),
        )
    return ChannelEvent(
        event_id=e.event_id, kind=e.kind, at=min(e.at, now), identity_hash="", survey=survey
    )


def _reply_token(
    settings: LineConfig, token: str | None, at: datetime, now: datetime
) -> ReplyToken | None:
    """Her token while it is worth keeping: LINE honours it about a minute after her event (a
    redelivered event's has usually gone); used up to reply_token_s after it."""
    until = at + timedelta(seconds=settings.reply_token_s)
    return ReplyToken(token, until) if token is not None and until > now else None


async def _keep_event_tokens(
    services: Services, others: tuple[LineOther, ...], now: datetime
) -> None:
    """A follow's or postback's token (a message's is kept by the intake, with it)."""
    for e in others:
        kept = _reply_token(services.settings.line, e.reply_token, e.at, now)
        if kept is not None:
            identity = services.intake.identity_of(LINE, e.user_id)
            await services.store.keep_reply_token(
                LINE, identity, kept.token, expires_at=kept.expires_at
            )


async def _contents(
    services: Services, messages: tuple[LineMessage, ...]
) -> dict[str, tuple[Attachment, ...]]:
    """Each file's content, fetched at once; what cannot be kept is listed as not kept."""
    line = services.line
    limit = services.settings.line.max_content_bytes
    wanted = [m for m in messages if m.kind in CONTENT_KINDS]
    if not wanted:
        return {}

    # A few at a time: a body may list many files, each up to max_content_bytes held whole.
    gate = asyncio.Semaphore(CONTENT_AT_ONCE)

    async def one(m: LineMessage) -> Content:
        name, kind = attachment_name(m), DEFAULT_TYPES.get(m.kind, "application/octet-stream")
        if line is None or m.external_content:
            return not_kept(name, kind, m.file_size or 0, "content not held by LINE")
        if m.file_size is not None and m.file_size > limit:
            return not_kept(name, kind, m.file_size, "larger than the limit")
        async with gate:
            return await line.content(m.message_id, name=name, content_type=kind)

    fetched = await asyncio.gather(*(one(m) for m in wanted))
    for got in fetched:
        if got.reason is not None:
            log.info(
                "LINE content not kept",
                extra={"action": "line_content_not_kept", "reason": got.reason},
            )
    return {m.message_id: (got.attachment,) for m, got in zip(wanted, fetched, strict=True)}


async def _remember_names(
    services: Services, line: LineChannel, fresh: list[tuple[str, ConversationId]]
) -> None:
    """Her LINE display name, asked once, only where she is identified (LINE's mode in
    [privacy], unless her own setting says otherwise). Everything is stored by now: a failure
    here costs the name only, never the 200 (LINE would send again what is kept already)."""
    for user_id, conv in dict(fresh).items():
        try:
            contact = await services.store.contact_address(conv)
            mode = services.settings.anonymity.mode(LINE, contact.anonymity)
            if mode is not Anonymity.IDENTIFIED or contact.display_name is not None:
                continue
            name = await line.display_name(user_id)
            if name:
                await services.store.set_display_name(
                    LINE, services.intake.identity_of(LINE, user_id), name
                )
        except StorageError as exc:
            log.warning(
                "LINE display name not kept",
                extra={"action": "line_name_not_kept", "error": type(exc).__name__},
            )


def add_routes(app: web.Application) -> None:
    app.router.add_post(app[SERVICES].settings.line.webhook_path, line_webhook)
