"""`tsunagu bench webhook --channel line`: LINE's side of the webhook bench (the runner, the
table and the web-chat baseline are inbox.tools.bench_webhook's).

Each request is a signed LINE webhook carrying 1 to 20 text message events, its size drawn from
a fixed seeded distribution (P(k) ∝ 1/k: mostly one or a few, sometimes a burst of 20, about 5.6
on average), each event from one of 1,000 users, so that later events join the conversations of
earlier ones and one request holds several users. Bodies and signatures are made before the
clock starts. The server's [line].api_url and data_api_url are LineStandIn on 127.0.0.1, which
answers the replies and pushes its automatic replies cause: nothing reaches api.line.me.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import aiohttp
from aiohttp import web

from channels.line_signature import SIGNATURE_HEADER, line_signature
from inbox.line_config import DEFAULT_SECRET_ENV, DEFAULT_TOKEN_ENV, DEFAULT_WEBHOOK_PATH
from inbox.tools.bench_open_loop import Run, local_only, paced, stand_in_server, timed_post

JSON = "application/json"
PUBLIC_URL = "https://bench.invalid"  # what LINE would call: the proxy in front
USERS = 1000
MAX_EVENTS = 20
SIZES = range(1, MAX_EVENTS + 1)
WEIGHTS = [1 / k for k in SIZES]
DESTINATION = "U" + "b" * 32  # the official account's own id
CONFIG = """
[server]
public_url = "{public_url}"
[line]
enabled = true
api_url = "{api_url}"
data_api_url = "{api_url}"
"""


def line_bench_config(api_url: str) -> str:
    """The server's [line], its API client aimed at `api_url`, which must be on this machine
    (the stand-in): the bench never sends a real LINE message."""
    local_only(api_url, "line.api_url")
    return CONFIG.format(public_url=PUBLIC_URL, api_url=api_url)


def event_counts(run: int, n: int) -> list[int]:
    """How many events each of a run's n requests carries (the same for the same run and n)."""
    return random.Random(run).choices(SIZES, weights=WEIGHTS, k=n)


def user_id(k: int) -> str:
    return f"U{k:032x}"


def webhook_body(first: int, count: int, rng: random.Random) -> bytes:
    """One webhook of `count` text messages numbered from `first` (unique across the bench: the
    message id and webhookEventId are made of it), as the raw bytes LINE would sign."""
    now_ms = int(time.time() * 1000)
    events = [
        {
            "type": "message",
            "mode": "active",
            "timestamp": now_ms,
            "source": {"type": "user", "userId": user_id(rng.randrange(USERS))},
            "webhookEventId": f"01HBENCH{seq:018d}",
            "deliveryContext": {"isRedelivery": False},
            "replyToken": secrets.token_hex(16),
            "message": {
                "type": "text",
                "id": f"{500_000_000_000_000_000 + seq}",
                "quoteToken": "q",
                "text": f"相談したいことがあります {seq} 😊",
            },
        }
        for seq in range(first, first + count)
    ]
    doc = {"destination": DESTINATION, "events": events}
    return json.dumps(doc, ensure_ascii=False).encode()


@dataclass
class LineStandIn:
    """The Messaging API on 127.0.0.1: reply and push answered as LINE does, each with an id
    of its own (the outbox keeps provider ids unique); profile, quota and loading answered;
    anything else counted and refused."""

    url: str = ""
    replies: int = 0
    pushes: int = 0
    other: int = 0

    def _sent(self) -> web.Response:
        n = self.replies + self.pushes
        return web.json_response({"sentMessages": [{"id": f"{n}", "quoteToken": "q"}]})

    async def reply(self, request: web.Request) -> web.Response:
        await request.read()
        self.replies += 1
        return self._sent()

    async def push(self, request: web.Request) -> web.Response:
        await request.read()
        self.pushes += 1
        return self._sent()

    async def profile(self, request: web.Request) -> web.Response:
        return web.json_response({"userId": request.match_info["user"], "displayName": "相談者"})

    async def quota(self, request: web.Request) -> web.Response:
        return web.json_response({"type": "none"})

    async def consumption(self, request: web.Request) -> web.Response:
        return web.json_response({"totalUsage": 0})

    async def loading(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({}, status=202)

    async def unknown(self, request: web.Request) -> web.Response:
        await request.read()
        self.other += 1
        return web.json_response({"message": "Not found"}, status=404)

    def note(self) -> str:
        return (
            f"LINE stand-in at {self.url}: {self.replies} replies, {self.pushes} pushes sent"
            f" to it ({self.other} other requests refused)"
        )


@asynccontextmanager
async def line_stand_in() -> AsyncIterator[LineStandIn]:
    stand_in = LineStandIn()
    app = web.Application()
    app.router.add_post("/v2/bot/message/reply", stand_in.reply)
    app.router.add_post("/v2/bot/message/push", stand_in.push)
    app.router.add_get("/v2/bot/profile/{user}", stand_in.profile)
    app.router.add_get("/v2/bot/message/quota", stand_in.quota)
    app.router.add_get("/v2/bot/message/quota/consumption", stand_in.consumption)
    app.router.add_post("/v2/bot/chat/loading/start", stand_in.loading)
    app.router.add_route("*", "/{tail:.*}", stand_in.unknown)
    async with stand_in_server(app) as url:
        stand_in.url = url
        yield stand_in


@dataclass
class LineHooks:
    name: str = "LINE webhook"
    title: str = "[line] on, 1-20 events per request"
    key: str = "line_webhook_p99_ms"
    channel: str = "line"
    # requests per second: about 5.6 events each, so 100/s is some 560 messages/s
    rates: str = "10,25,50,100"
    sent: int = 0  # events, across runs: numbers the next one
    secret: str = field(default_factory=lambda: secrets.token_hex(16))

    @asynccontextmanager
    async def stand_in(self) -> AsyncIterator[LineStandIn]:
        async with line_stand_in() as stand_in:
            yield stand_in

    def config(self, api_url: str) -> str:
        return line_bench_config(api_url)

    def env(self) -> dict[str, str]:
        return {DEFAULT_SECRET_ENV: self.secret, DEFAULT_TOKEN_ENV: secrets.token_hex(16)}

    async def run(
        self, http: aiohttp.ClientSession, url: str, run: int, rate: float, n: int
    ) -> Run:
        rng = random.Random(10_000 + run)
        signed, counts = [], event_counts(run, n)
        for count in counts:
            body = webhook_body(self.sent, count, rng)
            self.sent += count
            signed.append((body, line_signature(self.secret, body)))
        headers = [{SIGNATURE_HEADER: s, "Content-Type": "application/json"} for _, s in signed]
        target = url + DEFAULT_WEBHOOK_PATH
        calls = [
            partial(timed_post, http, target, b, h)
            for (b, _), h in zip(signed, headers, strict=True)
        ]
        return await paced(calls, rate, sum(counts))
