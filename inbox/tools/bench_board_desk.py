"""The desk of `bench board`: its staff and waiting conversations, written into the bench's
database before the server starts, and the staff sockets that read the server's frames.

The counselors start available, each with `capacity` conversations to take: when the server
starts, its router gives each her fill of the seeded conversations and she opens them (her
offers accepted, so none lapses back to the queue during the run); the rest stay waiting, as
they do on a busy evening with every counselor full. Conversations opened during the run wait
too.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import accumulate
from time import perf_counter
from typing import Any

import aiohttp

from inbox.app import utc_now
from inbox.auth import API_TOKEN_PREFIX, new_secret, secret_hash
from inbox.core.model import ChannelKind, InboundMessage, NewUser, Presence, Role
from inbox.identity import identity_hash
from inbox.tools.bench_workload import TEXT
from storage.base import KeyedInbound, Store

SEED_BATCH = 500
SETTLE_TIMEOUT_S = 60.0
POLL_S = 0.1
REOPEN_AFTER_S = 0.5
BOARD_MARK = '"board"'  # in a board frame's text; no event kind or id frame has it


@dataclass(frozen=True, slots=True)
class Staff:
    user_id: int
    token: str


@dataclass(frozen=True, slots=True)
class Desk:
    counselors: list[Staff]
    supervisors: list[Staff]
    capacity: int  # each counselor's, all of it taken
    waiting: int


async def seed_desk(
    store: Store, *, counselors: int, supervisors: int, capacity: int, waiting: int
) -> Desk:
    """Staff with an API token each, and waiting + counselors * capacity queued web chat
    conversations of one message each, in a new (migrated) store."""
    now = utc_now()

    async def staff(name: str, role: Role, cap: int) -> Staff:
        user = NewUser(
            username=name,
            display_name=name,
            password_hash="!",  # no password sign-in
            roles=frozenset({role}),
            capacity=cap,
            presence=Presence.AVAILABLE,
        )
        created = await store.create_user(user, now=now)
        secret = new_secret(API_TOKEN_PREFIX)
        await store.create_api_token(secret_hash(secret), created.id, name="bench", now=now)
        return Staff(created.id, secret)

    desk = Desk(
        counselors=[
            await staff(f"counselor{i:02d}", Role.COUNSELOR, capacity) for i in range(counselors)
        ],
        supervisors=[await staff(f"supervisor{i}", Role.SUPERVISOR, 0) for i in range(supervisors)],
        capacity=capacity,
        waiting=waiting,
    )
    key = secrets.token_bytes(32)  # the server makes its own: these senders never return
    total = waiting + counselors * capacity
    items = []
    for i in range(total):
        sender = f"bench-seed-{i}"
        k = i % (len(TEXT) // 2)
        msg = InboundMessage(
            channel=ChannelKind.WEBCHAT,
            external_id=f"seed-{i}",
            sender=sender,
            body=TEXT[k : k + 96],
            received_at=now - timedelta(seconds=total - i),  # the oldest waits longest
        )
        hashed = identity_hash(key, ChannelKind.WEBCHAT, sender)
        items.append(KeyedInbound(message=msg, identity_hash=hashed))
    for start in range(0, total, SEED_BATCH):
        await store.save_inbound_batch(items[start : start + SEED_BATCH])
    return desk


async def settle(http: aiohttp.ClientSession, url: str, desk: Desk) -> None:
    """Wait until the router has filled every counselor, then have each open what she was
    offered; returns when exactly desk.waiting conversations wait."""
    watcher = {"Authorization": f"Bearer {desk.supervisors[0].token}"}
    async with asyncio.timeout(SETTLE_TIMEOUT_S):
        while True:
            async with http.get(f"{url}/api/supervision", headers=watcher) as resp:
                resp.raise_for_status()
                found = await resp.json()
            queued = sum(q["count"] for q in found["queue"])
            loads = [c["load"] for c in found["counselors"]]
            if queued == desk.waiting and sum(loads) == desk.capacity * len(desk.counselors):
                break
            await asyncio.sleep(POLL_S)
        await asyncio.gather(*(_open_offers(http, url, c) for c in desk.counselors))


async def _open_offers(http: aiohttp.ClientSession, url: str, counselor: Staff) -> None:
    headers = {"Authorization": f"Bearer {counselor.token}"}
    async with http.get(f"{url}/api/conversations", headers=headers) as resp:
        resp.raise_for_status()
        listed = (await resp.json())["conversations"]
    for conv in listed:
        if conv["assignee_id"] == counselor.user_id:
            async with http.get(f"{url}/api/conversations/{conv['id']}", headers=headers) as one:
                one.raise_for_status()


@dataclass
class StaffSocket:
    """One staff console's socket: the board frames it got, as (perf_counter s, event_id), in
    order; with `map_events`, which event recorded each stored message (message_received)."""

    token: str
    map_events: bool = False
    boards: list[tuple[float, int]] = field(default_factory=list)
    event_of: dict[int, int] = field(default_factory=dict)  # message id -> event id
    board_bytes: int = 0  # the board frames' text, in all
    dropped: int = 0  # closed by the server (it reconnects)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, http: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> None:
        ws_url = url.replace("http://", "ws://") + "/api/ws"
        headers = {"Authorization": f"Bearer {self.token}"}
        while not stop.is_set():
            try:
                async with http.ws_connect(ws_url, headers=headers) as ws:
                    self.connected.set()
                    async for frame in ws:
                        at = perf_counter()
                        # 49 consoles' event frames, parsed only for their kind, would cost the
                        # bench's loop what it must spend reading the supervisors' frames on time
                        if frame.type is aiohttp.WSMsgType.TEXT and (
                            self.map_events or BOARD_MARK in frame.data
                        ):
                            self.take(at, self.parse(frame.data), len(frame.data))
            except (aiohttp.ClientError, OSError):
                await asyncio.sleep(REOPEN_AFTER_S)
            if not stop.is_set():
                self.dropped += 1

    def parse(self, text: str) -> dict[str, Any]:
        """One frame's JSON (`bench load`'s consoles share one parse of a frame sent to all)."""
        found: dict[str, Any] = json.loads(text)
        return found

    def take(self, at: float, frame: dict[str, Any], size: int = 0) -> None:
        """One frame that came at `at` (perf_counter s), `size` characters of JSON."""
        if frame.get("type") == "board":
            self.boards.append((at, int(frame["event_id"])))
            self.board_bytes += size
        elif self.map_events and frame.get("type") == "events":
            for event in frame["events"]:
                if event["kind"] == "message_received" and event["message_id"] is not None:
                    self.event_of[event["message_id"]] = event["id"]

    def first_board_at(self, event_id: int, reach: list[int] | None = None) -> float | None:
        """When the first board frame reflecting event_id (its event_id at least that) came."""
        ids = reach if reach is not None else self.reach()
        lo, hi = 0, len(ids)
        while lo < hi:
            mid = (lo + hi) // 2
            if ids[mid] < event_id:
                lo = mid + 1
            else:
                hi = mid
        return self.boards[lo][0] if lo < len(ids) else None

    def reach(self) -> list[int]:
        """The newest event each board frame so far reflects, in order (never decreasing)."""
        return list(accumulate((e for _, e in self.boards), max))


@asynccontextmanager
async def staff_sockets(
    http: aiohttp.ClientSession, url: str | list[str], sockets: Sequence[StaffSocket]
) -> AsyncIterator[Sequence[StaffSocket]]:
    """Every socket connected and reading until the block ends; with several servers' URLs,
    socket i on server i mod N (and back there when it reconnects: sticky)."""
    urls = [url] if isinstance(url, str) else url
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        tasks = [
            tg.create_task(s.run(http, urls[i % len(urls)], stop), name="staff-socket")
            for i, s in enumerate(sockets)
        ]
        try:
            async with asyncio.timeout(SETTLE_TIMEOUT_S):
                for s in sockets:
                    await s.connected.wait()
            yield sockets
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
