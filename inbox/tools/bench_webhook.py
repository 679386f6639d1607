"""`tsunagu bench webhook`: a provider's webhook on a real server at rising rates, against the
same server's web-chat intake in the same run. `--channel sms` (the default): Twilio's SMS
webhook; `--channel line`: LINE's, each request carrying 1 to 20 events (inbox.tools.bench_line).

The server runs as its own process (`python -m inbox serve`, built-in defaults plus the channel
on, SQLite in a temporary folder, 127.0.0.1 port 0, public_url standing for a TLS proxy in front).
The channel's API URL is a stand-in on 127.0.0.1 (TwilioStandIn, LineStandIn), so that the
automatic replies the bench's messages cause never reach the provider: nothing leaves the machine.
At each rate, for --seconds, signed webhooks are posted open-loop (each at its own time,
whether or not the ones before were answered) and each is timed from request to answer; the
answer comes only after the intake has committed the messages, so it is "stored and answered".
Then the web chat's sockets send at the same rate, timed to their acks (also after the commit).
Each rate reports p50/p99 of both; a rate is kept up when every request was answered 200 and
p99 < 100 ms. After the run the server's database is read: every message sent must be stored
exactly once, else the bench says so and exits 1. Ends with `sms_webhook_p99_ms=<ms>` (or
`line_webhook_p99_ms=<ms>`): the p99 at the highest rate kept up (or at the lowest rate, when
none was).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from inbox.core.errors import ValidationError
from inbox.tools.bench_line import LineHooks
from inbox.tools.bench_open_loop import (
    Run,
    final_line,
    local_only,
    paced,
    parse_rates,
    report,
    stand_in_server,
    stored_inbound,
    timed_post,
    verify_stored,
)
from inbox.tools.bench_report import progress
from inbox.tools.bench_socket_clients import Consulter, open_consulters
from inbox.tools.bench_sockets import server_process

PUBLIC_URL = "https://bench.invalid"  # what Twilio would call: the proxy in front
SMS_PATH = "/webhooks/twilio/sms"
ACCOUNT_SID = "AC" + "0" * 32
SENDERS = 1000  # distinct numbers, so that later texts join the conversations of earlier ones
TOKEN_ENV = "TSUNAGU_TWILIO_AUTH_TOKEN"
WEBCHAT = """
[webchat]
# the bench's few sockets stand for many consulters: their per-session limits are lifted
frames_per_minute = 1000000
messages_per_day = 1000000
"""
CONFIG = """
[server]
public_url = "{public_url}"
[sms]
enabled = true
account_sid = "{account_sid}"
from_number = "+815012345678"
api_url = "{api_url}"
"""


def bench_config(api_url: str) -> str:
    """The server's config, its Twilio client aimed at `api_url`, which must be on this
    machine (the stand-in): the bench never sends a real SMS."""
    local_only(api_url, "sms.api_url")
    return CONFIG.format(public_url=PUBLIC_URL, account_sid=ACCOUNT_SID, api_url=api_url)


@dataclass
class TwilioStandIn:
    """Twilio's Messages.json on 127.0.0.1: answers 201 with a made-up SID and counts."""

    url: str = ""
    messages: int = 0

    async def create(self, request: web.Request) -> web.Response:
        await request.read()
        self.messages += 1
        return web.json_response(
            {"sid": "SM" + secrets.token_hex(16), "status": "queued"}, status=201
        )


@asynccontextmanager
async def twilio_stand_in() -> AsyncIterator[TwilioStandIn]:
    stand_in = TwilioStandIn()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", stand_in.create)
    async with stand_in_server(app) as url:
        stand_in.url = url
        yield stand_in


class StandIn(Protocol):
    @property
    def url(self) -> str: ...

    def note(self) -> str: ...


class Hooks(Protocol):
    """One provider's side of the bench (SmsHooks, bench_line.LineHooks)."""

    name: str  # in the table: "SMS webhook"
    title: str  # the server's setting, in the table's title
    key: str  # the final line's name
    channel: str  # messages.channel of what it stores
    rates: str  # the default --rates
    sent: int  # messages posted so far (all runs, the warm-up too)

    def stand_in(self) -> AbstractAsyncContextManager[StandIn]: ...
    def config(self, api_url: str) -> str: ...
    def env(self) -> dict[str, str]: ...
    async def run(
        self, http: aiohttp.ClientSession, url: str, run: int, rate: float, n: int
    ) -> Run: ...


def signed_texts(token: str, run: int, n: int) -> list[tuple[dict[str, str], str]]:
    """n webhook forms of Twilio's shape and their signatures, made before the clock starts."""
    validator, url = RequestValidator(token), PUBLIC_URL + SMS_PATH
    forms = []
    for i in range(n):
        form = {
            "MessageSid": f"SM{run:04d}{i:028d}",
            "AccountSid": ACCOUNT_SID,
            "From": f"+8190{10_000_000 + i % SENDERS:08d}",
            "To": "+815012345678",
            "Body": f"相談 {i}",
            "NumMedia": "0",
        }
        forms.append((form, validator.compute_signature(url, form)))
    return forms


@dataclass
class SmsHooks:
    name: str = "SMS webhook"
    title: str = "[sms] on"
    key: str = "sms_webhook_p99_ms"
    channel: str = "sms"
    rates: str = "50,100,200,400,800"
    sent: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))

    @asynccontextmanager
    async def stand_in(self) -> AsyncIterator[StandIn]:
        async with twilio_stand_in() as twilio:
            yield _TwilioNote(twilio)

    def config(self, api_url: str) -> str:
        return bench_config(api_url)

    def env(self) -> dict[str, str]:
        return {TOKEN_ENV: self.token}

    async def run(
        self, http: aiohttp.ClientSession, url: str, run: int, rate: float, n: int
    ) -> Run:
        forms = signed_texts(self.token, run, n)
        self.sent += n
        target = url + SMS_PATH
        calls = [partial(timed_post, http, target, f, {"X-Twilio-Signature": s}) for f, s in forms]
        return await paced(calls, rate)


@dataclass
class _TwilioNote:
    twilio: TwilioStandIn

    @property
    def url(self) -> str:
        return self.twilio.url

    def note(self) -> str:
        return f"Twilio stand-in at {self.twilio.url}: {self.twilio.messages} SMS sent to it"


async def chat_run(chats: list[Consulter], rate: float, n: int) -> Run:
    async def say(i: int) -> float:
        ms = await chats[i % len(chats)].say(f"相談 {i}")
        return -1.0 if ms is None else ms

    return await paced([partial(say, i) for i in range(n)], rate)


def hooks_for(channel: str) -> Hooks:
    if channel == "line":
        return LineHooks()
    if channel == "sms":
        return SmsHooks()
    raise ValidationError("sms or line", field="channel")


async def _bench(args: Any, hooks: Hooks, rates: list[float]) -> int:
    seconds = float(args.seconds)
    runs: list[Run] = []
    chat: list[Run] = []
    chat_sent = 0
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp:
        async with hooks.stand_in() as stand_in:
            config = hooks.config(stand_in.url) + WEBCHAT
            async with (
                server_process(Path(tmp), config_toml=config, extra_env=hooks.env()) as (url, pid),
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
            ):
                progress(f"server pid {pid} at {url}")
                chats = await open_consulters(http, url, int(args.consulters), read=True)
                try:
                    # warm-up: the first conversations, caches and the SQLite file's growth
                    n = max(1, int(rates[0] * seconds))
                    await hooks.run(http, url, 0, rates[0], n)
                    chat_sent += (await chat_run(chats, rates[0], n)).sent
                    for run, rate in enumerate(rates, 1):
                        n = max(1, int(rate * seconds))
                        progress(f"{rate:g}/s: {n} signed {hooks.name}s")
                        runs.append(await hooks.run(http, url, run, rate, n))
                        progress(f"{rate:g}/s: {n} web-chat messages on {len(chats)} sockets")
                        chat.append(await chat_run(chats, rate, n))
                        chat_sent += chat[-1].sent
                finally:
                    for c in chats:
                        await c.close()
            progress(stand_in.note())
        stored = stored_inbound(Path(tmp) / "data" / "inbox.db")
    expected = {hooks.channel: (hooks.name, hooks.sent), "webchat": ("web chat", chat_sent)}
    ok, verified = verify_stored(stored, expected)
    note, last = final_line(hooks.key, rates, runs)
    table = report(hooks.title, hooks.name, rates, runs, chat, seconds)
    print("\n".join([*table, verified, note]), flush=True)
    print(last)
    return 0 if ok else 1


def run_webhook_bench(args: Any) -> int:
    if float(args.seconds) <= 0 or int(args.consulters) < 1:
        raise ValidationError("--seconds and --consulters must be positive", field="bench")
    hooks = hooks_for(str(getattr(args, "channel", None) or "sms"))
    rates = parse_rates(str(getattr(args, "rates", None) or hooks.rates))
    return asyncio.run(_bench(args, hooks, rates))
