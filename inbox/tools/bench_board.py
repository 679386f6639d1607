"""`tsunagu bench board`: how soon the supervisors' live board shows a new message, and what
the board costs the server.

The desk (inbox.tools.bench_board_desk) is written once into a new database (SQLite; with
--database-url, PostgreSQL after it): --counselors counselors of --capacity each, --supervisors
supervisors, and enough web chat conversations that once every counselor is full, --waiting of
them wait. Each run starts a real server as its own process (`python -m inbox serve`, built-in
defaults, port 0) on a fresh copy of it (inbox.tools.bench_board_databases); every
counselor holds a staff socket open (signed in, reading the event feed), and new consulters
write at --rate messages per second for --seconds, each opening a conversation that waits too
(every counselor is full), after a warm-up of a second's worth.
1. Baseline: no supervisor signed in; the server's CPU per message.
2. The same with every supervisor's socket open. A message is stored when its consulter gets the
   ack (the server sends it right after the commit); the event that recorded it
   (message_received, read from a counselor's event feed) says which `{"type": "board",
   "event_id": N}` frame first reflects it (N at least that event's id); the latency is from the
   ack to that frame's arrival, for every (message, supervisor) pair. The server's CPU per board
   update: all it used in the run, and the excess over the baseline, per frame pushed.
Beside them, the machine's load average and how late the bench's own event loop woke: on a busy
machine both runs slow down, and a frame the bench reads late counts as late. Ends with
`board_p99_ms=<ms>` (SQLite's; with --database-url, `board_p99_ms_postgresql=<ms>` before it).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter, process_time
from typing import Any

import aiohttp

from inbox.core.errors import ValidationError
from inbox.tools.bench_board_databases import BoardDatabase, PostgresDesk, SqliteDesk, seeded_desk
from inbox.tools.bench_board_desk import Desk, StaffSocket, settle, staff_sockets
from inbox.tools.bench_report import pct, progress, verdict
from inbox.tools.bench_socket_clients import Ack, Consulter, open_consulters
from inbox.tools.bench_sockets import cpu_s, server_process
from inbox.tools.bench_workload import TEXT

TARGET_P99_MS = 200.0
WARMUP_S = 1.0  # at most: the first conversations and caches, out of the measured run
REFLECTED_TIMEOUT_S = 10.0  # after the last ack, for its event and board frames to arrive
POLL_S = 0.05
LAG_TICK_S = 0.01
QUIET_S = 1.0  # after the run, for its replies and board rounds to go out
QUIET_BUILDS = 30


@dataclass(frozen=True, slots=True)
class Run:
    supervisors: int
    loads: list[float]  # the machine's load average (1 min) as the run (each round) began
    offered: int
    acks: list[Ack]
    server_cpu_s: float
    bench_cpu_s: float
    bench_lag_ms: list[float]  # how late the bench's loop woke, sorted
    builds: list[float]  # GET /api/board on the quiet server after the run: wall ms
    build_cpu_ms: float  # the server's CPU for all of them
    wall_s: float
    updates: float  # board frames each supervisor socket got in the run, on average
    board_frames: int  # every board frame the supervisors' sockets got, warm-up included
    board_bytes: int  # their text
    counselor_boards: int  # board frames that reached a counselor's socket (should be none)
    dropped: int  # staff sockets the server closed
    unmapped: int  # acked messages whose event never reached the feed
    stored_ms: list[float]  # ack -> board frame, per (message, supervisor), sorted
    offered_ms: list[float]  # sent -> board frame, the same pairs
    unreached: int  # pairs with no board frame
    early: int  # pairs whose board frame came before the ack (counted as 0 ms)

    @classmethod
    def pooled(cls, runs: list[Run]) -> Run:
        """Rounds of the same kind as one run."""
        return cls(
            supervisors=runs[0].supervisors,
            loads=[load for run in runs for load in run.loads],
            offered=sum(run.offered for run in runs),
            acks=[ack for run in runs for ack in run.acks],
            server_cpu_s=sum(run.server_cpu_s for run in runs),
            bench_cpu_s=sum(run.bench_cpu_s for run in runs),
            bench_lag_ms=sorted(ms for run in runs for ms in run.bench_lag_ms),
            builds=[build for run in runs for build in run.builds],
            build_cpu_ms=sum(run.build_cpu_ms for run in runs),
            wall_s=sum(run.wall_s for run in runs),
            updates=sum(run.updates for run in runs),
            board_frames=sum(run.board_frames for run in runs),
            board_bytes=sum(run.board_bytes for run in runs),
            counselor_boards=sum(run.counselor_boards for run in runs),
            dropped=sum(run.dropped for run in runs),
            unmapped=sum(run.unmapped for run in runs),
            stored_ms=sorted(ms for run in runs for ms in run.stored_ms),
            offered_ms=sorted(ms for run in runs for ms in run.offered_ms),
            unreached=sum(run.unreached for run in runs),
            early=sum(run.early for run in runs),
        )

    @property
    def frame_kb(self) -> float:
        return self.board_bytes / max(1, self.board_frames) / 1024

    @property
    def cpu_ms_per_message(self) -> float:
        return self.server_cpu_s * 1000 / max(1, len(self.acks))

    def line(self, name: str) -> str:
        ack_ms = sorted(a.ms for a in self.acks)
        return (
            f"  {name:<26} {len(self.acks):>5} acked of {self.offered:<5} "
            f"ack p50 {pct(ack_ms, 0.5):6.1f} p99 {pct(ack_ms, 0.99):6.1f} ms   "
            f"server CPU {self.cpu_ms_per_message:6.2f} ms/message "
            f"({self.server_cpu_s / self.wall_s:.0%} of a core; bench "
            f"{self.bench_cpu_s / self.wall_s:.0%})"
        )


def _body(i: int) -> str:
    k = i % (len(TEXT) // 2)
    return f"{TEXT[k : k + 96]}#{i}"


async def offer(chats: list[Consulter], rate: float) -> list[Ack]:
    """One message from each consulter, at absolute times rate per second apart; the acks."""
    start = perf_counter()
    async with asyncio.TaskGroup() as tg:
        waits = []
        for i, chat in enumerate(chats):
            delay = start + i / rate - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            waits.append(tg.create_task(chat.send(_body(i)), name="offer"))
    return [ack for w in waits if (ack := w.result()) is not None]


@dataclass
class LoopLag:
    """How late the bench's own event loop wakes (ms, sorted): a late wake-up is also a board
    frame read late, so this is what the bench itself may add to the latencies it reports."""

    late_ms: list[float] = field(default_factory=list)

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            due = perf_counter() + LAG_TICK_S
            await asyncio.sleep(LAG_TICK_S)
            self.late_ms.append(max(0.0, perf_counter() - due) * 1000)
        self.late_ms.sort()


async def reflected(acks: list[Ack], feed: StaffSocket, boards: list[StaffSocket]) -> None:
    """Until every acked message's event is known and every supervisor's board reflects the
    newest of them, or REFLECTED_TIMEOUT_S (what is still missing is counted, not waited for)."""
    try:
        async with asyncio.timeout(REFLECTED_TIMEOUT_S):
            while True:
                events = [feed.event_of.get(a.message_id) for a in acks]
                if None not in events:
                    newest = max((e for e in events if e is not None), default=0)
                    if all(s.boards and max(e for _, e in s.boards) >= newest for s in boards):
                        return
                await asyncio.sleep(POLL_S)
    except TimeoutError:
        return


def latencies(
    acks: list[Ack], feed: StaffSocket, boards: list[StaffSocket]
) -> tuple[list[float], list[float], int, int, int]:
    """Per (message, supervisor): ack -> first board frame reflecting its event, sent -> that
    frame; and the messages without a known event, pairs without a frame, frames before acks."""
    stored: list[float] = []
    offered: list[float] = []
    unmapped = unreached = early = 0
    reaches = [s.reach() for s in boards]
    for ack in acks:
        event_id = feed.event_of.get(ack.message_id)
        if event_id is None:
            unmapped += 1
            continue
        for board, reach in zip(boards, reaches, strict=True):
            at = board.first_board_at(event_id, reach)
            if at is None:
                unreached += 1
                continue
            early += at < ack.acked
            stored.append(max(0.0, at - ack.acked) * 1000)
            offered.append((at - ack.sent) * 1000)
    return sorted(stored), sorted(offered), unmapped, unreached, early


async def quiet_builds(
    http: aiohttp.ClientSession, url: str, pid: int, desk: Desk
) -> tuple[float, list[float]]:
    """The board built alone: GET /api/board, one at a time, once the run's traffic is over;
    the server's CPU ms for all of them, and each one's wall ms.
    Its CPU is the server's for one board, without what a busy server's batching shifts between
    runs (fewer, larger commits when it is slower), which blurs the difference of two runs."""
    await asyncio.sleep(QUIET_S)
    headers = {"Authorization": f"Bearer {desk.supervisors[0].token}"}
    walls = []
    cpu = cpu_s(pid)  # over all the calls: /proc counts in ticks of 10 ms
    for _ in range(QUIET_BUILDS):
        start = perf_counter()
        async with http.get(f"{url}/api/board", headers=headers) as resp:
            resp.raise_for_status()
            await resp.read()
        walls.append((perf_counter() - start) * 1000)
    return (cpu_s(pid) - cpu) * 1000, walls


async def one_run(
    db: BoardDatabase, run_dir: Path, desk: Desk, args: Any, *, supervisors: bool
) -> Run:
    load = os.getloadavg()[0]
    rate, seconds = float(args.rate), float(args.seconds)
    warm = max(1, round(rate * min(WARMUP_S, seconds / 4)))
    n = max(1, round(rate * seconds))
    async with db.copy(run_dir) as database_url, server_process(run_dir, database_url) as server:
        url, pid = server
        connector = aiohttp.TCPConnector(limit=0)  # the default 100 would cap open sockets
        async with aiohttp.ClientSession(connector=connector) as http:
            await settle(http, url, desk)
            progress(f"server pid {pid}: every counselor full; opening {warm + n} consulters")
            chats = await open_consulters(http, url, warm + n, read=True)
            feed = StaffSocket(desk.counselors[0].token, map_events=True)
            counselors = [feed, *(StaffSocket(c.token) for c in desk.counselors[1:])]
            boards = [StaffSocket(s.token) for s in desk.supervisors] if supervisors else []
            try:
                async with staff_sockets(http, url, counselors + boards):
                    await reflected(await offer(chats[:warm], rate), feed, boards)
                    progress(f"{n} messages at {rate:g}/s")
                    lag, stop = LoopLag(), asyncio.Event()
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(lag.watch(stop), name="loop-lag")
                        cpu, own, start = cpu_s(pid), process_time(), perf_counter()
                        acks = await offer(chats[warm:], rate)
                        await reflected(acks, feed, boards)
                        end = perf_counter()
                        cpu, own = cpu_s(pid) - cpu, process_time() - own
                        stop.set()
                    built_cpu, builds = (
                        await quiet_builds(http, url, pid, desk) if supervisors else (0.0, [])
                    )
            finally:
                await asyncio.gather(*(chat.close() for chat in chats))
    stored, offered, unmapped, unreached, early = latencies(acks, feed, boards)
    updates = [sum(start <= at <= end for at, _ in s.boards) for s in boards]
    return Run(
        supervisors=len(boards),
        loads=[load],
        offered=n,
        acks=acks,
        server_cpu_s=cpu,
        bench_cpu_s=own,
        bench_lag_ms=lag.late_ms,
        builds=builds,
        build_cpu_ms=built_cpu,
        wall_s=end - start,
        updates=sum(updates) / len(updates) if updates else 0.0,
        board_frames=sum(len(s.boards) for s in boards),
        board_bytes=sum(s.board_bytes for s in boards),
        counselor_boards=sum(len(s.boards) for s in counselors),
        dropped=sum(s.dropped for s in counselors + boards),
        unmapped=unmapped,
        stored_ms=stored,
        offered_ms=offered,
        unreached=unreached,
        early=early,
    )


def report(args: Any, db: BoardDatabase, alone: list[Run], watched: list[Run]) -> list[str]:
    """Each round, then the rounds of each kind pooled, side by side. On PostgreSQL the
    server's CPU leaves out the database's."""
    base, board = Run.pooled(alone), Run.pooled(watched)
    stored, offered = board.stored_ms, board.offered_ms
    p99 = pct(stored, 0.99)
    updates = max(1.0, board.updates)
    per_update = board.server_cpu_s * 1000 / updates
    # the CPU above what the baseline used for as many messages: the board's own cost
    extra = board.server_cpu_s - base.server_cpu_s * len(board.acks) / len(base.acks)
    built_cpu = board.build_cpu_ms / max(1, len(board.builds))
    built_wall = sorted(board.builds)
    loads = ", ".join(
        f"{run.loads[0]:.1f}" for pair in zip(alone, watched, strict=True) for run in pair
    )
    rounds = []
    if len(alone) > 1:
        for i, pair in enumerate(zip(alone, watched, strict=True), 1):
            rounds += [
                pair[0].line(f"  no supervisor, round {i}"),
                pair[1].line(f"  {board.supervisors} supervisors, round {i}"),
            ]
    return [
        f"== board ({db.name}, built-in defaults): {args.counselors} counselors (capacity "
        f"{args.capacity}, all full), {args.supervisors} supervisors, {args.waiting} waiting, "
        f"new consulters at {args.rate:g} msg/s for {args.seconds:g} s, {len(alone)} rounds ==",
        f"  machine                    {os.cpu_count()} cores, load average {loads} as each run "
        "began (other work on it slows both kinds)"
        + ("; the server's CPU leaves out PostgreSQL's" if db.name == "PostgreSQL" else ""),
        *rounds,
        base.line("no supervisor (baseline)"),
        board.line(f"{board.supervisors} supervisors"),
        f"  board updates              {board.updates:.0f} frames to each supervisor "
        f"({board.updates / board.wall_s:.1f}/s, {board.frame_kb:.0f} KiB each), "
        f"{board.counselor_boards} to counselors; "
        f"staff sockets dropped: {base.dropped} and {board.dropped}",
        f"  stored → board             p50 {pct(stored, 0.5):6.1f} ms  p99 {p99:6.1f} ms   "
        f"(< {TARGET_P99_MS:g}: {verdict(p99 < TARGET_P99_MS)}; {len(stored)} message × "
        f"supervisor pairs, {board.unreached} never reached, {board.early} before the ack; "
        f"{board.unmapped} messages not in the event feed)",
        f"  sent → board               p50 {pct(offered, 0.5):6.1f} ms  "
        f"p99 {pct(offered, 0.99):6.1f} ms",
        f"  the bench's loop, late by  p50 {pct(board.bench_lag_ms, 0.5):6.1f} ms  "
        f"p99 {pct(board.bench_lag_ms, 0.99):6.1f} ms   (what reading the frames late may add)",
        f"  server CPU per update      {per_update:6.2f} ms (all it used in the run, per board "
        f"frame); the board's own {extra * 1000 / updates:+.2f} ms (above the baseline's CPU "
        "for as many messages)",
        f"  one board, built alone     {built_cpu:6.2f} ms of server CPU, p50 "
        f"{pct(built_wall, 0.5):.1f} ms (GET /api/board, {len(built_wall)} calls one at a time "
        "on the quiet server after each run)",
    ]


def check(args: Any) -> None:
    sizes = [args.counselors, args.supervisors, args.capacity, args.rounds]
    if min(sizes) < 1 or args.waiting < 0 or args.rate <= 0 or args.seconds <= 0:
        raise ValidationError(
            "--counselors, --supervisors, --capacity, --rounds, --rate and --seconds must be "
            "positive, "
            "--waiting at least 0",
            field="bench",
        )


def run_board_bench(args: Any) -> int:
    check(args)
    if not Path("/proc/self/stat").exists():
        print(
            "tsunagu bench board: reads the server's CPU time from /proc (Linux)", file=sys.stderr
        )
        return 2
    return asyncio.run(_bench(args))


async def _bench(args: Any) -> int:
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp:
        dbs: list[BoardDatabase] = [SqliteDesk(Path(tmp) / "seed")]
        if args.database_url:
            dbs.append(PostgresDesk(args.database_url))
        found: list[tuple[BoardDatabase, list[Run], list[Run]]] = []
        for db in dbs:
            try:
                alone, watched = await _runs(db, Path(tmp) / db.name, args)
            finally:
                await db.close()
            if not any(run.stored_ms for run in watched):
                print(
                    f"tsunagu bench board: no board frame reached a supervisor's socket on "
                    f'{db.name} (does this server push {{"type": "board", "event_id": N}} '
                    "frames?)",
                    file=sys.stderr,
                )
                return 1
            found.append((db, alone, watched))
    for db, alone, watched in found:
        print("\n".join(report(args, db, alone, watched)), flush=True)
    for db, _, watched in reversed(found):  # SQLite's last
        suffix = "" if isinstance(db, SqliteDesk) else "_postgresql"
        print(f"board_p99_ms{suffix}={pct(Run.pooled(watched).stored_ms, 0.99):.1f}")
    return 0


async def _runs(db: BoardDatabase, where: Path, args: Any) -> tuple[list[Run], list[Run]]:
    """--rounds of a run without supervisors then one with them: the machine's load drifts,
    and alternating spreads the drift over both kinds."""
    progress(
        f"{db.name}: seeding {args.counselors} counselors, {args.supervisors} supervisors, "
        f"{args.waiting + args.counselors * args.capacity} conversations"
    )
    desk = await seeded_desk(
        db,
        counselors=int(args.counselors),
        supervisors=int(args.supervisors),
        capacity=int(args.capacity),
        waiting=int(args.waiting),
    )
    alone: list[Run] = []
    watched: list[Run] = []
    for i in range(1, int(args.rounds) + 1):
        progress(f"{db.name}, round {i}: baseline, no supervisor signed in")
        alone.append(await one_run(db, where / f"alone{i}", desk, args, supervisors=False))
        progress(f"{db.name}, round {i}: {args.supervisors} supervisors signed in")
        watched.append(await one_run(db, where / f"watched{i}", desk, args, supervisors=True))
    return alone, watched
