"""`tsunagu bench round`: one router round over a full desk, part by part, on a real store.

The desk: COUNSELORS counselors, each full, and `--waiting` conversations waiting behind them
(10,000 open with the defaults: 2,500 assigned, 7,500 waiting). A round's parts are timed
separately (the snapshot read, the pure decision, the auto-replier's `routed` and the replies
it then queues, the apply), then whole rounds: one woken by a new waiting conversation nobody
can take, and a burst of wakes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from inbox.app import utc_now
from inbox.autoreply import AutoReplier
from inbox.core.errors import ValidationError
from inbox.core.model import ChannelKind, ConversationId, InboundMessage
from inbox.router import ROUND_MIN_GAP_S, Router
from inbox.tools.bench_databases import COUNSELORS, PostgresBackend, SqliteBackend
from routing.hours import ALWAYS_OPEN
from routing.replies import ReplyTexts
from storage.base import KeyedInbound, Store

SEED_BATCH = 500
RUNS = 3  # best of three per part


async def seed(store: Store, *, capacity: int, waiting: int) -> None:
    """COUNSELORS * capacity + waiting queued web chats, one contact each, oldest first; then one
    round fills every counselor."""
    now = utc_now()
    total = COUNSELORS * capacity + waiting
    items = [
        KeyedInbound(
            message=InboundMessage(
                channel=ChannelKind.WEBCHAT,
                external_id=f"round-{i}",
                sender=f"round-{i}",
                body="bench",
                received_at=now - timedelta(seconds=total - i),
            ),
            identity_hash=f"round-{i}",
        )
        for i in range(total)
    ]
    for start in range(0, total, SEED_BATCH):
        await store.save_inbound_batch(items[start : start + SEED_BATCH])
    router = Router(store, clock=utc_now)
    while await router.route_once():
        pass


async def best_of(step: Callable[[], Any]) -> float:
    """The fastest of RUNS calls, in ms."""
    best = float("inf")
    for _ in range(RUNS):
        start = perf_counter()
        result = step()
        if asyncio.iscoroutine(result):
            await result
        best = min(best, perf_counter() - start)
    return best * 1000


async def time_round(store: Store, label: str, burst: int) -> list[str]:
    replier = AutoReplier(store, texts=ReplyTexts(), hours_for=lambda _: ALWAYS_OPEN, clock=utc_now)
    router = Router(store, clock=utc_now, on_round=replier.routed, round_min_gap_s=ROUND_MIN_GAP_S)
    behind = iter(range(10**9, 10**10))  # arrivals that queue behind the page

    async def replies_queued() -> None:
        replier.routed(snapshot, decisions, ())
        await replier.send_pending()

    async def whole_round() -> None:
        router.wake()
        await router.route_once()

    async def after_arrival() -> None:
        router.arrived(0, utc_now(), ConversationId(next(behind)))
        await router.route_once()

    snapshot = await store.routing_snapshot()
    now = utc_now()
    decisions = router.decide(snapshot, now)
    assigned = sum(1 for d in decisions if type(d).__name__ == "Assign")
    lines = [
        f"== {label}: {len(snapshot.waiting)} in the page, {len(decisions)} decisions, "
        f"{assigned} assigned =="
    ]
    parts = {
        "snapshot read": lambda: store.routing_snapshot(),
        "decide": lambda: router.decide(snapshot, now),
        "on_round (routed)": lambda: replier.routed(snapshot, decisions, ()),
        "  its replies queued": replies_queued,
        "apply (nothing fits)": lambda: store.apply_assignments([], now=now),
        "requeue_lapsed (none)": lambda: store.requeue_lapsed_offers(
            offered_before=now - timedelta(days=1), now=now
        ),
        "whole round": whole_round,
        "round after an arrival": after_arrival,
    }
    for name, step in parts.items():
        lines.append(f"  {name:24} {await best_of(step):9.2f} ms")
    task = asyncio.create_task(router.run())
    # A page read just now: the one the parts above kept may be a sweep old (a slow machine),
    # and the burst's first round would read the queue again for that alone.
    router.wake()
    await router.next_round(timeout_s=60)
    before, read_before = router.rounds_done, router.snapshots_read
    start = perf_counter()
    for _ in range(burst):
        router.arrived(0, utc_now(), ConversationId(next(behind)))
        await asyncio.sleep(0.001)  # 1,000 wakes a second
    # Until the rounds stop (not next_round: a round asked for directly reads the queue, and
    # on a slow machine the burst's last round may already have taken every arrival).
    while True:
        done = router.rounds_done
        await asyncio.sleep(ROUND_MIN_GAP_S * 4)
        if router.rounds_done == done:
            break
    spent = perf_counter() - start
    task.cancel()
    lines.append(
        f"  burst of {burst} arrivals over {spent:.2f} s: {router.rounds_done - before} rounds, "
        f"{router.snapshots_read - read_before} of them read the queue"
    )
    return lines


@asynccontextmanager
async def sqlite_store(capacity: int) -> AsyncIterator[Store]:
    with tempfile.TemporaryDirectory() as tmp:
        async with SqliteBackend(Path(tmp), capacity).store("round") as store:
            yield store


async def run_round_bench(args: Any) -> int:
    capacity, waiting, burst = int(args.capacity), int(args.waiting), int(args.burst)
    if capacity < 1 or waiting < 0 or burst < 1:
        raise ValidationError("--capacity and --burst must be positive", field="bench")
    backends: list[tuple[str, Callable[[], Any]]] = [("SQLite", lambda: sqlite_store(capacity))]
    url = args.database_url
    if url:
        pg = PostgresBackend(url, capacity)
        backends.append(("PostgreSQL", lambda: pg.store("round")))
    for name, open_store in backends:
        print(
            f"  … {name}: seeding {COUNSELORS * capacity + waiting} conversations", file=sys.stderr
        )
        async with open_store() as store:
            await seed(store, capacity=capacity, waiting=waiting)
            print("\n".join(await time_round(store, name, burst)), flush=True)
    return 0
