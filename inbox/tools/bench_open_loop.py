"""What the webhook benchmarks share (`tsunagu bench webhook`, SMS and LINE): requests started
open-loop at a rate and timed to their answers, the table of p50/p99 per rate against the web
chat, the final line, a provider stand-in on 127.0.0.1, and the count of what the server stored.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from inbox.core.errors import ValidationError
from inbox.tools.bench_report import pct, verdict

TARGET_P99_MS = 100.0
REQUEST_TIMEOUT_S = 30.0
Call = Callable[
    [], Coroutine[Any, Any, float]
]  # a request's latency in ms, or -1 when not answered 200


@dataclass(frozen=True, slots=True)
class Run:
    ms: list[float]  # answered (200 / ack), sorted
    sent: int  # requests
    events: int = 0  # messages the requests carried (0: one each)
    wall_s: float = 0.0  # from the first request sent to the last answer

    @property
    def missed(self) -> int:
        return self.sent - len(self.ms)

    @property
    def carried(self) -> int:
        return self.events or self.sent

    def p(self, q: float) -> float:
        return pct(self.ms, q) if self.ms else float("inf")

    @property
    def kept_up(self) -> bool:
        return self.missed == 0 and self.p(0.99) < TARGET_P99_MS

    def cells(self, *, events: bool = False) -> str:
        text = f"{self.p(0.5):8.1f} {self.p(0.99):8.1f}  {len(self.ms):>5}/{self.sent:<5}"
        if events:
            per_s = self.carried / self.wall_s if self.wall_s > 0 else 0.0
            text += f" {per_s:8.0f}"
        return text


async def paced(calls: Sequence[Call], rate: float, events: int = 0) -> Run:
    """Start each call at its own time (open loop); the latencies of those answered."""
    start = perf_counter()
    async with asyncio.TaskGroup() as tg:
        tasks: list[asyncio.Task[float]] = []
        for i, call in enumerate(calls):
            delay = start + i / rate - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(tg.create_task(call(), name="bench-call"))
    wall_s = perf_counter() - start
    answered = sorted(ms for t in tasks if (ms := t.result()) >= 0)
    return Run(answered, len(calls), events, wall_s)


def parse_rates(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValidationError("a comma-separated list of numbers", field="rates") from None
    if not rates or min(rates) <= 0:
        raise ValidationError("at least one rate, each > 0", field="rates")
    return sorted(rates)


def local_only(url: str, key: str) -> None:
    """The bench's server must reach only its stand-in on this machine: never a real provider."""
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"the bench's {key} must be the local stand-in")


async def timed_post(
    http: aiohttp.ClientSession, url: str, data: Any, headers: dict[str, str]
) -> float:
    """One webhook request's latency in ms, or -1 for anything but a 200 in time."""
    start = perf_counter()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            async with http.post(url, data=data, headers=headers) as r:
                await r.read()
                ok = r.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return -1.0
    return (perf_counter() - start) * 1000 if ok else -1.0


@asynccontextmanager
async def stand_in_server(app: web.Application) -> AsyncIterator[str]:
    """`app` on 127.0.0.1 (a free port) until the block ends; its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def report(
    title: str, name: str, rates: list[float], hooks: list[Run], chat: list[Run], seconds: float
) -> list[str]:
    """The table: per rate, the webhook's p50/p99 (and events/s when a request carries several
    messages) beside the web chat's; then the highest rate each kept up."""
    events = any(run.events for run in hooks)
    heads = f"{'p50 ms':>8} {'p99 ms':>8}  {'ok/sent':^11}"
    hook_heads = heads + (f" {'events/s':>8}" if events else "")
    width = len(hook_heads)
    lines = [
        f"== webhook (SQLite, built-in defaults, {title}; {seconds:g} s per rate, open loop) ==",
        f"  {'':>8}  {name + ' (200)':^{width}}  {'web chat (ack)':^30}",
        f"  {'rate/s':>8}  {hook_heads}  {heads}",
    ]
    for rate, h, c in zip(rates, hooks, chat, strict=True):
        lines.append(f"  {rate:8g}  {h.cells(events=events)}  {c.cells()}")
    for label, runs in ((name, hooks), ("web chat", chat)):
        kept = [rate for rate, run in zip(rates, runs, strict=True) if run.kept_up]
        best = f"{max(kept):g}/s" if kept else f"none (not even {rates[0]:g}/s)"
        lines.append(f"  {label:<12} highest rate with p99 < {TARGET_P99_MS:g} ms: {best}")
    return lines


def final_line(key: str, rates: list[float], runs: list[Run]) -> tuple[str, str]:
    """`<key>=<ms>`, the p99 at the highest rate kept up (else the lowest), and which it is."""
    kept = [i for i, run in enumerate(runs) if run.kept_up]
    i = kept[-1] if kept else 0
    which = "the highest rate kept up" if kept else "the lowest rate (none kept up)"
    note = f"  {key} is the p99 at {rates[i]:g}/s, {which}: {verdict(bool(kept))}"
    return note, f"{key}={runs[i].p(0.99):.1f}"


def stored_inbound(db: Path) -> dict[str, tuple[int, int]]:
    """Per channel, the inbound messages in the server's SQLite file and how many distinct
    provider ids they carry (after the server stopped: nothing more is written)."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT channel, count(*), count(DISTINCT external_id) FROM messages"
            " WHERE direction = 'inbound' GROUP BY channel"
        ).fetchall()
    return {str(channel): (int(n), int(distinct)) for channel, n, distinct in rows}


def verify_stored(
    stored: dict[str, tuple[int, int]], expected: dict[str, tuple[str, int]]
) -> tuple[bool, str]:
    """Whether each channel stored exactly what was sent, each once (by its provider id, where
    it has one); the report's line. `expected`: channel → (name, messages sent)."""
    ok, parts = True, []
    for channel, (name, sent) in expected.items():
        n, distinct = stored.get(channel, (0, 0))
        once = distinct in (0, n)  # web chat messages carry no provider id
        ok = ok and n == sent and once
        parts.append(f"{name} {n}/{sent}" + ("" if once else f" ({n - distinct} stored twice)"))
    verdict_text = "each stored exactly once" if ok else "FAILED: messages lost or stored twice"
    return ok, f"  verified     stored {', '.join(parts)}: {verdict_text}"
