"""Fan-out to websockets that never waits on a client: one bounded queue and writer per socket.

A socket whose queue is full is closed with 1013 (try again later); its page reconnects and
refetches, which is cheaper for everyone than letting one slow phone stall the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Hashable
from typing import Any

from aiohttp import WSCloseCode, web

log = logging.getLogger(__name__)


class Subscriber:
    def __init__(self, ws: web.WebSocketResponse, queue_size: int) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=queue_size)
        self.dropped = False

    async def write_forever(self) -> None:
        """Run as the socket's writer task until cancelled or the socket closes."""
        while not self.ws.closed:
            payload = await self.queue.get()
            await self.ws.send_json(payload)


class Hub:
    """Sockets grouped by a key: a session key for consulters, a constant for staff."""

    def __init__(self, *, client_queue: int) -> None:
        self._client_queue = client_queue
        self._groups: dict[Hashable, set[Subscriber]] = defaultdict(set)

    def add(self, key: Hashable, ws: web.WebSocketResponse) -> Subscriber:
        sub = Subscriber(ws, self._client_queue)
        self._groups[key].add(sub)
        return sub

    def remove(self, key: Hashable, sub: Subscriber) -> None:
        group = self._groups.get(key)
        if group is not None:
            group.discard(sub)
            if not group:
                del self._groups[key]

    def push(self, key: Hashable, payload: dict[str, Any]) -> int:
        """Queue for every socket under `key`, without awaiting any; return how many took it."""
        return sum(self.offer(key, sub, payload) for sub in list(self._groups.get(key, ())))

    def offer(self, key: Hashable, sub: Subscriber, payload: dict[str, Any]) -> bool:
        """Queue for one socket (an answer meant for it alone); a full queue drops it."""
        try:
            sub.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self._drop(key, sub)
            return False
        return True

    def _drop(self, key: Hashable, sub: Subscriber) -> None:
        if sub.dropped:
            return
        sub.dropped = True
        self.remove(key, sub)
        log.info("slow socket dropped", extra={"action": "ws_dropped_slow"})
        # close() awaits the peer; run it beside publish, never inside it
        task = asyncio.get_running_loop().create_task(
            sub.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow, reconnect")
        )
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    def count(self, key: Hashable) -> int:
        return len(self._groups.get(key, ()))

    async def close_all(self) -> None:
        for group in list(self._groups.values()):
            for sub in list(group):
                await sub.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        self._groups.clear()


# Strong references to closing tasks, so they are not garbage-collected mid-close.
_closing: set[asyncio.Task[bool]] = set()
