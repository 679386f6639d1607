"""Websocket clients for `bench sockets` (and its tests): a chat socket that never reads.

aiohttp's client reads into its own buffer whether or not anyone receives, so a peer that
really stops reading is written by hand: a plain TCP connection with a small receive buffer
that sends the upgrade and its frames and never reads past the handshake.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from typing import Any
from urllib.parse import urlsplit

RECEIVE_BUFFER_BYTES = 4096


def masked_text_frame(payload: bytes) -> bytes:
    """One client-to-server text frame (RFC 6455 5.2: a client masks every frame)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = bytes([0x81, 0x80 | size])
    elif size < 1 << 16:
        header = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    key = (mask * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
    return header + mask + masked


class StalledSocket:
    """A chat socket whose owner never reads what the server sends (the caller closes it)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, url: str, token: str | None) -> StalledSocket:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
            # a small limit: the stream stops reading from the socket after twice that
            reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        except BaseException:
            sock.close()
            raise
        stalled = cls(reader, writer)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                f"GET /chat/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(f"no websocket upgrade: {head[:40]!r}")
            await stalled.send({"type": "hello", "token": token})
        except BaseException:
            stalled.close()
            raise
        return stalled

    async def send(self, frame: dict[str, Any]) -> None:
        self._writer.write(masked_text_frame(json.dumps(frame).encode()))
        await self._writer.drain()

    async def read_until_closed(self) -> int:
        """Read what the server sent until it ends the connection; the bytes read."""
        total = 0
        try:
            while chunk := await self.reader.read(1 << 16):
                total += len(chunk)
        except ConnectionError:
            pass
        return total

    def close(self) -> None:
        self._writer.transport.abort()
