"""`tsunagu bench pipeline`: intake → group commit → threading → routing, against a plain insert.

Per backend, each on a fresh database: two throughput runs (all N submitted at once, bounded by
the intake queue), one in deliveries of several messages as an IMAP fetch or a LINE webhook hands
them over, one a message per delivery as web chat does; a latency run at an offered rate (paced by
absolute times, a message per delivery); and a baseline that writes the same rows with the fastest
plain batched insert into the same database.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from inbox.app import utc_now
from inbox.command_config import load
from inbox.config import IntakeConfig
from inbox.core import model
from inbox.core.decisions import Assign
from inbox.core.errors import ValidationError
from inbox.pipeline import Intake, Stored
from inbox.router import Router
from inbox.tools.bench_databases import Backend, PostgresBackend, SqliteBackend
from inbox.tools.bench_report import pct, progress, verdict
from inbox.tools.bench_workload import Workload
from routing.hours import TOKYO
from routing.rules import UrgentTriage, labeler
from storage.base import Store

TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0
BASELINE_RUNS = 3  # best of three: the baseline is the fastest plain insert
Outcome = tuple[str, float, float]  # backend, ratio, p99 ms


@dataclass(slots=True)
class Trace:
    """What one pipeline run observed, in perf_counter seconds."""

    sent: list[float]
    acked: list[float]
    conv: list[int]
    assigned_at: dict[int, float] = field(default_factory=dict)
    batches: list[int] = field(default_factory=list)  # sizes the writer committed
    rounds: list[int] = field(default_factory=list)  # assignments per router round
    at_intake: int = 0  # conversations assigned in the intake's own transaction
    start: float = 0.0
    end: float = 0.0

    def ack_ms(self) -> list[float]:
        return sorted((ack - sent) * 1000 for sent, ack in zip(self.sent, self.acked, strict=True))

    def latencies_ms(self) -> list[float]:
        """Enqueue → its conversation assigned (or the ack, when it was assigned before)."""
        return sorted(
            (max(ack, self.assigned_at[c]) - sent) * 1000
            for sent, ack, c in zip(self.sent, self.acked, self.conv, strict=True)
        )


@dataclass(slots=True)
class _Assignments:
    """Records when each conversation was first assigned, at intake or by a router round."""

    trace: Trace
    conversations: int
    all: asyncio.Event = field(default_factory=asyncio.Event)

    def _seen(self, conversations: Iterable[int]) -> None:
        now = perf_counter()
        for conv_id in conversations:
            self.trace.assigned_at.setdefault(conv_id, now)
        if len(self.trace.assigned_at) >= self.conversations:
            self.all.set()

    def routed(self, assigns: Sequence[Assign]) -> None:
        self.trace.rounds.append(len(assigns))
        self._seen(a.conversation_id for a in assigns)

    def stored(self, answers: Sequence[Stored]) -> bool:
        """Records those assigned at intake; True when some wait for the router."""
        fresh = [a for _, a in answers if not a.duplicate]
        given = {a.conversation_id for a in fresh if a.assigned_to is not None}
        self.trace.at_intake += len(given)
        self._seen(given)
        return any(a.queued for a in fresh)


async def drive(
    store: Store, wl: Workload, cfg: IntakeConfig, rate: float | None, delivery: int = 1
) -> Trace:
    """Run the real Intake writer and Router; submit all at once (rate None) or paced, in
    deliveries of `delivery` messages."""
    n = len(wl.messages)
    trace = Trace(sent=[0.0] * n, acked=[0.0] * n, conv=[0] * n)
    seen = _Assignments(trace, wl.conversations)
    router = Router(store, clock=utc_now, on_assigned=seen.routed)

    def stored(answers: Sequence[Stored]) -> None:  # wired as in inbox.assembly
        trace.batches.append(len(answers))
        if seen.stored(answers):
            router.wake()

    intake = Intake(
        store,
        wl.key,
        queue_max=cfg.queue_max,
        batch_max=cfg.batch_max,
        ack_timeout_s=cfg.ack_timeout_s,
        on_stored=stored,
        # the default urgent triage, as a server without [routing] rules runs it
        label=labeler((), UrgentTriage(), TOKYO),
        router=router,
    )

    async def deliver(first: int, msgs: list[model.InboundMessage]) -> None:
        if len(msgs) == 1:
            answers = [await intake.submit(msgs[0])]  # the path web chat takes
        else:
            answers = await intake.submit_many(msgs)
        now = perf_counter()
        for i, answer in enumerate(answers, start=first):
            trace.acked[i] = now
            trace.conv[i] = answer.conversation_id

    async with asyncio.TaskGroup() as tg:
        workers = [tg.create_task(intake.run_writer()), tg.create_task(router.run())]
        await asyncio.sleep(0.05)  # let the router's start-up round on the empty queue pass
        trace.start = perf_counter()
        async with asyncio.timeout(60 + n / 50), asyncio.TaskGroup() as producers:
            for i in range(0, n, delivery):
                if rate is not None and (delay := trace.start + i / rate - perf_counter()) > 0:
                    await asyncio.sleep(delay)  # absolute schedule: no drift, catches up
                msgs = wl.messages[i : i + delivery]
                trace.sent[i : i + len(msgs)] = [perf_counter()] * len(msgs)
                producers.create_task(deliver(i, msgs))
        async with asyncio.timeout(60):
            await seen.all.wait()
        trace.end = perf_counter()
        for task in workers:
            task.cancel()
    return trace


async def verify(store: Store, wl: Workload) -> str:
    convs = await store.list_conversations(statuses=model.OPEN_STATUSES, limit=wl.conversations + 1)
    assigned = sum(c.status is model.ConversationStatus.ASSIGNED for c in convs)
    events = await store.list_events(limit=3 * len(wl.messages) + 10)
    received = sum(e.kind == "message_received" for e in events)
    return (
        f"stored {received}/{len(wl.messages)} messages, "
        f"assigned {assigned}/{wl.conversations} conversations ({len(convs)} open)"
    )


def routed_where(trace: Trace) -> str:
    by_router = sum(trace.rounds)
    rounds = f", in {len(trace.rounds)} rounds" if trace.rounds else ""
    return f"{trace.at_intake} at intake, {by_router} by the router{rounds}"


async def bench_backend(
    backend: Backend, n: int, rate: float, delivery: int, cfg: IntakeConfig
) -> Outcome:
    key = secrets.token_bytes(32)
    wl = Workload.build(n, "tp", key, seed=1)
    progress(f"{backend.name}: throughput run, {n} messages in deliveries of {delivery}")
    async with backend.store("throughput") as store:
        tp = await drive(store, wl, cfg, rate=None, delivery=delivery)
        checked = await verify(store, wl)
    progress(f"{backend.name}: throughput run, {n} messages one per delivery")
    async with backend.store("single") as store:
        single = await drive(store, wl, cfg, rate=None, delivery=1)
        checked_single = await verify(store, wl)
    progress(f"{backend.name}: baseline insert of the same rows, best of {BASELINE_RUNS}")
    tables = wl.tables()
    runs = [await backend.baseline(tables, f"baseline{k}") for k in range(BASELINE_RUNS)]
    by_method = {m: min(run[m] for run in runs) for m in runs[0]}
    base_s = min(by_method.values())
    n_lat = max(1, min(n, int(rate * 3)))  # about three seconds of offered load
    progress(f"{backend.name}: latency run, {n_lat} messages at {rate:g} msg/s")
    async with backend.store("latency") as store:
        lt = await drive(store, Workload.build(n_lat, "lat", key, seed=2), cfg, rate=rate)
    elapsed, single_s = tp.end - tp.start, single.end - single.start
    ratio = base_s / elapsed  # = (n / elapsed) / (n / base_s)
    ms, ack_ms = lt.latencies_ms(), lt.ack_ms()
    p99 = pct(ms, 0.99)
    lag = max(s - (lt.start + i / rate) for i, s in enumerate(lt.sent)) * 1000
    lines = [
        f"== {backend.name} ({backend.where}) ==",
        f"  messages            {n} ({wl.conversations} conversations)",
        f"  verified            {checked}",
        f"  verified            {checked_single}, one per delivery",
        *(
            f"  baseline insert     {took:8.3f} s {n / took:8.0f} msg/s   {method}"
            + ("" if took > base_s else ", the fastest: the ratios' baseline")
            for method, took in by_method.items()
        ),
        f"  pipeline            {elapsed:8.3f} s {n / elapsed:8.0f} msg/s   "
        f"deliveries of {delivery} (IMAP fetch, webhook)",
        f"    ratio             {ratio:8.3f}   "
        f"(>= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)})",
        f"  pipeline            {single_s:8.3f} s {n / single_s:8.0f} msg/s   "
        "one message per delivery (web chat)",
        f"    ratio             {base_s / single_s:8.3f}   "
        "(per-message asyncio cost: a task, a future and a timer each)",
        f"  writer batches      {len(tp.batches)}, avg {statistics.fmean(tp.batches):.1f} messages",
        f"  assigned            {routed_where(tp)}",
        f"  latency run         {n_lat} messages offered at {rate:g} msg/s, "
        f"{n_lat / (lt.end - lt.start):.0f} msg/s done, producer late by {lag:.1f} ms at most",
        f"    enqueue→assigned  p50 {pct(ms, 0.5):.1f} ms  p99 {p99:.1f} ms  max {ms[-1]:.1f} ms"
        f"   (p99 < {TARGET_P99_MS:g} ms: {verdict(p99 < TARGET_P99_MS)})",
        f"    enqueue→stored    p50 {pct(ack_ms, 0.5):.1f} ms  p99 {pct(ack_ms, 0.99):.1f} ms",
        f"    writer batches {len(lt.batches)}, avg {statistics.fmean(lt.batches):.1f} messages; "
        f"assigned {routed_where(lt)}",
    ]
    print("\n".join(lines), flush=True)
    return backend.name, ratio, p99


async def run_pipeline_bench(args: Any) -> int:
    cfg = load(args).intake
    n, rate, delivery = int(args.messages), float(args.rate), int(args.delivery)
    if n < 1 or rate <= 0 or delivery < 1:
        raise ValidationError("--messages, --rate and --delivery must be positive", field="bench")
    results: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="tsunagu-bench-") as tmp:
        backends: list[Backend] = [SqliteBackend(Path(tmp), capacity=n)]
        if args.database_url:
            backends.append(PostgresBackend(args.database_url, capacity=n))
        for backend in backends:
            progress(f"{backend.name} at {backend.where}")
            results.append(await bench_backend(backend, n, rate, delivery, cfg))
    worst, slowest = min(results, key=lambda r: r[1]), max(results, key=lambda r: r[2])
    if len(results) > 1:
        print(f"summary: the worse backend's figures: ratio {worst[0]}, p99 {slowest[0]}")
    print(f"pipeline_vs_baseline={worst[1]:.3f} p99_ms={slowest[2]:.1f}")
    return 0
