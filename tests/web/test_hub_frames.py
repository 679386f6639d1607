"""inbox.web.hub's frames: encoded once as the bytes aiohttp would write, written at once to a
socket with room, queued in order behind anything waiting or a full buffer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp._websocket.writer import WebSocketWriter

from inbox.web.hub import STAFF, WRITE_BUFFER_BYTES, Frame, Hub


class Transport:
    """What a Subscriber uses of asyncio's transport; `buffered` stands for the unsent bytes."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.buffered = 0
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class Socket:
    closed = False


class Request:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
async def test_a_frame_is_the_bytes_aiohttp_writes_for_it(size: int) -> None:
    text = "あ" * (size // 3) + "x" * (size % 3)
    transport = Transport()
    writer = WebSocketWriter(object(), transport, use_mask=False)  # type: ignore[arg-type]
    await writer.send_frame(text.encode(), WSMsgType.TEXT)
    assert Frame.of(text).wire == b"".join(transport.written)
    assert Frame.of(text).data == text.encode()


def subscriber(hub: Hub, transport: Transport) -> Any:
    return hub.add(STAFF, Socket(), Request(transport))  # type: ignore[arg-type]


async def test_a_socket_with_room_is_written_at_once_else_frames_wait_in_order() -> None:
    hub = Hub(client_queue=10)
    transport = Transport()
    sub = subscriber(hub, transport)
    assert hub.push(STAFF, {"n": 1}) == 1
    assert transport.written == [Frame.of('{"n": 1}').wire] and sub.queue.empty()

    transport.buffered = WRITE_BUFFER_BYTES  # the peer reads slowly: the buffer is full
    hub.push(STAFF, {"n": 2})
    transport.buffered = 0
    hub.push(STAFF, {"n": 3})  # room again, but 2 is waiting: 3 goes behind it
    assert len(transport.written) == 1
    assert [sub.queue.get_nowait().data for _ in range(2)] == [b'{"n": 2}', b'{"n": 3}']

    transport.closing = True
    hub.push(STAFF, {"n": 4})
    assert len(transport.written) == 1 and sub.queue.qsize() == 1


async def test_a_frame_waits_while_the_writer_is_in_a_send() -> None:
    hub = Hub(client_queue=10)
    transport = Transport()
    sub = subscriber(hub, transport)
    sent = asyncio.Event()
    release = asyncio.Event()

    async def send_frame(data: bytes, opcode: WSMsgType) -> None:
        transport.write(data)
        sent.set()
        await release.wait()  # as aiohttp's drain waits for a slow peer

    sub.ws.send_frame = send_frame
    sub.queue.put_nowait(Frame.of("{}"))
    writer = asyncio.create_task(sub.write_forever())
    await sent.wait()
    hub.push(STAFF, {"n": 2})  # the writer has not finished its frame: 2 waits behind it
    assert transport.written == [b"{}"] and sub.queue.qsize() == 1
    release.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert transport.written == [b"{}", b'{"n": 2}']
    writer.cancel()
