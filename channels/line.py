"""Replies through the LINE Messaging API with line-bot-sdk's async client, and what the webhook
fetches from it: the content of an image, video, audio clip or file, the account's quota, the
"typing" indicator, a profile where the program identifies consulters.

A reply goes with her reply token while one is kept and valid (reply messages do not count
against the monthly quota; push messages do), else by push with an X-Line-Retry-Key made from
the message, so that a push retried after a lost answer is not delivered twice (LINE answers
409 for a key it accepted, and that is a success here). A reply that failed without an answer
may have been delivered; its retry goes by push, since the token is spent either way.

Errors become ChannelError: 429 and 5xx are retried; a 400's message and details are kept
(they name properties, never the recipient) and shown to the counselor. Nothing here logs an
id, a token or a text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)

from inbox.core.errors import ChannelError
from inbox.core.model import Attachment, ChannelKind, OutboundMessage, SurveyAsk
from inbox.core.survey import postback_data, quick_labels

log = logging.getLogger(__name__)

MAX_TEXT = 5000  # characters in one LINE text message
MAX_MESSAGES = 5  # messages in one reply or push request
# Retry keys are UUIDs; made from the message so every attempt at it carries the same one.
RETRY_KEY_NAMESPACE = uuid.UUID("6f1d2a8e-3c5b-4e7f-9a1d-2b3c4d5e6f70")
INVALID_REPLY_TOKEN = "Invalid reply token"
MONTHLY_LIMIT = "monthly limit"  # LINE's 429 "You have reached your monthly limit."
CHUNK = 64 * 1024

TakeToken = Callable[[str], Awaitable[str | None]]  # her address -> her valid reply token


@dataclass(frozen=True, slots=True, kw_only=True)
class LineSettings:
    access_token: str = field(repr=False)
    api_url: str = "https://api.line.me"
    data_api_url: str = "https://api-data.line.me"
    max_content_bytes: int = 10 * 1024 * 1024
    content_timeout_s: float = 5.0
    loading_seconds: int = 20
    # A reply's answer is awaited this long (below the outbox's send timeout): past it, the
    # channel knows the outcome is unknown and says so instead of the outbox retrying by push.
    reply_timeout_s: float = 8.0
    api_timeout_s: float = 10.0  # quota, profile, loading: asked on the side, never long


@dataclass(frozen=True, slots=True)
class LineQuota:
    limit: int | None  # messages a month; None: no limit (type "none")
    used: int  # pushed this month


@dataclass(frozen=True, slots=True)
class Content:
    """A message's content: `attachment.content` is None when it was not kept, and `reason`
    says why (for the log and the counselor, never an id)."""

    attachment: Attachment
    reason: str | None = None


def line_error(message: str, *, retryable: bool) -> ChannelError:
    return ChannelError(message, channel=ChannelKind.LINE, retryable=retryable)


def unknown_outcome(what: str) -> ChannelError:
    return line_error(
        f"line reply: no answer ({what}); it may have reached her, read her chat before"
        " writing again",
        retryable=False,
    )


def unreachable(exc: BaseException) -> ChannelError:
    return line_error(f"line unreachable: {type(exc).__name__}; retry", retryable=True)


def api_error(exc: ApiException) -> ChannelError:
    """LINE's refusal as a ChannelError; a 400 keeps LINE's message and details."""
    status = int(exc.status or 0)
    if status == 429 and MONTHLY_LIMIT in str(exc.body):
        # not a rate limit: nothing more can be pushed this month (replies still go)
        return line_error(
            "line quota: the account's monthly message limit is reached", retryable=False
        )
    if status == 429:
        return line_error("line 429: rate limited; retry", retryable=True)
    if status >= 500 or status == 0:
        return line_error(f"line {status}: server error; retry", retryable=True)
    if status in (401, 403):
        return line_error(
            f"line {status}: the channel access token was refused; check [line] and"
            " its access_token_env",
            retryable=False,
        )
    return line_error(f"line {status}: {refusal_text(exc.body)}", retryable=False)


def refusal_text(body: object) -> str:
    """LINE's error answer as one line: its message and each detail's property and message."""
    try:
        doc = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return "refused"
    text = str(doc.get("message") or "refused")
    details = doc.get("details")
    if isinstance(details, list):
        parts = [
            f"{d.get('property', '')}: {d.get('message', '')}".strip(": ")
            for d in details
            if isinstance(d, dict)
        ]
        if parts:
            text += " (" + "; ".join(parts) + ")"
    return text[:500]


def retry_key(msg: OutboundMessage) -> str:
    """The same key for every attempt at this message, and a different one for any other."""
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, f"{msg.message_id}:{msg.created_at}"))


def text_messages(body: str) -> list[TextMessage]:
    """The reply as LINE text messages of at most MAX_TEXT characters each."""
    chunks = [body[i : i + MAX_TEXT] for i in range(0, len(body), MAX_TEXT)] or [""]
    if len(chunks) > MAX_MESSAGES:
        raise line_error(
            f"too long for LINE: at most {MAX_TEXT * MAX_MESSAGES} characters", retryable=False
        )
    return [TextMessage(text=chunk) for chunk in chunks]


def with_survey(messages: list[TextMessage], survey: SurveyAsk | None) -> list[TextMessage]:
    """The survey's question with its answers as a quick reply of postbacks on its last text:
    each postback's data is the token that stands for her conversation and the answer (never
    the conversation's id)."""
    if survey is None or not survey.token:
        return messages
    items = [
        QuickReplyItem(
            action=PostbackAction(
                label=label, data=postback_data(survey.token, n), display_text=words
            )
        )
        for n, label, words in quick_labels(survey.language)
    ]
    last = messages[-1]
    asked = TextMessage(text=last.text, quick_reply=QuickReply(items=items))
    return [*messages[:-1], asked]


def sent_id(response: Any, headers: Any) -> str | None:
    """LINE's id of the (first) message sent, else the request id it answered with; None
    when it names neither (it was sent all the same: a 2xx)."""
    sent = getattr(response, "sent_messages", None) or []
    if sent and getattr(sent[0], "id", None):
        return str(sent[0].id)
    request_id = (headers or {}).get("x-line-request-id") if headers else None
    return f"request:{request_id}" if request_id else None


class LineChannel:
    """The Channel for LINE. `__aenter__` opens the SDK's client and a session for content."""

    kind = ChannelKind.LINE

    def __init__(self, settings: LineSettings, take_token: TakeToken) -> None:
        self._settings = settings
        self._take_token = take_token
        self._client: AsyncApiClient | None = None
        self._api: AsyncMessagingApi | None = None
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        conf = Configuration(host=self._settings.api_url, access_token=self._settings.access_token)
        self._client = AsyncApiClient(conf)
        self._api = AsyncMessagingApi(self._client)
        self._http = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self._settings.access_token}"},
            trust_env=True,  # a proxy from the environment, as the SDK's own session takes it
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()
        if self._http is not None:
            await self._http.close()
        self._client = self._api = self._http = None

    def _open(self) -> AsyncMessagingApi:
        if self._api is None:
            raise line_error("the LINE channel is not open", retryable=True)
        return self._api

    async def send(self, msg: OutboundMessage) -> str:
        """Send one reply; return LINE's id of it. The caller bounds it with a timeout."""
        api = self._open()
        messages = with_survey(text_messages(msg.body), msg.survey)
        # Her discretion flag: sent silently, so that no notification shows the words on a
        # phone someone else may be looking at.
        silent = msg.discreet
        token = await self._take_token(msg.recipient)
        if token is not None:
            sent = await self._reply(api, token, messages, silent)
            if sent is not None:
                return sent
        return await self._push(api, msg, messages, silent)

    async def _reply(
        self, api: AsyncMessagingApi, token: str, messages: list[TextMessage], silent: bool
    ) -> str | None:
        """Answer with her reply token: LINE's id, or None when LINE refused the token (used
        or expired: nothing was sent, a push goes instead). The token is spent once asked, and
        a reply cannot carry a retry key: when LINE's answer is lost (no answer in time, a
        dropped connection, a 5xx) she may have it already, so it is not sent again by push
        but failed with words that tell the counselor to look before writing again."""
        request = ReplyMessageRequest(
            reply_token=token, messages=messages, notification_disabled=silent
        )
        try:
            async with asyncio.timeout(self._settings.reply_timeout_s):
                answer = await api.reply_message_with_http_info(request)
        except ApiException as exc:
            if exc.status == 400 and INVALID_REPLY_TOKEN in str(exc.body):
                return None
            if exc.status is not None and exc.status >= 500:
                raise unknown_outcome(f"LINE answered {exc.status}") from exc
            raise api_error(exc) from exc  # 429 and other 4xx: refused, nothing was sent
        except aiohttp.ClientConnectorError as exc:  # never connected: nothing was sent
            raise unreachable(exc) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise unknown_outcome(type(exc).__name__) from exc
        return sent_id(answer.data, answer.headers) or f"reply:{uuid.uuid4()}"

    async def _push(
        self,
        api: AsyncMessagingApi,
        msg: OutboundMessage,
        messages: list[TextMessage],
        silent: bool,
    ) -> str:
        """Push with a retry key made from the message: a push retried after a lost answer is
        delivered once (LINE answers 409 for a key it accepted: sent then)."""
        key = retry_key(msg)
        request = PushMessageRequest(
            to=msg.recipient, messages=messages, notification_disabled=silent
        )
        try:
            answer = await api.push_message_with_http_info(request, x_line_retry_key=key)
        except ApiException as exc:
            if exc.status == 409:
                return accepted_id(exc) or f"push:{key}"
            raise api_error(exc) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise unreachable(exc) from exc
        return sent_id(answer.data, answer.headers) or f"push:{key}"

    async def quota(self) -> LineQuota:
        """This month's limit and pushes so far (ChannelError when LINE cannot be asked)."""
        api = self._open()
        try:
            limit = await api.get_message_quota()
            used = await api.get_message_quota_consumption()
        except ApiException as exc:
            raise api_error(exc) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise line_error(f"line unreachable: {type(exc).__name__}", retryable=True) from exc
        value = limit.value if limit.type == "limited" else None
        return LineQuota(limit=value, used=int(used.total_usage or 0))

    async def show_loading(self, user_id: str) -> None:
        """Show her the "typing" indicator (one-on-one chats only; LINE drops it when she is
        not looking at the chat). Best effort: a failure is logged, never raised."""
        seconds = max(5, min(60, self._settings.loading_seconds // 5 * 5))
        try:
            async with asyncio.timeout(self._settings.api_timeout_s):
                await self._open().show_loading_animation(
                    ShowLoadingAnimationRequest(chatId=user_id, loadingSeconds=seconds)
                )
        except (ApiException, ChannelError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info(
                "LINE loading indicator not shown",
                extra={"action": "line_loading_failed", "error": type(exc).__name__},
            )

    async def display_name(self, user_id: str) -> str | None:
        """Her LINE display name (only asked where the program identifies consulters)."""
        try:
            async with asyncio.timeout(self._settings.api_timeout_s):
                profile = await self._open().get_profile(user_id)
        except (ApiException, ChannelError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.info(
                "LINE profile not read",
                extra={"action": "line_profile_failed", "error": type(exc).__name__},
            )
            return None
        return str(profile.display_name)[:100] or None

    async def content(self, message_id: str, *, name: str, content_type: str) -> Content:
        """The content of a message (image, video, audio, file) up to max_content_bytes, read
        as it streams so that a larger one is never held whole; else listed as not kept."""
        if self._http is None:
            raise line_error("the LINE channel is not open", retryable=True)
        limit = self._settings.max_content_bytes
        url = f"{self._settings.data_api_url}/v2/bot/message/{message_id}/content"
        timeout = aiohttp.ClientTimeout(total=self._settings.content_timeout_s)
        try:
            async with self._http.get(url, timeout=timeout) as resp:
                if resp.status != 200:
                    return not_kept(name, content_type, 0, f"content API answered {resp.status}")
                kind = resp.content_type or content_type
                if resp.content_length is not None and resp.content_length > limit:
                    return not_kept(name, kind, resp.content_length, "larger than the limit")
                data = bytearray()
                async for chunk in resp.content.iter_chunked(CHUNK):
                    data += chunk
                    if len(data) > limit:
                        return not_kept(name, kind, len(data), "larger than the limit")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return not_kept(name, content_type, 0, f"content not fetched ({type(exc).__name__})")
        return Content(
            Attachment(filename=name, content_type=kind, size_bytes=len(data), content=bytes(data))
        )


def not_kept(name: str, content_type: str, size: int, reason: str) -> Content:
    return Content(Attachment(filename=name, content_type=content_type, size_bytes=size), reason)


def accepted_id(exc: ApiException) -> str | None:
    """The id of what a 409 says was accepted before under the same retry key (None: it names
    none; it was accepted all the same)."""
    try:
        doc = json.loads(exc.body) if isinstance(exc.body, str | bytes) else {}
    except ValueError:
        doc = {}
    sent = doc.get("sentMessages") if isinstance(doc, dict) else None
    if isinstance(sent, list) and sent and isinstance(sent[0], dict) and sent[0].get("id"):
        return str(sent[0]["id"])
    accepted = (exc.headers or {}).get("x-line-accepted-request-id")
    return f"request:{accepted}" if accepted else None
