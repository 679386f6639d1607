"""The clients of `bench sockets`: consulters that read and time their acks, a flood of
never-reading sockets, staff consoles that read the event feed, and a staff token made in the
bench's database before the server starts."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import aiohttp

from inbox.app import utc_now
from inbox.auth import API_TOKEN_PREFIX, new_secret, secret_hash
from inbox.config import WebchatConfig, load_config
from inbox.core.model import NewUser, Role
from inbox.tools.stalled_socket import StalledSocket
from storage.sqlite.store import SqliteStore

OPEN_AT_ONCE = 200
ACK_TIMEOUT_S = 30.0
SEEDED_BODY = "夜" * 10_000  # a history of messages at the size limit: the largest pages
SEEDED_MESSAGES = 5
FLOOD_PER_S = 10.0  # frames each never-reading socket sends per second
REOPEN_AFTER_S = 0.5


async def staff_token(data_dir: Path) -> str:
    """A supervisor and an API token for her, written before the server starts."""
    cfg = load_config(None, env={"TSUNAGU_DATA_DIR": str(data_dir)})
    assert cfg.database.sqlite_path is not None
    cfg.database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    secret = new_secret(API_TOKEN_PREFIX)
    async with SqliteStore(cfg.database.sqlite_path) as store:
        await store.migrate()
        user = NewUser(
            username="bench",
            display_name="bench",
            password_hash="!",  # no password sign-in
            roles=frozenset({Role.SUPERVISOR}),
            capacity=0,
        )
        created = await store.create_user(user, now=utc_now())
        await store.create_api_token(secret_hash(secret), created.id, name="bench", now=utc_now())
    return secret


@dataclass(frozen=True, slots=True)
class Ack:
    """A stored message as its consulter saw it: when sent and acked (perf_counter s), its id."""

    sent: float
    acked: float
    message_id: int
    conversation_id: int | None = None

    @property
    def ms(self) -> float:
        return (self.acked - self.sent) * 1000


class Consulter:
    """A chat socket that reads every frame; say() resolves to the ack's latency in ms."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, token: str) -> None:
        self.ws = ws
        self.token = token
        self._waiting: dict[str, tuple[float, asyncio.Future[Ack | None]]] = {}
        self.replies: dict[int, float] = {}  # message id -> when pushed (perf_counter s)
        self._reader: asyncio.Task[None] | None = None

    def start_reading(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="bench-reader")

    async def _read(self) -> None:
        async for frame in self.ws:
            answer = json.loads(frame.data) if frame.type is aiohttp.WSMsgType.TEXT else {}
            if answer.get("type") == "message":  # a reply (or an automatic one) pushed to her
                self.replies[answer["message"]["id"]] = perf_counter()
            waiting = self._waiting.pop(answer.get("client_id") or "", None)
            # an ack later than ACK_TIMEOUT_S finds its wait given up (cancelled): missed
            if waiting is not None and not waiting[1].done():
                sent, future = waiting
                ok = answer.get("type") == "ack"
                conversation = answer.get("conversation")
                future.set_result(
                    Ack(sent, perf_counter(), answer["message_id"], conversation) if ok else None
                )
        for _, future in self._waiting.values():
            if not future.done():
                future.set_result(None)

    async def say(self, body: str) -> float | None:
        ack = await self.send(body)
        return None if ack is None else ack.ms

    async def send(self, body: str) -> Ack | None:
        """Send one message; its ack, or None for an error answer or none in time."""
        client_id = str(uuid.uuid4())
        future: asyncio.Future[Ack | None] = asyncio.get_running_loop().create_future()
        self._waiting[client_id] = (perf_counter(), future)
        await self.ws.send_json({"type": "message", "client_id": client_id, "body": body})
        try:
            async with asyncio.timeout(ACK_TIMEOUT_S):
                return await future
        except TimeoutError:
            return None

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader


async def open_consulters(
    http: aiohttp.ClientSession, url: str, n: int, *, read: bool = False
) -> list[Consulter]:
    """n new sessions, each past its welcome; with `read`, each reads its answers."""
    ws_url = url.replace("http://", "ws://") + "/chat/ws"
    room = asyncio.Semaphore(OPEN_AT_ONCE)

    async def one() -> Consulter:
        async with room:
            ws = await http.ws_connect(ws_url)
            await ws.send_json({"type": "hello", "token": None})
            welcome = await ws.receive_json(timeout=ACK_TIMEOUT_S)
        chat = Consulter(ws, welcome["token"])
        if read:
            chat.start_reading()
        return chat

    return list(await asyncio.gather(*(one() for _ in range(n))))


@dataclass
class Flood:
    """Never-reading sockets, as many to a session as the server allows, each session's
    history full of messages at the size limit; they send until stopped and reopen when cut
    off."""

    tokens: list[str]
    sockets: int
    opened: int = 0
    cut_off: int = 0
    frames: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def seed(cls, http: aiohttp.ClientSession, url: str, sockets: int) -> Flood:
        per_session = WebchatConfig().sockets_per_session
        chats = await open_consulters(http, url, -(-sockets // per_session), read=True)
        for chat in chats:
            for _ in range(SEEDED_MESSAGES):
                await chat.say(SEEDED_BODY)
            await chat.close()
        return cls(tokens=[c.token for c in chats], sockets=sockets)

    @asynccontextmanager
    async def running(self, url: str) -> AsyncIterator[Flood]:
        self._stop = asyncio.Event()
        async with asyncio.TaskGroup() as tg:
            for i in range(self.sockets):
                tg.create_task(self._one(url, self.tokens[i % len(self.tokens)]), name="flood")
            try:
                yield self
            finally:
                self._stop.set()

    async def _one(self, url: str, token: str) -> None:
        while not self._stop.is_set():
            try:
                stalled = await StalledSocket.open(url, token)
            except (ConnectionError, OSError, asyncio.IncompleteReadError):
                await self._pause(REOPEN_AFTER_S)
                continue
            self.opened += 1
            try:
                while not self._stop.is_set():
                    frame = {"type": "message", "client_id": str(uuid.uuid4()), "body": "あ"}
                    await stalled.send(frame)
                    self.frames += 1
                    await self._pause(1 / FLOOD_PER_S)
            except (ConnectionError, OSError):
                self.cut_off += 1
                await self._pause(REOPEN_AFTER_S)
            finally:
                stalled.close()

    async def _pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


@dataclass
class StaffWatch:
    """Staff sockets that read every frame, as consoles do, and reconnect when the server drops
    them: a feed that overflows their queues shows as drops, not as silence."""

    url: str
    token: str
    sockets: int
    dropped: int = 0
    frames: int = 0
    events: int = 0

    @asynccontextmanager
    async def running(self, http: aiohttp.ClientSession) -> AsyncIterator[StaffWatch]:
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as tg:
            tasks = [
                tg.create_task(self._one(http, stop), name="staff-watch")
                for _ in range(self.sockets)
            ]
            try:
                yield self
            finally:
                stop.set()
                for task in tasks:
                    task.cancel()

    async def _one(self, http: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        ws_url = self.url.replace("http://", "ws://") + "/api/ws"
        headers = {"Authorization": f"Bearer {self.token}"}
        while not stop.is_set():
            try:
                async with http.ws_connect(ws_url, headers=headers) as ws:
                    async for frame in ws:
                        if frame.type is aiohttp.WSMsgType.TEXT:
                            self._count(json.loads(frame.data))
            except (aiohttp.ClientError, OSError):
                await asyncio.sleep(REOPEN_AFTER_S)  # refused while the server is swamped
            if not stop.is_set():
                self.dropped += 1

    def _count(self, frame: dict[str, object]) -> None:
        self.frames += 1
        events = frame.get("events")
        self.events += len(events) if isinstance(events, list) else int("event" in frame)
