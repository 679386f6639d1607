"""Fan-out to websockets that never waits on a client: one bounded queue and writer per socket.

A frame is encoded once, when it is pushed or offered, as JSON and as the websocket frame's
bytes (a server's frames are not masked, so they are the same for every socket): the staff feed
sends one frame per round to all staff sockets, so the cost of a round is one encoding, not one
per socket. A socket with nothing waiting and room in its transport's buffer is written at once
(`Subscriber.write_now`): no queue, no task switch, no framing per socket, which is most of what
a round cost at 200 consoles. Otherwise the frame waits in the socket's queue for its writer.

A socket whose queue is full, or whose writes stay blocked for `send_timeout_s` (its peer does
not read), is closed with 1013 (try again later); its page reconnects and refetches, which is
cheaper for everyone than letting one slow phone stall the others or hold memory. The transport
buffers at most about WRITE_BUFFER_BYTES plus one frame (asyncio's default high-water mark and
aiohttp's writer limit are 64 KiB each), and the kernel KERNEL_SEND_BUFFER_BYTES.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

log = logging.getLogger(__name__)
WRITE_BUFFER_BYTES = 16 * 1024
KERNEL_SEND_BUFFER_BYTES = 64 * 1024  # the kernel doubles it for its bookkeeping
CLOSE_TIMEOUT_S = 2.0  # a closing handshake the peer does not read is cut short
STAFF = "staff"  # the staff hub's one group: every staff socket


def socket_response(*, heartbeat_s: float, max_msg_size: int) -> web.WebSocketResponse:
    return web.WebSocketResponse(
        heartbeat=heartbeat_s,
        max_msg_size=max_msg_size,
        writer_limit=WRITE_BUFFER_BYTES,
        # permessage-deflate keeps a zlib stream of some 300 KiB per socket for the socket's
        # life; our frames are small JSON, and thousands of idle sockets must stay cheap
        compress=False,
    )


@dataclass(frozen=True, slots=True)
class Frame:
    """One text frame, encoded once for every socket it goes to."""

    data: bytes  # the JSON's UTF-8
    wire: bytes  # the whole websocket frame (RFC 6455 5.2: FIN, text, unmasked length, data)

    @classmethod
    def of(cls, text: str) -> Frame:
        data = text.encode("utf-8")
        size = len(data)
        if size < 126:
            header = struct.pack("!BB", 0x81, size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 127, size)
        return cls(data, header + data)


class Subscriber:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
        *,
        queue_size: int,
        send_timeout_s: float,
        owner: Hashable | None,
        session: Hashable | None = None,
    ) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=queue_size)
        self.dropped = False
        self._sending = False  # the writer is in a send (its frame may wait for the buffer)
        self.owner = owner  # the staff user behind the socket, so that disabling her closes it
        self.session = session  # her sign-in session's tag; None: an API token's socket
        self._transport = transport
        self._send_timeout_s = send_timeout_s
        if transport is not None:
            transport.set_write_buffer_limits(high=WRITE_BUFFER_BYTES)
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                # Linux grows a send buffer up to tcp_wmem's maximum (4 MiB) even for a peer
                # that reads nothing: kernel memory that one stalled phone could pin.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER_BYTES)

    async def write_forever(self) -> None:
        """Run as the socket's writer task until cancelled or the socket closes; a peer that
        stays behind for send_timeout_s is cut off."""
        while not self.ws.closed:
            frame = await self.queue.get()
            self._sending = True
            try:
                async with asyncio.timeout(self._send_timeout_s):
                    await self.ws.send_frame(frame.data, WSMsgType.TEXT)
            except TimeoutError:
                log.info("socket stayed behind", extra={"action": "ws_dropped_stuck"})
                self.abort()
                return
            except ConnectionError:
                return  # the peer is gone; the reader sees it too and ends the handler
            finally:
                self._sending = False

    def write_now(self, frame: Frame) -> bool:
        """Write the frame to the transport at once when that keeps every frame in order and
        within the buffer's bound: nothing queued or being sent, the socket open, and room
        below WRITE_BUFFER_BYTES. False: queue it (its writer waits for the peer, in order).
        aiohttp writes each frame with no await inside it, so this one never splits another."""
        transport = self._transport
        if (
            transport is None
            or self._sending
            or not self.queue.empty()
            or self.ws.closed
            or transport.is_closing()
            or transport.get_write_buffer_size() + len(frame.wire) > WRITE_BUFFER_BYTES
        ):
            return False
        transport.write(frame.wire)
        return True

    def abort(self) -> None:
        """Drop the connection and its unsent buffer: a close frame would wait behind them."""
        if self._transport is not None:
            self._transport.abort()

    async def close(self, code: int, message: bytes) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self.ws.close(code=code, message=message)
        except TimeoutError:
            self.abort()


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)  # Japanese: 3 bytes, not 6 (\uXXXX)


class Hub:
    """Sockets grouped by a key: a session key for consulters, a constant for staff."""

    def __init__(self, *, client_queue: int, send_timeout_s: float = 10.0) -> None:
        self._client_queue = client_queue
        self._send_timeout_s = send_timeout_s
        self._groups: dict[Hashable, set[Subscriber]] = defaultdict(set)

    def add(
        self,
        key: Hashable,
        ws: web.WebSocketResponse,
        request: web.Request | None = None,  # None: no connection to bound (tests of the fan-out)
        *,
        owner: Hashable = None,
        session: Hashable = None,
    ) -> Subscriber:
        sub = Subscriber(
            ws,
            None if request is None else request.transport,
            queue_size=self._client_queue,
            send_timeout_s=self._send_timeout_s,
            owner=owner,
            session=session,
        )
        self._groups[key].add(sub)
        return sub

    def remove(self, key: Hashable, sub: Subscriber) -> None:
        group = self._groups.get(key)
        if group is not None:
            group.discard(sub)
            if not group:
                del self._groups[key]

    def push(self, key: Hashable, payload: dict[str, Any]) -> int:
        """Queue for every socket under `key`, without awaiting any; return how many took it.
        Encoded once, whatever the number of sockets."""
        subs = list(self._groups.get(key, ()))
        if not subs:
            return 0
        frame = Frame.of(encode(payload))
        return sum(self._queue(key, sub, frame) for sub in subs)

    def push_to(self, key: Hashable, subs: Iterable[Subscriber], payload: dict[str, Any]) -> int:
        """Queue for these sockets of `key` only (those still registered), encoded once; return
        how many took it."""
        group = self._groups.get(key, set())
        chosen = [sub for sub in subs if sub in group]
        if not chosen:
            return 0
        frame = Frame.of(encode(payload))
        return sum(self._queue(key, sub, frame) for sub in chosen)

    def push_all(self, payload: dict[str, Any]) -> int:
        """push() to every socket of every key; return how many took it."""
        frame = Frame.of(encode(payload))
        return sum(
            self._queue(key, sub, frame)
            for key, group in list(self._groups.items())
            for sub in list(group)
        )

    def offer(self, key: Hashable, sub: Subscriber, payload: dict[str, Any]) -> bool:
        """Queue for one socket (an answer meant for it alone); a full queue drops it."""
        return self._queue(key, sub, Frame.of(encode(payload)))

    def _queue(self, key: Hashable, sub: Subscriber, frame: Frame) -> bool:
        if sub.write_now(frame):
            return True
        try:
            sub.queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.info("slow socket dropped", extra={"action": "ws_dropped_slow"})
            self._drop(key, sub, WSCloseCode.TRY_AGAIN_LATER, b"too slow, reconnect")
            return False
        return True

    def close_owned_by(
        self,
        key: Hashable,
        owner: Hashable,
        message: bytes,
        *,
        spare: Callable[[Subscriber], bool] | None = None,
    ) -> int:
        """Close every socket under `key` that `owner` opened (1008), but those `spare` says
        to leave open; return how many closed."""
        owned = [
            sub
            for sub in self._groups.get(key, ())
            if sub.owner == owner and (spare is None or not spare(sub))
        ]
        for sub in owned:
            self._drop(key, sub, WSCloseCode.POLICY_VIOLATION, message)
        return len(owned)

    def _drop(self, key: Hashable, sub: Subscriber, code: int, message: bytes) -> None:
        if sub.dropped:
            return
        sub.dropped = True
        self.remove(key, sub)
        # close() awaits the peer; run it beside publish, never inside it
        task = asyncio.get_running_loop().create_task(sub.close(code, message))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    def count(self, key: Hashable) -> int:
        return len(self._groups.get(key, ()))

    def keys(self) -> int:
        """How many keys have a socket open (for a consulter: sessions), without counting them."""
        return len(self._groups)

    async def close_all(self) -> None:
        subs = [sub for group in self._groups.values() for sub in group]
        self._groups.clear()
        await asyncio.gather(
            *(sub.close(WSCloseCode.GOING_AWAY, b"server shutdown") for sub in subs)
        )


# Strong references to closing tasks, so they are not garbage-collected mid-close.
_closing: set[asyncio.Task[None]] = set()


class Audience:
    """Some of one key's sockets (the supervisors' among the staff's), pushed to apart from the
    rest: each frame still encoded once, and still through each socket's own queue and writer."""

    def __init__(self, hub: Hub, key: Hashable) -> None:
        self._hub = hub
        self._key = key
        self._subs: set[Subscriber] = set()
        self._missed: set[Subscriber] = set()  # passed over, and not pushed to since
        self.behind = 0  # the sockets that missed the last frame pushed (see push)

    def add(self, sub: Subscriber) -> None:
        self._subs.add(sub)

    def discard(self, sub: Subscriber) -> None:
        self._subs.discard(sub)

    def __len__(self) -> int:
        return len(self._subs)

    def push(
        self, payload: dict[str, Any], *, backlog: int | None = None, missed: bool = False
    ) -> int:
        """Queue for each of these sockets still open; return how many took it. With `backlog`,
        a socket with that many frames still unsent is passed over (counted in `behind`): for
        a frame that is a whole state, a later one will do, and a slow phone holds a few
        frames, not a queue of them. With `missed`, only to the sockets that missed the frames
        pushed since they were last pushed to (the same frame again: the others have it)."""
        self._subs = {sub for sub in self._subs if not sub.dropped}
        wanted = self._missed & self._subs if missed else self._subs
        ready = [sub for sub in wanted if backlog is None or sub.queue.qsize() < backlog]
        self._missed = wanted.difference(ready)
        self.behind = len(self._missed)
        return self._hub.push_to(self._key, ready, payload)
