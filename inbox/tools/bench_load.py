"""`tsunagu bench load`: the server under a national line's load, and what a second instance
adds.

The desk (inbox.tools.bench_board_desk) is written once into a new database: --staff counselors
of --capacity each, all full, and --open conversations in all, most of them waiting (a busy
evening). Each configuration starts real servers, each its own process (`python -m inbox
serve`, inbox.tools.bench_sockets), on a fresh copy of it (inbox.tools.bench_board_databases),
and the clients in a separate process (inbox.tools.load_generator), so that the servers' CPU and
RSS (from /proc) are their own and the generator's lateness is its own: --consulters chats, every
counselor's console on the event feed (refetching the queue on each event frame, as the console
does), messages offered open loop at each of --rates for --seconds, and --reply-share of them
answered by counselors over the API on the conversations they hold.
Per rate: ack p50/p99 (send → ack), push p50/p99 (ack → its message_received event at every
console), reply p50/p99 (reply POST → her chat has it), the servers' CPU (% of one core) and
RSS, messages not acked and sockets cut, events lost or doubled on the consoles, the machine's
load average and the generator's loop lateness. The ladder stops past a rate that failed badly.
First a baseline in the same run: the lowest rate on a small desk (--baseline-open).
SQLite; with --database-url also PostgreSQL, one instance and then --instances on one database
(clients spread over them, sticky). Ends with `load_max_rate=<msg/s> ack_p99_ms=<ms>
instances=<n>`: the highest rate with ack p99 < 100 ms of the best configuration.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from inbox.core.errors import ValidationError
from inbox.tools.bench_board_databases import BoardDatabase, PostgresDesk, SqliteDesk, seeded_desk
from inbox.tools.bench_board_desk import Desk, settle
from inbox.tools.bench_open_loop import parse_rates
from inbox.tools.bench_report import progress, verdict
from inbox.tools.bench_sockets import cpu_s, rss_kb, server_process
from inbox.tools.load_generator import LOST_TIMEOUT_S

TARGET_P99_MS = 100.0
TARGET_RATIO = 1.6
GIVE_UP_P99_MS = 2000.0  # a rate this late (or losing acks) ends the ladder: higher ones fail
# The consulters write far more than a person may (30 frames a minute, 300 messages a day).
SERVER_TOML = "[webchat]\nframes_per_minute = 1000000\nmessages_per_day = 1000000\n"
GENERATOR_TIMEOUT_S = 180.0  # for any one answer of the generator beyond the rate's seconds
# Before the first rate, until the servers have done what starting left them (the waiting
# line's automatic replies, the first deadline pass): else the first rate pays for it.
QUIET_CPU = 0.15  # of one core, every server
QUIET_SAMPLE_S = 0.5
# The waiting-line message to each of the seeded desk's thousands of waiting consulters goes
# out through the outbox at start: a minute or more on PostgreSQL, which the first rates (and
# their replies, behind it in the outbox) would otherwise pay for.
QUIET_TIMEOUT_S = 180.0


@dataclass(frozen=True, slots=True)
class Step:
    """One rate on one configuration: the generator's result and the servers' share."""

    rate: float
    found: dict[str, Any]  # the generator's result (inbox.tools.load_generator)
    cpu: list[float]  # each server's CPU, share of one core, while the messages went out
    rss_mib: list[float]  # each server's, after the rate
    db_cpu: float | None  # PostgreSQL's backends of the bench's database, the same way
    load: float  # the machine's load average (1 min) as the rate began

    def p99(self, key: str) -> float:
        found = self.found[key]
        return float("inf") if found is None else float(found[1])

    @property
    def kept_up(self) -> bool:
        return self.found["acked"] == self.found["offered"] and self.p99("ack_ms") < TARGET_P99_MS

    @property
    def hopeless(self) -> bool:
        return self.found["acked"] < self.found["offered"] or self.p99("ack_ms") > GIVE_UP_P99_MS

    def line(self) -> str:
        f = self.found

        def ms(key: str) -> str:
            return "       –       –" if f[key] is None else f"{f[key][0]:8.1f}{f[key][1]:8.1f}"

        lag = f["lag_ms"] or [0.0, 0.0]
        return (
            f"  {self.rate:7g} {f['acked']:>6}/{f['offered']:<6}{ms('ack_ms')} {ms('push_ms')} "
            f"{ms('reply_ms')} {f['replies_arrived']:>4}/{f['replies_offered']:<4} "
            f"{'+'.join(f'{c:.0%}' for c in self.cpu):>9} "
            f"{'+'.join(f'{m:.0f}' for m in self.rss_mib):>9} "
            f"{'–' if self.db_cpu is None else f'{self.db_cpu:.0%}':>5} "
            f"{f['offered'] - f['acked']:>4}/{f['staff_dropped'] + f['consulters_cut']:<3} "
            f"{f['lost']:>5}/{f['doubled']:<5} {f['refetches']:>6}/{f['not_modified']:<5} "
            f"{self.load:5.1f} {lag[1]:6.1f} {f['cpu']:4.0%}"
        )


HEAD = (
    f"  {'rate/s':>7} {'acked/sent':^13}{'ack p50':>8}{'p99':>8} {'push p50':>8}{'p99':>8} "
    f"{'reply p50':>8}{'p99':>8} {'replies':^9} {'CPU':>9} {'RSS MiB':>9} {'DB':>5} {'drops':^8} "
    f"{'lost/doubled':^11} {'refetch/304':^12} {'load':>5} {'lag99':>6} {'gen':>4}"
)


@dataclass(frozen=True, slots=True)
class Measured:
    name: str  # "SQLite, 1 instance", ...
    instances: int
    steps: list[Step]

    @property
    def max_rate(self) -> Step | None:
        kept = [s for s in self.steps if s.kept_up]
        return max(kept, key=lambda s: s.rate) if kept else None


class Generator:
    """The load generator's process: JSON lines in, JSON lines out."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def send(self, payload: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(payload) + "\n").encode())
        await self.proc.stdin.drain()

    async def expect(self, key: str, timeout_s: float = GENERATOR_TIMEOUT_S) -> Any:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout_s):
            line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the load generator exited; see its errors above")
        return json.loads(line)[key]


@asynccontextmanager
async def generator(setup: dict[str, Any]) -> AsyncIterator[Generator]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "inbox.tools.load_generator",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    gen = Generator(proc)
    try:
        await gen.send({"setup": setup})
        await gen.expect("ready")
        yield gen
    finally:
        if proc.returncode is None:
            assert proc.stdin is not None
            proc.stdin.close()  # its end: it closes its sockets and exits
            try:
                async with asyncio.timeout(30):
                    await proc.wait()
            except TimeoutError:
                proc.kill()


@asynccontextmanager
async def servers(
    run_dir: Path, database_url: str | None, instances: int
) -> AsyncIterator[list[tuple[str, int]]]:
    """`instances` servers on one database, started one after the other (each migrates it)."""
    async with AsyncExitStack() as stack:
        found = []
        for i in range(instances):
            where = run_dir if i == 0 else run_dir / f"instance{i}"
            where.mkdir(parents=True, exist_ok=True)
            found.append(
                await stack.enter_async_context(
                    server_process(where, database_url, config_toml=SERVER_TOML)
                )
            )
        yield found


async def measure(
    db: BoardDatabase, run_dir: Path, desk: Desk, args: Any, instances: int, rates: list[float]
) -> list[Step]:
    steps: list[Step] = []
    async with db.copy(run_dir) as database_url, servers(run_dir, database_url, instances) as up:
        urls, pids = [u for u, _ in up], [p for _, p in up]
        async with aiohttp.ClientSession() as http:
            await settle(http, urls[0], desk)
        progress(f"servers {pids}: every counselor full; starting the load generator")
        setup = {
            "urls": urls,
            "counselors": [[c.user_id, c.token] for c in desk.counselors],
            "supervisor": desk.supervisors[0].token,
            "consulters": int(args.consulters),
            "reply_share": float(args.reply_share),
        }
        async with generator(setup) as gen:
            await quiet(pids)
            for rate in rates:
                progress(f"{rate:g} msg/s for {args.seconds:g} s")
                load = os.getloadavg()[0]
                await gen.send({"rate": rate, "seconds": float(args.seconds)})
                await gen.expect("sending")
                cpu, start = [cpu_s(p) for p in pids], perf_counter()
                db_before = backends_cpu(database_url)
                await gen.expect("sent", float(args.seconds) * 3 + GENERATOR_TIMEOUT_S)
                took = perf_counter() - start
                cpu = [(cpu_s(p) - c) / took for p, c in zip(pids, cpu, strict=True)]
                db_after = backends_cpu(database_url)
                db_cpu = sum(t - db_before.get(p, 0.0) for p, t in db_after.items()) / took
                found = await gen.expect("result")
                rss = [rss_kb(p) / 1024 for p in pids]
                steps.append(Step(rate, found, cpu, rss, db_cpu if db_after else None, load))
                if steps[-1].hopeless:
                    break
    return steps


def backends_cpu(database_url: str | None) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving database_url's database, by
    pid (their process titles name it); {} on SQLite, or when /proc shows none (PostgreSQL on
    another machine). A backend that opened meanwhile counts from its start: about right, as
    the servers' pools keep theirs."""
    if database_url is None:
        return {}
    name = f" {urlsplit(database_url).path.lstrip('/')} ".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes()
            if title.startswith(b"postgres:") and name in title:
                found[int(proc.name)] = cpu_s(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


async def quiet(pids: list[int]) -> None:
    """Until each server uses less than QUIET_CPU, or QUIET_TIMEOUT_S (then said)."""
    start = perf_counter()
    while perf_counter() - start < QUIET_TIMEOUT_S:
        before = [cpu_s(p) for p in pids]
        await asyncio.sleep(QUIET_SAMPLE_S)
        if all(
            cpu_s(p) - b < QUIET_CPU * QUIET_SAMPLE_S for p, b in zip(pids, before, strict=True)
        ):
            return
    progress(f"the servers were still busy after {QUIET_TIMEOUT_S:g} s; measuring anyway")


async def seeded(db: BoardDatabase, args: Any, open_: int) -> Desk:
    staff, capacity, consulters = int(args.staff), int(args.capacity), int(args.consulters)
    waiting = max(0, open_ - staff * capacity - consulters)
    progress(
        f"{db.name}: seeding {staff} counselors (capacity {capacity}) and "
        f"{staff * capacity + waiting} conversations"
    )
    start = perf_counter()
    desk = await seeded_desk(
        db, counselors=staff, supervisors=1, capacity=capacity, waiting=waiting
    )
    progress(f"{db.name}: seeded in {perf_counter() - start:.1f} s")
    return desk


def table(args: Any, measured: Measured, open_: int) -> list[str]:
    best = measured.max_rate
    kept = (
        f"{best.rate:g}/s (push p99 there {best.p99('push_ms'):.1f} ms)"
        if best
        else f"none (not even {measured.steps[0].rate:g}/s)"
    )
    return [
        f"== load ({measured.name}): {args.staff} staff sockets, {args.consulters} consulters, "
        f"{max(open_, args.staff * args.capacity + args.consulters)} open conversations "
        f"({args.staff} × {args.capacity} held), "
        f"{args.seconds:g} s per rate, {args.reply_share:.0%} answered ==",
        HEAD,
        *(step.line() for step in measured.steps),
        *(
            f"  {step.rate:g}/s: {step.found['lost_sockets']} of {args.staff} consoles lost an "
            f"event, {step.found['doubled_sockets']} got one twice"
            for step in measured.steps
            if step.found["lost"] or step.found["doubled"]
        ),
        f"  highest rate with ack p99 < {TARGET_P99_MS:g} ms: {kept}",
    ]


LEGEND = [
    "  ack: send → ack; push: ack → its message_received event at each console (every staff "
    "socket should see it);",
    "  reply: reply POST → her chat has it (replies: arrived/offered, a refused POST never "
    "arrives);",
    "  CPU: each server's share of one core while sending; DB: PostgreSQL's backends for the "
    "bench's database, the same way;",
    "  drops: messages not acked / sockets the server cut; lost: (message, console) pairs whose "
    f"event never came in {LOST_TIMEOUT_S:g} s; doubled: an event id twice;",
    "  refetch/304: the consoles' queue fetches and how many were 304; load: the machine's "
    "1-min load average; lag99/gen: the generator's loop lateness (ms) and CPU",
]


def check(args: Any) -> None:
    sizes = [args.staff, args.consulters, args.capacity, args.instances, args.baseline_open]
    if min(sizes) < 1 or args.seconds <= 0 or not 0 <= args.reply_share <= 1:
        raise ValidationError(
            "--staff, --consulters, --capacity, --instances, --baseline-open and --seconds "
            "must be positive, --reply-share between 0 and 1",
            field="bench",
        )
    if args.open < args.staff * args.capacity:
        raise ValidationError("--open must be at least --staff × --capacity", field="open")


def run_load_bench(args: Any) -> int:
    check(args)
    rates = parse_rates(args.rates)
    if not Path("/proc/self/stat").exists():
        print("tsunagu bench load: reads the servers' CPU time from /proc (Linux)", file=sys.stderr)
        return 2
    return asyncio.run(_bench(args, rates))


async def _bench(args: Any, rates: list[float]) -> int:
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp:
        runs: list[tuple[Measured, int]] = []
        dbs: list[tuple[BoardDatabase, list[int]]] = [(SqliteDesk(Path(tmp) / "seed"), [1])]
        if args.database_url:
            dbs.append((PostgresDesk(args.database_url), sorted({1, int(args.instances)})))
        base_db = SqliteDesk(Path(tmp) / "baseline-seed")
        # at least what the counselors hold and the consulters open: a smaller desk cannot be
        base_open = max(
            min(int(args.baseline_open), int(args.open)),
            int(args.staff) * int(args.capacity) + int(args.consulters),
        )
        desk = await seeded(base_db, args, base_open)
        progress(f"baseline: {rates[0]:g} msg/s with {base_open} open conversations")
        base = await measure(base_db, Path(tmp) / "baseline", desk, args, 1, rates[:1])
        runs.append((Measured("baseline: SQLite, 1 instance", 1, base), base_open))
        for db, counts in dbs:
            try:
                desk = await seeded(db, args, int(args.open))
                for n in counts:
                    name = f"{db.name}, {n} instance{'s' if n > 1 else ''}"
                    progress(name)
                    steps = await measure(db, Path(tmp) / f"{db.name}{n}", desk, args, n, rates)
                    runs.append((Measured(name, n, steps), int(args.open)))
            finally:
                await db.close()
    lines = [line for measured, open_ in runs for line in table(args, measured, open_)]
    measured = [m for m, _ in runs[1:]]
    print("\n".join([*lines, *LEGEND, *comparison(measured), *final_lines(measured)]), flush=True)
    return 0


def comparison(runs: list[Measured]) -> list[str]:
    """PostgreSQL's instances against one: the ratio of their highest rates."""
    pg = [m for m in runs if m.name.startswith("PostgreSQL")]
    if len(pg) < 2:
        return []
    one, many = (m.max_rate for m in (pg[0], pg[-1]))
    if one is None or many is None:
        return [f"  {pg[-1].instances} instances against 1: no ratio (a configuration kept none)"]
    ratio = many.rate / one.rate
    return [
        f"  PostgreSQL, {pg[-1].instances} instances against 1: {ratio:.2f}× the highest rate "
        f"(≥ {TARGET_RATIO:g}×: {verdict(ratio >= TARGET_RATIO)}; the ladder's steps bound it)"
    ]


def final_lines(runs: list[Measured]) -> list[str]:
    """Which configuration is the best (the highest rate kept; fewer instances on a tie), then
    its rate and ack p99 (none kept: rate 0 and the p99 at the first configuration's lowest)."""
    kept = [(m, s) for m in runs if (s := m.max_rate) is not None]
    if kept:
        measured, step = max(kept, key=lambda pair: (pair[1].rate, -pair[0].instances))
        best = f"  best: {measured.name}, {step.rate:g}/s"
    else:
        measured, step = runs[0], runs[0].steps[0]
        best = f"  best: none kept ack p99 < {TARGET_P99_MS:g} ms; the line gives {measured.name}"
    return [
        best,
        f"load_max_rate={step.rate if kept else 0:g} ack_p99_ms={step.p99('ack_ms'):.1f} "
        f"instances={measured.instances}",
    ]
