"""`python -m inbox serve` as a subprocess, and web-chat consulters that keep writing to it,
for the fault tests: they kill the server or its database and check what was acknowledged."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

TSUNAGU = [sys.executable, "-m", "inbox"]
LISTENING = re.compile(r"listening on (http://\S+?)\"")


@dataclass
class Server:
    """A running `tsunagu serve`; `lines` collects its stderr (JSON log lines) as it comes."""

    proc: asyncio.subprocess.Process
    url: str
    lines: list[str]
    reader: asyncio.Task[None]

    def actions(self) -> list[str]:
        return [
            json.loads(line).get("action", "")
            for line in self.lines
            if line.startswith("{") and line.rstrip().endswith("}")
        ]

    def alive(self) -> bool:
        return self.proc.returncode is None

    async def ready(self, http: aiohttp.ClientSession) -> int:
        async with http.get(f"{self.url}/readyz") as r:
            return r.status

    async def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM, and the exit code once it has stopped."""
        self.proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(timeout_s):
            code = await self.proc.wait()
            await self.reader
        return code


async def _collect(stream: asyncio.StreamReader, lines: list[str]) -> None:
    while line := await stream.readline():
        lines.append(line.decode(errors="replace"))


@asynccontextmanager
async def serving(cwd: Path, *, start_timeout_s: float = 30.0) -> AsyncIterator[Server]:
    """Start `tsunagu serve --port 0` in `cwd` (its config.toml), yield it once it listens;
    kill it at the end if the test has not stopped it."""
    proc = await asyncio.create_subprocess_exec(
        *TSUNAGU,
        "serve",
        "--port",
        "0",
        cwd=cwd,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    lines: list[str] = []
    reader = asyncio.create_task(_collect(proc.stderr, lines), name="server-stderr")
    try:
        async with asyncio.timeout(start_timeout_s):
            while not (found := next(filter(None, map(LISTENING.search, lines)), None)):
                if proc.returncode is not None or reader.done():
                    raise AssertionError("the server exited at start:\n" + "".join(lines))
                await asyncio.sleep(0.05)  # polling the collected lines, not waiting for time
        yield Server(proc=proc, url=found.group(1), lines=lines, reader=reader)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        with suppress(asyncio.CancelledError):
            await reader


@dataclass
class Consulter:
    """One web-chat session: what it sent, what was acknowledged (client id -> message id),
    and how often the server answered busy. Sends one message at a time, as the page does."""

    token: str | None = None
    sent: list[str] = field(default_factory=list)
    acked: dict[str, int] = field(default_factory=dict)
    busy: int = 0
    ws: aiohttp.ClientWebSocketResponse | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)  # may be shared (`until`)

    @property
    def unacked(self) -> list[str]:
        return [c for c in self.sent if c not in self.acked]

    async def connect(self, http: aiohttp.ClientSession, url: str) -> bool:
        """Open the socket and say hello; False when the server answered busy or is gone."""
        try:
            self.ws = await http.ws_connect(url.replace("http", "ws", 1) + "/chat/ws")
            await self.ws.send_json({"type": "hello", "token": self.token})
            welcome = await self.ws.receive_json(timeout=10)
        except (aiohttp.ClientError, TimeoutError, TypeError, ValueError):
            self.ws = None
            return False
        if welcome.get("type") != "welcome":
            self.busy += 1
            await self.ws.close()
            self.ws = None
            return False
        self.token = welcome["token"]
        return True

    async def send(self, client_id: str) -> str:
        """Send one message and wait for its answer: "ack", "busy" or "lost" (socket gone)."""
        if client_id not in self.sent:
            self.sent.append(client_id)
        if self.ws is None:
            return "lost"
        try:
            await self.ws.send_json(
                {"type": "message", "client_id": client_id, "body": f"fault test {client_id[:8]}"}
            )
            answer = await self._answer()
        except (aiohttp.ClientError, TimeoutError, TypeError, ValueError, ConnectionError):
            self.ws = None
            return "lost"
        finally:
            self.answered.set()
        if answer.get("type") == "ack":
            assert answer["client_id"] == client_id
            message_id = answer["message_id"]
            assert isinstance(message_id, int)
            previous = self.acked.setdefault(client_id, message_id)
            assert previous == message_id, "a resend was stored again"
            return "ack"
        assert answer.get("code") == "busy", answer
        self.busy += 1
        return "busy"

    async def _answer(self) -> dict[str, object]:
        """The next ack or error, past pushes (auto-replies, counselors' answers)."""
        assert self.ws is not None
        while True:
            frame = await self.ws.receive_json(timeout=30)
            if frame.get("type") in ("ack", "error"):
                return dict(frame)

    async def send_new(self) -> str:
        return await self.send(str(uuid.uuid4()))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None


def crowd(size: int) -> list[Consulter]:
    """Consulters that share one `answered` event, for `until`."""
    answered = asyncio.Event()
    return [Consulter(answered=answered) for _ in range(size)]


async def until(
    consulters: list[Consulter], check: Callable[[], bool], *, timeout_s: float, what: str
) -> None:
    """Wait until `check()` holds, looking again after every answer any of them gets."""
    answered = consulters[0].answered
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                answered.clear()
                if check():
                    return
                await answered.wait()
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


async def resend_until_acked(
    consulters: list[Consulter], http: aiohttp.ClientSession, url: str, *, timeout_s: float
) -> None:
    """Reconnect each session with its token and resend what was not acknowledged (and one
    that was, which must come back with the same message id), until everything is acked."""
    async with asyncio.timeout(timeout_s):
        for c in consulters:
            while c.ws is None:
                if not await c.connect(http, url):
                    await asyncio.sleep(0.2)  # the server said busy: retry, as the page does
            if c.acked:
                assert await c.send(next(iter(c.acked))) == "ack"
            for client_id in c.unacked:
                while (answer := await c.send(client_id)) != "ack":
                    assert answer == "busy", answer
                    await asyncio.sleep(0.2)
