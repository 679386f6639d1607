"""The clients of `tsunagu bench load`, in their own process (`python -m
inbox.tools.load_generator`), so that the server's CPU is the server's and a loaded generator can
be told from a slow server (its loop's lateness is reported with each rate).

It reads JSON lines on stdin and answers JSON lines on stdout (progress goes to stderr):
- `{"setup": {...}}` (the servers' URLs, the counselors' user ids and API tokens, a supervisor's
  token, the number of consulters, the share of messages answered): opens the consulters'
  chats, each writes once (a new conversation); the first of them, one per counselor, are
  assigned to her by the supervisor (over her capacity) and opened, so that she can answer (a
  reply must reach the chat even when her socket is on another server than the counselor's); then
  every counselor's console opens its socket. Answers `{"ready": true}`.
- `{"rate": R, "seconds": T}`: R*T messages from the consulters in turn, open loop, while the
  counselors answer their held conversations at share*R replies a second; answers `{"sending":
  true}` as the first goes out, `{"sent": true}` after the last, then `{"result": {...}}` once
  every event has reached every console or LOST_TIMEOUT_S passed.
Socket i (consulter or console) talks to server i mod N, and stays there (sticky).

A console behaves as the staff console does (console/queue.js refreshQueue): on an event frame
it fetches the queue again (GET /api/conversations?status=queued,assigned,waiting) a moment
later, at most one request in flight and at most one a second (events that come meanwhile ask
for one more afterwards), with If-None-Match once it has an ETag (the browser's revalidation).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from time import perf_counter, process_time
from typing import Any

import aiohttp

from inbox.tools.bench_board import LoopLag, offer
from inbox.tools.bench_board_desk import StaffSocket, staff_sockets
from inbox.tools.bench_open_loop import Call, paced
from inbox.tools.bench_report import pct, progress
from inbox.tools.bench_socket_clients import Consulter, open_consulters

QUEUE_PATH = "/api/conversations?status=queued,assigned,waiting"
LOST_TIMEOUT_S = 10.0  # after the last ack, for its event (and the replies) to arrive
POLL_S = 0.05
SETUP_AT_ONCE = 50
SEED = 18  # which replies go to which held conversation: the same in every run
# As the console's refreshQueue (coalesced(loadQueue, 120, 1000, 1000)): a burst of frames
# waits this long for more, and fetches start at least REFETCH_GAP_S apart.
REFETCH_WAIT_S = 0.12
REFETCH_GAP_S = 1.0


# What _shared_parse adds to an events frame, worked out once for every console: its event ids
# (a frozenset) and the message ids of its message_received events, in order.
IDS, RECEIVED = "__event_ids", "__received"


@lru_cache(maxsize=256)
def _shared_parse(text: str) -> dict[str, Any]:
    """The feed encodes a frame once for every staff socket: parsed once here too, or 200
    consoles would spend the generator's loop on the same JSON."""
    found: dict[str, Any] = json.loads(text)
    if found.get("type") == "events":
        events = found["events"]
        found[IDS] = frozenset(e["id"] for e in events)
        found[RECEIVED] = [
            e["message_id"]
            for e in events
            if e["kind"] == "message_received" and e["message_id"] is not None
        ]
    return found


@dataclass
class Console(StaffSocket):
    """A counselor's console: when each message_received event came, every event id it saw
    (twice: doubled), and its refetches of the queue."""

    user_id: int = 0
    url: str = ""
    got: dict[int, float] = field(default_factory=dict)  # message id -> when its event came
    seen: set[int] = field(default_factory=set)  # event ids, this rate's
    seen_before: set[int] = field(default_factory=set)  # the rate's before
    doubled: int = 0
    refetches: int = 0
    not_modified: int = 0
    refetch_errors: int = 0
    _want: asyncio.Event = field(default_factory=asyncio.Event)
    _etag: str | None = None

    def parse(self, text: str) -> dict[str, Any]:
        return _shared_parse(text)

    def take(self, at: float, frame: dict[str, Any], size: int = 0) -> None:
        if frame.get("type") != "events":
            return
        # As set operations, not event by event: 200 consoles take every frame. An event is
        # doubled when this console saw its id before (this rate or the last) or earlier in
        # the same frame; a message keeps the time its first message_received came.
        ids: frozenset[int] = frame[IDS]
        self.doubled += len(frame["events"]) - len(ids - self.seen - self.seen_before)
        self.seen |= ids
        for message_id in frame[RECEIVED]:
            self.got.setdefault(message_id, at)
        self._want.set()

    def next_rate(self) -> None:
        self.seen_before, self.seen = self.seen, set()
        self.got.clear()

    async def refetch_forever(self, http: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        last_start = -REFETCH_GAP_S
        while True:
            await self._want.wait()
            wait_s = max(REFETCH_WAIT_S, last_start + REFETCH_GAP_S - loop.time())
            await asyncio.sleep(wait_s)
            self._want.clear()  # what comes from here on asks for one more
            last_start = loop.time()
            headers = {"Authorization": f"Bearer {self.token}"}
            if self._etag is not None:
                headers["If-None-Match"] = self._etag
            try:
                async with http.get(self.url + QUEUE_PATH, headers=headers) as resp:
                    await resp.read()
                    self.refetches += 1
                    self.not_modified += resp.status == 304
                    if resp.status == 200:
                        self._etag = resp.headers.get("ETag")
                    elif resp.status != 304:
                        self.refetch_errors += 1
            except aiohttp.ClientError:
                self.refetch_errors += 1


@dataclass
class Held:
    """A consulter's conversation that her counselor holds and answers."""

    chat: Consulter
    conversation_id: int
    console: Console


@dataclass
class Load:
    """The consulters, the consoles and the held conversations: one rate at a time."""

    chats: list[Consulter]
    consoles: list[Console]
    held: list[Held]
    reply_share: float
    http: aiohttp.ClientSession
    _rng: random.Random = field(default_factory=lambda: random.Random(SEED))

    def _reply(self, posted: list[tuple[float, int, Consulter]]) -> Call:
        """One reply by a held conversation's counselor; posted: (POST sent, reply id, chat)."""
        held = self.held[self._rng.randrange(len(self.held))]

        async def call() -> float:
            headers = {"Authorization": f"Bearer {held.console.token}"}
            body = {"body": "お返事です", "force": True}
            url = f"{held.console.url}/api/conversations/{held.conversation_id}/replies"
            start = perf_counter()
            try:
                async with self.http.post(url, json=body, headers=headers) as resp:
                    if resp.status != 201:
                        return -1.0
                    found = await resp.json()
            except aiohttp.ClientError:
                return -1.0
            posted.append((start, found["message"]["id"], held.chat))
            return (perf_counter() - start) * 1000

        return call

    async def rate(self, rate: float, seconds: float) -> dict[str, Any]:
        n = max(1, round(rate * seconds))
        order = [self.chats[i % len(self.chats)] for i in range(n)]
        for console in self.consoles:
            console.next_rate()
        doubled_before = [c.doubled for c in self.consoles]
        before = self._totals()
        replies = round(n * self.reply_share) if self.held else 0
        posted: list[tuple[float, int, Consulter]] = []
        lag, stop = LoopLag(), asyncio.Event()
        say({"sending": True})
        own, start = process_time(), perf_counter()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(lag.watch(stop), name="loop-lag")
            answering = tg.create_task(
                paced([self._reply(posted) for _ in range(replies)], rate * self.reply_share)
                if replies
                else _nothing(),
                name="replies",
            )
            acks = await offer(order, rate)
            say({"sent": True})
            await answering
            await self._drain([a.message_id for a in acks], posted)
            stop.set()
        wall, own = perf_counter() - start, process_time() - own
        ack_ms = sorted(a.ms for a in acks)
        push_ms: list[float] = []
        lost: list[int] = []
        for console in self.consoles:
            times = [console.got.get(a.message_id) for a in acks]
            lost.append(sum(t is None for t in times))
            push_ms += [
                max(0.0, t - a.acked) * 1000
                for t, a in zip(times, acks, strict=True)
                if t is not None
            ]
        push_ms.sort()
        reply_ms = sorted(
            (chat.replies[mid] - at) * 1000 for at, mid, chat in posted if mid in chat.replies
        )
        doubled = [c.doubled - d for c, d in zip(self.consoles, doubled_before, strict=True)]
        after = self._totals()
        return {
            "offered": n,
            "acked": len(acks),
            "ack_ms": quantiles(ack_ms),
            "push_ms": quantiles(push_ms),
            "push_pairs": len(push_ms),
            "lost": sum(lost),
            "lost_sockets": sum(x > 0 for x in lost),
            "doubled": sum(doubled),
            "doubled_sockets": sum(x > 0 for x in doubled),
            "replies_offered": replies,
            "replies_posted": len(posted),
            "replies_arrived": len(reply_ms),
            "reply_ms": quantiles(reply_ms),
            **{key: after[key] - before[key] for key in after},
            "lag_ms": quantiles(lag.late_ms),
            "cpu": own / wall,
            "wall_s": wall,
        }

    def _totals(self) -> dict[str, int]:
        """The sockets' counts so far, summed: a rate's are the difference."""
        return {
            "staff_dropped": sum(c.dropped for c in self.consoles),
            "consulters_cut": sum(chat.ws.closed for chat in self.chats),
            "refetches": sum(c.refetches for c in self.consoles),
            "not_modified": sum(c.not_modified for c in self.consoles),
            "refetch_errors": sum(c.refetch_errors for c in self.consoles),
        }

    async def _drain(
        self, message_ids: list[int], posted: list[tuple[float, int, Consulter]]
    ) -> None:
        """Until every console saw every acked message's event and every reply reached its
        chat, or LOST_TIMEOUT_S: what is missing then is counted as lost."""
        try:
            async with asyncio.timeout(LOST_TIMEOUT_S):
                while True:
                    if all(all(m in c.got for m in message_ids) for c in self.consoles) and all(
                        mid in chat.replies for _, mid, chat in posted
                    ):
                        return
                    await asyncio.sleep(POLL_S)
        except TimeoutError:
            return


async def _nothing() -> None:
    return None


def quantiles(sorted_ms: list[float]) -> list[float] | None:
    """[p50, p99], or None when nothing was measured."""
    return [pct(sorted_ms, 0.5), pct(sorted_ms, 0.99)] if sorted_ms else None


def say(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


async def listen() -> dict[str, Any]:
    line = await asyncio.to_thread(sys.stdin.readline)
    return json.loads(line) if line.strip() else {"stop": True}


async def held_conversations(
    http: aiohttp.ClientSession, chats: list[Consulter], consoles: list[Console], supervisor: str
) -> list[Held]:
    """Each consulter writes once; the first of them, one per counselor, are assigned to her
    (a supervisor's decision overrides capacity) and opened by her (no offer timeout)."""
    room = asyncio.Semaphore(SETUP_AT_ONCE)

    async def first(chat: Consulter) -> int | None:
        async with room:
            ack = await chat.send("はじめまして")
        return None if ack is None else ack.conversation_id

    conversations = await asyncio.gather(*(first(chat) for chat in chats))
    held = []
    for j, console in enumerate(consoles):
        # j's consulter is j's neighbour every other pair (2<->3, 6<->7, ...): with two servers,
        # half the pairs are on different ones, as a load balancer would place them
        k = j ^ ((j >> 1) & 1)
        if k >= len(chats):
            k = j
        if k < len(chats) and (conv := conversations[k]) is not None:
            held.append(Held(chats[k], conv, console))

    async def hold(h: Held) -> None:
        async with room:
            url = f"{h.console.url}/api/conversations/{h.conversation_id}"
            boss = {"Authorization": f"Bearer {supervisor}"}
            async with http.post(
                f"{url}/assign", json={"user_id": h.console.user_id}, headers=boss
            ) as r:
                r.raise_for_status()
            async with http.get(url, headers={"Authorization": f"Bearer {h.console.token}"}) as r:
                r.raise_for_status()

    await asyncio.gather(*(hold(h) for h in held))
    return held


async def main() -> None:
    setup = (await listen())["setup"]
    urls: list[str] = setup["urls"]
    connector = aiohttp.TCPConnector(limit=0)  # the default 100 would cap open sockets
    async with aiohttp.ClientSession(connector=connector) as http:
        chats: list[Consulter] = []
        for i, url in enumerate(urls):  # consulter k on server k mod N
            share = len(range(i, int(setup["consulters"]), len(urls)))
            chats += await open_consulters(http, url, share, read=True)
        chats = [chats[k] for k in _interleaved(int(setup["consulters"]), len(urls))]
        consoles = [
            Console(token, map_events=True, user_id=user_id, url=urls[j % len(urls)])
            for j, (user_id, token) in enumerate(setup["counselors"])
        ]
        progress(f"generator: {len(chats)} consulters open; counselors take one each")
        held = await held_conversations(http, chats, consoles, setup["supervisor"])
        load = Load(chats, consoles, held, float(setup["reply_share"]), http)
        try:
            async with asyncio.TaskGroup() as tg:
                refetching = [
                    tg.create_task(c.refetch_forever(http), name="refetch") for c in consoles
                ]
                async with staff_sockets(http, urls, consoles):
                    say({"ready": True, "held": len(held)})
                    while "rate" in (command := await listen()):
                        say({"result": await load.rate(command["rate"], command["seconds"])})
                for task in refetching:
                    task.cancel()
        finally:
            await asyncio.gather(*(chat.close() for chat in chats))


def _interleaved(n: int, servers: int) -> list[int]:
    """Opened server by server; back in the order k = 0..n-1 with consulter k on server k mod
    N (the first of each server's block, then the second, ...)."""
    starts = [sum(len(range(s, n, servers)) for s in range(i)) for i in range(servers)]
    return [starts[k % servers] + k // servers for k in range(n)]


if __name__ == "__main__":
    asyncio.run(main())
