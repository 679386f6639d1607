"""A local stand-in for LINE's Messaging API, on 127.0.0.1 port 0.

The SDK's `Configuration(host=fake.url)` sends every API there, the content API
(api-data.line.me) included, so this one server answers both hosts' paths:

- POST /v2/bot/message/reply: reply tokens are issued by the test (`issue_reply_token`), used
  once and expire (400 "Invalid reply token" otherwise).
- POST /v2/bot/message/push: an accepted X-Line-Retry-Key answers a repeat with LINE's 409, the
  first request's message ids and x-line-accepted-request-id, and delivers nothing again.
- GET /v2/bot/message/quota(/consumption): a push counts one message per request and recipient
  whatever the number of message objects; a reply counts nothing (LINE's pricing rule).
- POST /v2/bot/chat/loading/start, GET /v2/bot/profile/{userId},
  GET /v2/bot/message/{messageId}/content (slow or chunked on request).

Every request is recorded before anything else (a refused token too); the Bearer token must be
the fake's (401 otherwise), and `fail_next` scripts error answers by path suffix.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from aiohttp import web

from inbox.tools.bench_open_loop import stand_in_server

TOKEN = "test-channel-access-token"
MAX_TEXT = 5000
AUTH_FAILED = (
    "Authentication failed. Confirm that the access token in the authorization header is valid."
)
DEFAULT_MESSAGES = {
    400: "The request body has 1 error(s)",
    401: AUTH_FAILED,
    403: "Access to this API is not available for your account",
    404: "Not found",
    429: "Too Many Requests",
    500: "Internal server error",
}


@dataclass(frozen=True, slots=True)
class SeenRequest:
    method: str
    path: str
    json: Any  # the parsed body, None when there was none
    authorization: str
    retry_key: str | None
    content_type: str | None


class Delivery(NamedTuple):
    """One send LINE accepted; compares equal to a plain (to, texts, via) tuple."""

    to: str  # push: `to`; reply: the user the token was issued for ("" if none was given)
    texts: tuple[str, ...]  # each message's text; "<type>" for a message without one
    via: Literal["reply", "push"]


@dataclass(slots=True)
class Scripted:
    path_suffix: str | None
    status: int
    body: Any
    times: int
    headers: dict[str, str]
    deliver: bool


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> web.Response:
    if body is None:
        body = {"message": DEFAULT_MESSAGES.get(status, "Error")}
    return web.json_response(body, status=status, headers=dict(headers or {}))


def _invalid(prop: str, message: str) -> web.Response:
    body = {"message": DEFAULT_MESSAGES[400], "details": [{"message": message, "property": prop}]}
    return _error(400, body)


@dataclass
class LineFake:
    token: str = TOKEN
    url: str = ""
    clock: Callable[[], float] = time.monotonic  # reply tokens' expiry reads it
    requests: list[SeenRequest] = field(default_factory=list)
    delivered: list[Delivery] = field(default_factory=list)
    retry_key_requests: Counter[str] = field(default_factory=Counter)  # pushes seen per key
    quota: int | None = None  # None: {"type": "none"}; else {"type": "limited", "value": quota}
    total_usage: int = 0
    loading: list[tuple[str, int]] = field(default_factory=list)  # (chatId, loadingSeconds)
    profiles: dict[str, str] = field(default_factory=dict)  # userId -> displayName
    contents: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (type, bytes)
    slow: dict[str, float] = field(default_factory=dict)  # id -> seconds before the answer
    chunked: set[str] = field(default_factory=set)  # ids sent chunked, without Content-Length
    _reply_tokens: dict[str, tuple[float, str]] = field(default_factory=dict)
    _accepted: dict[str, tuple[str, list[dict[str, str]]]] = field(default_factory=dict)
    _script: list[Scripted] = field(default_factory=list)
    _next_id: int = 461230966842064897
    _closing: asyncio.Event = field(default_factory=asyncio.Event)

    def issue_reply_token(self, ttl_s: float = 60.0, *, to: str = "") -> str:
        """A token as a webhook event would carry: usable once, within ttl_s of the clock."""
        token = secrets.token_hex(16)
        self._reply_tokens[token] = (self.clock() + ttl_s, to)
        return token

    def fail_next(
        self,
        path_suffix: str | None,
        status: int,
        body: Any = None,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        deliver: bool = False,
    ) -> None:
        """Answer the next `times` requests whose path ends with path_suffix (None: any) with
        this error; body None is {"message": LINE's wording for the status}. deliver=True
        handles the request first (sent, retry key accepted) and only the answer is lost."""
        self._script.append(
            Scripted(path_suffix, status, body, times, dict(headers or {}), deliver)
        )

    def _scripted(self, path: str) -> Scripted | None:
        for step in self._script:
            if step.path_suffix is None or path.endswith(step.path_suffix):
                step.times -= 1
                if step.times <= 0:
                    self._script.remove(step)
                return step
        return None

    @web.middleware
    async def gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        self.requests.append(
            SeenRequest(
                request.method,
                request.path,
                json.loads(raw) if raw else None,
                request.headers.get("Authorization", ""),
                request.headers.get("X-Line-Retry-Key"),
                request.headers.get("Content-Type"),
            )
        )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401)
        step = self._scripted(request.path)
        if step is None:
            return await handler(request)
        if step.deliver:
            await handler(request)
        return _error(step.status, step.body, step.headers)

    def _sent(self, messages: list[dict[str, Any]]) -> list[dict[str, str]]:
        sent = []
        for _ in messages:
            sent.append({"id": str(self._next_id), "quoteToken": secrets.token_urlsafe(24)})
            self._next_id += 1
        return sent

    @staticmethod
    def _bad_messages(body: dict[str, Any]) -> web.Response | None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            return _invalid("messages", "Size must be between 1 and 5")
        for i, m in enumerate(messages):
            if m.get("type") == "text" and not 0 < len(m.get("text", "")) <= MAX_TEXT:
                return _invalid(f"messages[{i}].text", f"Length must be between 0 and {MAX_TEXT}")
        return None

    @staticmethod
    def _texts(messages: list[dict[str, Any]]) -> tuple[str, ...]:
        return tuple(str(m.get("text", f"<{m.get('type')}>")) for m in messages)

    async def reply(self, request: web.Request) -> web.Response:
        body = await request.json()
        if (bad := self._bad_messages(body)) is not None:
            return bad
        issued = self._reply_tokens.pop(str(body.get("replyToken")), None)
        if issued is None or self.clock() >= issued[0]:
            return _error(400, {"message": "Invalid reply token"})
        self.delivered.append(Delivery(issued[1], self._texts(body["messages"]), "reply"))
        return web.json_response({"sentMessages": self._sent(body["messages"])})

    async def push(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = request.headers.get("X-Line-Retry-Key")
        if key is not None:
            self.retry_key_requests[key] += 1
            try:
                uuid.UUID(key)
            except ValueError:
                return _error(400, {"message": "The value for the 'X-Line-Retry-Key' is invalid"})
            if key in self._accepted:
                request_id, sent = self._accepted[key]
                return web.json_response(
                    {"message": "The retry key is already accepted", "sentMessages": sent},
                    status=409,
                    headers={"x-line-accepted-request-id": request_id},
                )
        if (bad := self._bad_messages(body)) is not None:
            return bad
        if self.quota is not None and self.total_usage >= self.quota:
            return _error(429, {"message": "You have reached your monthly limit."})
        sent = self._sent(body["messages"])
        self.delivered.append(Delivery(str(body.get("to")), self._texts(body["messages"]), "push"))
        self.total_usage += 1  # per request and recipient, not per message object
        request_id = str(uuid.uuid4())
        if key is not None:
            self._accepted[key] = (request_id, sent)
        return web.json_response({"sentMessages": sent}, headers={"x-line-request-id": request_id})

    async def quota_view(self, _request: web.Request) -> web.Response:
        if self.quota is None:
            return web.json_response({"type": "none"})
        return web.json_response({"type": "limited", "value": self.quota})

    async def consumption(self, _request: web.Request) -> web.Response:
        return web.json_response({"totalUsage": self.total_usage})

    async def loading_start(self, request: web.Request) -> web.Response:
        body = await request.json()
        seconds = body.get("loadingSeconds", 20)
        if not isinstance(seconds, int) or not 5 <= seconds <= 60 or seconds % 5:
            return _invalid("loadingSeconds", "Must be a multiple of 5 between 5 and 60")
        self.loading.append((str(body.get("chatId")), seconds))
        return web.json_response({}, status=202)

    async def profile(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        if user_id not in self.profiles:
            return _error(404)
        return web.json_response(
            {
                "userId": user_id,
                "displayName": self.profiles[user_id],
                "pictureUrl": f"https://profile.line-scdn.net/{user_id[-8:]}",
                "statusMessage": "",
                "language": "ja",
            }
        )

    async def content(self, request: web.Request) -> web.StreamResponse:
        message_id = request.match_info["message_id"]
        if message_id in self.slow:
            # ends early when the fake closes, so a client that gave up does not hold cleanup
            with suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.slow[message_id])
        if message_id not in self.contents:
            return _error(404)
        content_type, data = self.contents[message_id]
        if message_id not in self.chunked:
            return web.Response(body=data, content_type=content_type)
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        with suppress(ConnectionResetError):  # a reader that stops at its size limit hangs up
            for start in range(0, len(data), 16 * 1024):
                await response.write(data[start : start + 16 * 1024])
            await response.write_eof()
        return response


async def _request_id(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("x-line-request-id", str(uuid.uuid4()))


@asynccontextmanager
async def line_fake(token: str = TOKEN) -> AsyncIterator[LineFake]:
    fake = LineFake(token=token)
    app = web.Application(middlewares=[fake.gate])
    app.on_response_prepare.append(_request_id)
    app.router.add_post("/v2/bot/message/reply", fake.reply)
    app.router.add_post("/v2/bot/message/push", fake.push)
    app.router.add_get("/v2/bot/message/quota", fake.quota_view)
    app.router.add_get("/v2/bot/message/quota/consumption", fake.consumption)
    app.router.add_post("/v2/bot/chat/loading/start", fake.loading_start)
    app.router.add_get("/v2/bot/profile/{user_id}", fake.profile)
    app.router.add_get("/v2/bot/message/{message_id}/content", fake.content)
    async with stand_in_server(app) as fake.url:
        try:
            yield fake
        finally:
            fake._closing.set()  # slow answers stop waiting, so the server can close
