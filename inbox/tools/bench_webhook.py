"""`tsunagu bench webhook`: Twilio's SMS webhook on a real server at rising rates, against the
same server's web-chat intake in the same run.

The server runs as its own process (`python -m inbox serve`, built-in defaults plus [sms] on,
SQLite in a temporary folder, 127.0.0.1 port 0, public_url standing for a TLS proxy in front).
Its sms.api_url is a stand-in for Twilio's REST API on 127.0.0.1 (TwilioStandIn), so that the
automatic replies the bench's texts cause never reach api.twilio.com: nothing leaves the machine.
At each rate, for --seconds, signed webhooks are posted open-loop (each at its own time,
whether or not the ones before were answered) and each is timed from request to answer; the
answer comes only after the intake has committed the message, so it is "stored and answered".
Then the web chat's sockets send at the same rate, timed to their acks (also after the commit).
Each rate reports p50/p99 of both; a rate is kept up when every request was answered 200 and
p99 < 100 ms. Ends with `sms_webhook_p99_ms=<ms>`: the p99 at the highest rate kept up (or at
the lowest rate, when none was).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from inbox.core.errors import ValidationError
from inbox.tools.bench_report import pct, progress, verdict
from inbox.tools.bench_socket_clients import Consulter, open_consulters
from inbox.tools.bench_sockets import server_process

TARGET_P99_MS = 100.0
DEFAULT_RATES = "50,100,200,400,800"
PUBLIC_URL = "https://bench.invalid"  # what Twilio would call: the proxy in front
SMS_PATH = "/webhooks/twilio/sms"
ACCOUNT_SID = "AC" + "0" * 32
SENDERS = 1000  # distinct numbers, so that later texts join the conversations of earlier ones
REQUEST_TIMEOUT_S = 30.0
TOKEN_ENV = "TSUNAGU_TWILIO_AUTH_TOKEN"
CONFIG = """
[server]
public_url = "{public_url}"
[sms]
enabled = true
account_sid = "{account_sid}"
from_number = "+815012345678"
api_url = "{api_url}"
[webchat]
# the bench's few sockets stand for many consulters: their per-session limits are lifted
frames_per_minute = 1000000
messages_per_day = 1000000
"""


def bench_config(api_url: str) -> str:
    """The server's config, its Twilio client aimed at `api_url`, which must be on this
    machine (the stand-in): the bench never sends a real SMS."""
    if urlsplit(api_url).hostname != "127.0.0.1":
        raise ValueError("the bench's sms.api_url must be the local stand-in")
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
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        stand_in.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield stand_in
    finally:
        await runner.cleanup()


@dataclass(frozen=True, slots=True)
class Run:
    ms: list[float]  # answered (200 / ack), sorted
    sent: int

    @property
    def missed(self) -> int:
        return self.sent - len(self.ms)

    def p(self, q: float) -> float:
        return pct(self.ms, q) if self.ms else float("inf")

    @property
    def kept_up(self) -> bool:
        return self.missed == 0 and self.p(0.99) < TARGET_P99_MS

    def cells(self) -> str:
        return f"{self.p(0.5):8.1f} {self.p(0.99):8.1f}  {len(self.ms):>5}/{self.sent:<5}"


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


async def _post(http: aiohttp.ClientSession, url: str, form: dict[str, str], sig: str) -> float:
    """The request's latency in ms, or -1 for anything but a 200 in time."""
    start = perf_counter()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            headers = {"X-Twilio-Signature": sig}
            async with http.post(url + SMS_PATH, data=form, headers=headers) as r:
                await r.read()
                ok = r.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return -1.0
    return (perf_counter() - start) * 1000 if ok else -1.0


async def paced(calls: list[Any], rate: float) -> Run:
    """Start each call at its own time (open loop); the latencies of those answered."""
    start = perf_counter()
    async with asyncio.TaskGroup() as tg:
        tasks = []
        for i, call in enumerate(calls):
            delay = start + i / rate - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(tg.create_task(call(), name="bench-call"))
    return Run(sorted(ms for t in tasks if (ms := t.result()) >= 0), len(calls))


async def sms_run(
    http: aiohttp.ClientSession, url: str, token: str, run: int, rate: float, n: int
) -> Run:
    forms = signed_texts(token, run, n)
    return await paced([lambda f=f, s=s: _post(http, url, f, s) for f, s in forms], rate)


async def chat_run(chats: list[Consulter], rate: float, n: int) -> Run:
    async def say(i: int) -> float:
        ms = await chats[i % len(chats)].say(f"相談 {i}")
        return -1.0 if ms is None else ms

    return await paced([lambda i=i: say(i) for i in range(n)], rate)


def parse_rates(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValidationError("a comma-separated list of numbers", field="rates") from None
    if not rates or min(rates) <= 0:
        raise ValidationError("at least one rate, each > 0", field="rates")
    return sorted(rates)


def report(rates: list[float], sms: list[Run], chat: list[Run], seconds: float) -> list[str]:
    heads = f"{'p50 ms':>8} {'p99 ms':>8}  {'ok/sent':^11}"
    lines = [
        f"== webhook (SQLite, built-in defaults, [sms] on; {seconds:g} s per rate, open loop) ==",
        f"  {'':>8}  {'SMS webhook (200)':^30}  {'web chat (ack)':^30}",
        f"  {'rate/s':>8}  {heads}  {heads}",
    ]
    for rate, s, c in zip(rates, sms, chat, strict=True):
        lines.append(f"  {rate:8g}  {s.cells()}  {c.cells()}")
    for name, runs in (("SMS webhook", sms), ("web chat", chat)):
        kept = [rate for rate, run in zip(rates, runs, strict=True) if run.kept_up]
        best = f"{max(kept):g}/s" if kept else f"none (not even {rates[0]:g}/s)"
        lines.append(f"  {name:<12} highest rate with p99 < {TARGET_P99_MS:g} ms: {best}")
    return lines


def final_line(rates: list[float], sms: list[Run]) -> tuple[str, str]:
    """`sms_webhook_p99_ms=<ms>` and which rate it is of."""
    kept = [i for i, run in enumerate(sms) if run.kept_up]
    i = kept[-1] if kept else 0
    which = "the highest rate kept up" if kept else "the lowest rate (none kept up)"
    verdict_text = verdict(bool(kept))
    note = f"  sms_webhook_p99_ms is the p99 at {rates[i]:g}/s, {which}: {verdict_text}"
    return note, f"sms_webhook_p99_ms={sms[i].p(0.99):.1f}"


async def _bench(args: Any) -> int:
    rates, seconds = parse_rates(str(args.rates)), float(args.seconds)
    token = secrets.token_hex(16)
    sms: list[Run] = []
    chat: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp:
        env = {TOKEN_ENV: token}
        async with (
            twilio_stand_in() as twilio,
            server_process(Path(tmp), config_toml=bench_config(twilio.url), extra_env=env) as (
                url,
                pid,
            ),
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        ):
            progress(f"server pid {pid} at {url}")
            chats = await open_consulters(http, url, int(args.consulters), read=True)
            try:
                # warm-up: the first conversations, caches and the SQLite file's growth
                await sms_run(http, url, token, 0, rates[0], max(1, int(rates[0] * seconds)))
                await chat_run(chats, rates[0], max(1, int(rates[0] * seconds)))
                for run, rate in enumerate(rates, 1):
                    n = max(1, int(rate * seconds))
                    progress(f"{rate:g}/s: {n} signed SMS webhooks")
                    sms.append(await sms_run(http, url, token, run, rate, n))
                    progress(f"{rate:g}/s: {n} web-chat messages on {len(chats)} sockets")
                    chat.append(await chat_run(chats, rate, n))
            finally:
                for c in chats:
                    await c.close()
        progress(f"Twilio stand-in at {twilio.url}: {twilio.messages} SMS sent to it")
    note, last = final_line(rates, sms)
    print("\n".join([*report(rates, sms, chat, seconds), note]), flush=True)
    print(last)
    return 0


def run_webhook_bench(args: Any) -> int:
    if float(args.seconds) <= 0 or int(args.consulters) < 1:
        raise ValidationError("--seconds and --consulters must be positive", field="bench")
    parse_rates(str(args.rates))
    return asyncio.run(_bench(args))
