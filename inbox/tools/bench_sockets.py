"""`tsunagu bench sockets`: what open sockets cost the server, and what never-reading ones cost
the other consulters.

The server runs as its own process (`python -m inbox serve`, built-in defaults, SQLite in a
temporary folder, 127.0.0.1 port 0), so its resident memory (/proc/PID/statm) is its own.
1. Memory: RSS before, with idle consulter and staff sockets open, and after they closed.
2. Slow clients: normal consulters send at a fixed total rate and time each ack, first alone
   (the baseline), then beside never-reading sockets that keep sending (inbox.tools.stalled_socket):
   each reopens when the server cuts it off. The ratio is the p99 beside them over the p99
   alone. Meanwhile --staff consoles read the event feed; the sockets the server drops (their
   queue overflowed, and they reconnect) are counted. Ends with
   `socket_kb=<kb> slow_client_p99_ratio=<ratio>`.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter, process_time
from typing import Any

import aiohttp

from inbox.core.errors import ValidationError
from inbox.tools.bench_report import pct, progress, verdict
from inbox.tools.bench_socket_clients import (
    Consulter,
    Flood,
    StaffWatch,
    open_consulters,
    staff_token,
)

TARGET_SOCKET_KB = 30.0
TARGET_RATIO = 1.5
READY = re.compile(r"web chat:\s+(http://\S+)/chat")
START_TIMEOUT_S = 60.0
ROUNDS = 2
SETTLE_S = 2.0  # at most, for the server to let go of closed sockets before RSS is read


def rss_kb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024


def cpu_s(pid: int) -> float:
    """User and system CPU time the process has used (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def server_process(
    data_dir: Path,
    database_url: str | None = None,
    *,
    config_toml: str = "",
    extra_env: Mapping[str, str] | None = None,
) -> AsyncIterator[tuple[str, int]]:
    """`tsunagu serve` on port 0 with the built-in defaults (and `config_toml` after them); its
    URL and pid until stopped. Its database: SQLite in data_dir/data, or the PostgreSQL
    database of database_url."""
    config = data_dir / "config.toml"
    config.write_text('[logging]\nlevel = "WARNING"\n' + config_toml)
    env = {**os.environ, **(extra_env or {}), "TSUNAGU_DATA_DIR": str(data_dir / "data")}
    env.pop("TSUNAGU_DATABASE_URL", None)
    if database_url is not None:
        env["TSUNAGU_DATABASE_URL"] = database_url
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "inbox", "serve", "--port", "0", "--config", str(config),
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    stderr = proc.stderr
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while not (found := READY.search((await stderr.readline()).decode())):
                if stderr.at_eof():
                    raise RuntimeError("the server exited before it was ready")
        async with asyncio.TaskGroup() as tg:
            drain = tg.create_task(_drain(stderr), name="server-stderr")
            yield found[1], proc.pid
            drain.cancel()
    finally:
        if proc.returncode is None:
            proc.terminate()
            async with asyncio.timeout(30):
                await proc.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def open_idle(
    http: aiohttp.ClientSession, url: str, consulters: int, staff: int, token: str
) -> list[aiohttp.ClientWebSocketResponse]:
    chats = await open_consulters(http, url, consulters)
    ws_url = url.replace("http://", "ws://") + "/api/ws"
    headers = {"Authorization": f"Bearer {token}"}
    return [c.ws for c in chats] + [
        await http.ws_connect(ws_url, headers=headers) for _ in range(staff)
    ]


async def memory_phase(
    http: aiohttp.ClientSession, url: str, pid: int, args: Any, token: str
) -> tuple[float, list[str]]:
    """Two waves of idle sockets: the first for the cost of a socket, the second to show that
    what the first used is used again (freed) rather than kept (leaked)."""
    consulters, staff = int(args.consulters), int(args.staff)
    settle_s = min(SETTLE_S, float(args.seconds))
    before = rss_kb(pid)
    rss: list[tuple[float, float]] = []  # (open, closed) per wave
    for wave in (1, 2):
        progress(f"wave {wave}: {consulters} idle consulter and {staff} staff sockets")
        sockets = await open_idle(http, url, consulters, staff, token)
        opened = rss_kb(pid)
        for ws in sockets:
            await ws.close()
        await asyncio.sleep(settle_s)
        rss.append((opened, rss_kb(pid)))
    per_socket = (rss[0][0] - before) / (consulters + staff)
    mib = [f"{kb / 1024:.1f}" for kb in (before, *rss[0], *rss[1])]
    lines = [
        f"  server RSS, MiB     {mib[0]} before; {mib[1]} with {consulters} consulter and "
        f"{staff} staff sockets open, {mib[2]} after they closed;",
        f"                      again: {mib[3]} open, {mib[4]} closed (the allocator keeps "
        "freed memory for the next sockets: no growth, no leak)",
        f"  per socket          {per_socket:8.1f} KiB   "
        f"(< {TARGET_SOCKET_KB:g}: {verdict(per_socket < TARGET_SOCKET_KB)})",
    ]
    return per_socket, lines


@dataclass(frozen=True, slots=True)
class Run:
    acked_ms: list[float]  # sorted
    missed: int  # an error answer, or none in time
    server_cpu: float  # share of one core the server used
    client_cpu: float  # and the bench itself, which may be what is late

    @classmethod
    def pooled(cls, runs: list[Run]) -> Run:
        return cls(
            acked_ms=sorted(ms for run in runs for ms in run.acked_ms),
            missed=sum(run.missed for run in runs),
            server_cpu=sum(run.server_cpu for run in runs) / len(runs),
            client_cpu=sum(run.client_cpu for run in runs) / len(runs),
        )

    def line(self, name: str) -> str:
        ms = self.acked_ms
        return (
            f"  {name:<19} p50 {pct(ms, 0.5):6.1f} ms  p99 {pct(ms, 0.99):6.1f} ms  "
            f"({len(ms)} acked, {self.missed} not; CPU server {self.server_cpu:.0%}, "
            f"bench {self.client_cpu:.0%})"
        )


async def paced_acks(chats: list[Consulter], pid: int, rate: float, seconds: float) -> Run:
    """Send rate*seconds messages round-robin at absolute times and time their acks."""
    n = max(1, int(rate * seconds))
    start, cpu, own = perf_counter(), cpu_s(pid), process_time()
    async with asyncio.TaskGroup() as tg:
        waits = []
        for i in range(n):
            delay = start + i / rate - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            waits.append(tg.create_task(chats[i % len(chats)].say(f"相談 {i}"), name="say"))
    acked = sorted(ms for w in waits if (ms := w.result()) is not None)
    if not acked:
        raise RuntimeError("no message was acknowledged; see the server's log")
    took = perf_counter() - start
    return Run(
        acked_ms=acked,
        missed=n - len(acked),
        server_cpu=(cpu_s(pid) - cpu) / took,
        client_cpu=(process_time() - own) / took,
    )


async def slow_phase(
    http: aiohttp.ClientSession, url: str, pid: int, args: Any, token: str
) -> tuple[float, list[str]]:
    """ROUNDS of a run alone then one beside the flood, pooled per kind: the machine's own
    load drifts, and alternating spreads the drift over both. Staff consoles read the event
    feed throughout, as they would while the consulters write."""
    rate, seconds = float(args.rate), float(args.seconds)
    chats = await open_consulters(http, url, int(args.normal), read=True)
    alone: list[Run] = []
    beside: list[Run] = []
    staff = StaffWatch(url, token, int(args.staff))
    try:
        async with staff.running(http):
            # warm-up as long as a round: the first conversations, auto-replies and caches
            # would otherwise land in the first baseline round and flatter the ratio (seen:
            # p99 328 ms)
            await paced_acks(chats, pid, rate, seconds)
            flood = await Flood.seed(http, url, int(args.slow))
            for round_ in range(1, ROUNDS + 1):
                progress(f"round {round_}: {args.normal} consulters at {rate:g} msg/s, alone")
                alone.append(await paced_acks(chats, pid, rate, seconds))
                progress(f"round {round_}: the same beside {args.slow} never-reading sockets")
                async with flood.running(url):
                    await asyncio.sleep(min(3.0, seconds))  # until their buffers are full
                    beside.append(await paced_acks(chats, pid, rate, seconds))
    finally:
        for chat in chats:
            await chat.close()
    pooled_alone, pooled_beside = Run.pooled(alone), Run.pooled(beside)
    ratio = pct(pooled_beside.acked_ms, 0.99) / pct(pooled_alone.acked_ms, 0.99)
    lines = [
        *(run.line(f"  alone, round {i}") for i, run in enumerate(alone, 1)),
        *(run.line(f"  beside, round {i}") for i, run in enumerate(beside, 1)),
        pooled_alone.line("acks alone"),
        pooled_beside.line("acks beside slow"),
        f"    ratio             {ratio:8.2f}   "
        f"(< {TARGET_RATIO:g}: {verdict(ratio < TARGET_RATIO)})",
        f"  never-reading       {flood.opened} opened, {flood.cut_off} cut off by the server, "
        f"{flood.frames} frames sent",
        f"  staff sockets       {staff.sockets} reading the feed: {staff.events} events in "
        f"{staff.frames} frames, {staff.dropped} dropped by the server",
    ]
    return ratio, lines


def run_sockets_bench(args: Any) -> int:
    sizes = [args.consulters, args.staff, args.slow, args.normal]
    if min(sizes) < 1 or args.rate <= 0 or args.seconds <= 0:
        raise ValidationError("sizes, --rate and --seconds must be positive", field="bench")
    if not Path("/proc/self/statm").exists():
        print(
            "tsunagu bench sockets: reads the server's memory from /proc (Linux)", file=sys.stderr
        )
        return 2
    return asyncio.run(_bench(args))


async def _bench(args: Any) -> int:
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp:
        token = await staff_token(Path(tmp) / "data")
        async with server_process(Path(tmp)) as (url, pid):
            progress(f"server pid {pid} at {url}")
            connector = aiohttp.TCPConnector(limit=0)  # the default 100 would cap open sockets
            async with aiohttp.ClientSession(connector=connector) as http:
                per_socket, memory = await memory_phase(http, url, pid, args, token)
                ratio, slow = await slow_phase(http, url, pid, args, token)
    print("\n".join(["== sockets (SQLite, built-in defaults) ==", *memory, *slow]), flush=True)
    print(f"socket_kb={per_socket:.1f} slow_client_p99_ratio={ratio:.2f}")
    return 0
