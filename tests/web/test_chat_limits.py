"""Hardening of the sockets on a real server: the welcome is a bounded page and older pages come
on request; per-session limits; a peer that never reads is cut off without holding up the
others; a disabled user's staff socket is closed."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from inbox.app import build_store, serve
from inbox.auth import hash_password
from inbox.config import Config
from inbox.tools.stalled_socket import StalledSocket
from inbox.web.chat_limits import SWEEP_AT, SessionLimits
from tests import pgutil
from tests.factories import T0, new_user
from tests.staff_frames import frame_events
from tests.web.conftest import PASSWORD, Server, add_staff, make_config, sign_in
from tests.web.test_instances import instance
from tests.web.test_webchat import chat, say


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(days=400, seconds=5)  # 5 s into a minute

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def running_at(cfg: Config, clock: Callable[[], datetime]) -> AsyncIterator[Server]:
    ids = await add_staff(cfg) if cfg.database.sqlite_path is not None else {}
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(cfg, stop, on_ready=ready.set_result, clock=clock))
    try:
        url = await asyncio.wait_for(asyncio.shield(ready), 15)
        yield Server(url=url, cfg=cfg, ids=ids)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


def chat_config(tmp_path: Path, **webchat: Any) -> Config:
    return make_config(tmp_path, webchat=webchat)


async def test_welcome_is_the_latest_page_and_history_pages_back(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_at(chat_config(tmp_path, history_page=3), Clock()) as server:
        ws, welcome = await chat(http, server)
        ids = [(await say(ws, f"m{i}"))["message_id"] for i in range(7)]
        await ws.close()

        ws, welcome = await chat(http, server, welcome["token"])
        assert [m["body"] for m in welcome["messages"]] == ["m4", "m5", "m6"]
        assert welcome["more"] is True
        pages = []
        before = welcome["messages"][0]["id"]
        while True:
            await ws.send_json({"type": "history", "before": before})
            page = await ws.receive_json(timeout=10)
            assert page["type"] == "history"
            pages.append([m["body"] for m in page["messages"]])
            if not page["more"]:
                break
            before = page["messages"][0]["id"]
        assert pages == [["m1", "m2", "m3"], ["m0"]]
        assert before == ids[1]
        await ws.send_json({"type": "history", "before": "x"})
        assert (await ws.receive_json(timeout=10))["code"] == "validation"
        await ws.close()


async def test_a_page_stops_at_its_character_budget(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_at(chat_config(tmp_path, history_page=50), Clock()) as server:
        ws, welcome = await chat(http, server)
        for i in range(7):
            assert (await say(ws, f"{i}" + "あ" * 9999))["type"] == "ack"
        await ws.close()
        ws, welcome = await chat(http, server, welcome["token"])
        # 50,000 characters: five of them; the welcome says there is more
        assert [m["body"][0] for m in welcome["messages"]] == ["2", "3", "4", "5", "6"]
        assert welcome["more"] is True
        await ws.close()


async def test_over_the_rate_or_the_day_she_is_told_and_nothing_is_stored(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    cfg = chat_config(tmp_path, frames_per_minute=4, messages_per_day=4)
    async with running_at(cfg, clock) as server:
        ws, welcome = await chat(http, server)  # the hello is a frame too
        assert [(await say(ws, f"m{i}"))["type"] for i in range(3)] == ["ack"] * 3
        client_id = str(uuid.uuid4())
        refused = await say(ws, "four", client_id)
        assert refused["code"] == "rate_limited" and refused["client_id"] == client_id
        await ws.send_json({"type": "queue_status"})  # every frame counts
        assert (await ws.receive_json(timeout=10))["code"] == "rate_limited"
        await ws.close()
        # a new socket of the same session is refused before its welcome
        again = await http.ws_connect(server.ws_url("/chat/ws"))
        await again.send_json({"type": "hello", "token": welcome["token"]})
        closing = await again.receive(timeout=10)
        assert (closing.type, closing.data, closing.extra) == (
            aiohttp.WSMsgType.CLOSE,
            1008,
            "rate_limited",
        )

        clock.now += timedelta(minutes=1)
        ws, _ = await chat(http, server, welcome["token"])
        assert (await say(ws, "m3"))["type"] == "ack"
        assert (await say(ws, "m4"))["code"] == "daily_limit"
        clock.now += timedelta(days=1)
        assert (await say(ws, "next day"))["type"] == "ack"
        await ws.close()

        ws, welcome = await chat(http, server, welcome["token"])
        assert [m["body"] for m in welcome["messages"]] == ["m0", "m1", "m2", "m3", "next day"]
        await ws.close()


async def test_a_hostile_frame_over_the_rate_gets_an_answer_on_an_open_socket(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """The rate answer echoes the client_id: never a lone surrogate (which the socket cannot
    encode: it dropped) nor anything parsed without the depth bound (RecursionError)."""
    clock = Clock()
    async with running_at(chat_config(tmp_path, frames_per_minute=2), clock) as server:
        ws, _ = await chat(http, server)
        assert (await say(ws, "m0"))["type"] == "ack"  # the hello and this: the minute's two
        for frame in (
            '{"type":"message","client_id":"\\ud800","body":"x"}',
            "[" * 5000,
            '{"type":"message","client_id":["not", "an", "id"],"body":"x"}',
        ):
            await ws.send_str(frame)
            answer = await ws.receive_json(timeout=10)
            assert answer["code"] == "rate_limited" and answer["client_id"] in (None, "\ufffd")
        clock.now += timedelta(minutes=1)
        assert (await say(ws, "still here"))["type"] == "ack"  # the same socket, still open
        await ws.close()


async def test_a_session_may_open_only_so_many_sockets(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with running_at(chat_config(tmp_path, sockets_per_session=2), Clock()) as server:
        first, welcome = await chat(http, server)
        second, _ = await chat(http, server, welcome["token"])
        third = await http.ws_connect(server.ws_url("/chat/ws"))
        await third.send_json({"type": "hello", "token": welcome["token"]})
        closing = await third.receive(timeout=10)
        assert closing.type is aiohttp.WSMsgType.CLOSE
        assert (closing.data, closing.extra) == (1008, "too_many_sockets")
        await second.close()
        fourth, again = await chat(http, server, welcome["token"])  # room again
        assert again["token"] == welcome["token"]
        for ws in (first, third, fourth):
            await ws.close()


class Logged(logging.Handler):
    """Sets `seen` once the server logs this action (its log line is the sign it happened)."""

    def __init__(self, action: str) -> None:
        super().__init__(logging.INFO)
        self.action = action
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "action", None) == self.action:
            self.seen.set()


@contextmanager
def watching(logger: str, action: str) -> Iterator[Logged]:
    handler, log = Logged(action), logging.getLogger(logger)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


async def test_a_socket_that_never_reads_is_cut_off_and_others_get_their_acks(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    cfg = chat_config(tmp_path, send_timeout_s=0.5, frames_per_minute=1000)
    with watching("inbox.web.hub", "ws_dropped_stuck") as stuck:
        async with running_at(cfg, Clock()) as server:
            ws, welcome = await chat(http, server)
            for i in range(5):
                await say(ws, f"{i}" + "あ" * 9999)  # pages of 150 kB
            stalled = await StalledSocket.open(server.url, welcome["token"])
            try:
                for _ in range(30):  # 4.5 MB asked for
                    await stalled.send({"type": "history", "before": 2**62})
                other, _ = await chat(http, server)
                for i in range(20):
                    assert (await say(other, f"still here {i}"))["type"] == "ack"
                await asyncio.wait_for(stuck.seen.wait(), 10)
                async with asyncio.timeout(10):
                    received = await stalled.read_until_closed()
                # cut off after what the kernel's bounded buffers held, not the 4.5 MB asked for
                assert received < 500_000
                assert (await say(other, "after"))["type"] == "ack"
            finally:
                stalled.close()
            await other.close()
            await ws.close()


async def events_until_closed(
    ws: aiohttp.ClientWebSocketResponse, until: str = ""
) -> tuple[list[str], aiohttp.WSMessage]:
    """The kinds of the events a staff socket gets until it closes (or one of kind `until`)."""
    kinds: list[str] = []
    async with asyncio.timeout(10):
        while (frame := await ws.receive()).type is aiohttp.WSMsgType.TEXT:
            for event in frame_events(frame.json()):
                kinds.append(event["kind"])
                if kinds[-1] == until:
                    return kinds, frame
    return kinds, frame


async def test_disabling_a_user_closes_her_staff_socket(tmp_path: Path) -> None:
    async with running_at(chat_config(tmp_path), Clock()) as server:
        sato, admin, boss = [await sign_in(server.url, n) for n in ("sato", "admin", "boss")]
        async with sato, admin, boss:
            hers = await sato.ws_connect(server.ws_url("/api/ws"))
            others = await boss.ws_connect(server.ws_url("/api/ws"))
            async with admin.post(f"{server.url}/api/users/sato/disable") as r:
                assert r.status == 200
            kinds, closing = await events_until_closed(hers)
            assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1008
            assert "user_disabled" not in kinds  # closed before the news went out
            kinds, _ = await events_until_closed(others, until="user_disabled")
            assert kinds[-1] == "user_disabled"  # the others' stays open
            await others.close()


async def test_a_disable_while_her_socket_opens_still_closes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disable lands after her socket was let in (her session checked, the handshake done)
    but before it is in the hub, and its event has gone out (another socket got it) by then:
    her socket is closed all the same."""
    cfg = chat_config(tmp_path)
    prepare = web.WebSocketResponse.prepare

    async def disabled_meanwhile(ws: web.WebSocketResponse, request: web.BaseRequest) -> Any:
        done = await prepare(ws, request)
        async with build_store(cfg.database) as cli_store:  # as `tsunagu user disable`
            await cli_store.set_user_disabled("sato", True, now=T0)
        kinds, _ = await events_until_closed(others, until="user_disabled")
        assert kinds[-1] == "user_disabled"
        return done

    async with running_at(cfg, Clock()) as server:
        sato, boss = [await sign_in(server.url, n) for n in ("sato", "boss")]
        async with sato, boss:
            others = await boss.ws_connect(server.ws_url("/api/ws"))
            monkeypatch.setattr(web.WebSocketResponse, "prepare", disabled_meanwhile)
            hers = await sato.ws_connect(server.ws_url("/api/ws"))
            _, closing = await events_until_closed(hers)
            assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1008
            await others.close()


@pytest.mark.postgres
async def test_a_disable_from_another_process_closes_her_socket(
    tmp_path: Path, pg_template: pgutil.PgTemplate
) -> None:
    url = await pg_template.fresh_database()
    cfg = instance(tmp_path, "a", url)
    async with build_store(cfg.database) as store:
        user = dataclasses.replace(new_user("sato"), password_hash=hash_password(PASSWORD))
        await store.create_user(user, now=T0)
    try:
        async with running_at(cfg, Clock()) as server, await sign_in(server.url, "sato") as sato:
            hers = await sato.ws_connect(server.ws_url("/api/ws"))
            async with build_store(cfg.database) as cli_store:  # as `tsunagu user disable`
                await cli_store.set_user_disabled("sato", True, now=T0)
            _, closing = await events_until_closed(hers)
            assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1008
    finally:
        await pg_template.drop(url)


def test_limits_count_per_session_per_minute_and_per_day() -> None:
    limits = SessionLimits(frames_per_minute=2, messages_per_day=1)
    now = T0 + timedelta(seconds=1)
    assert [limits.take_frame("a", now) for _ in range(3)] == [True, True, False]
    assert limits.take_frame("b", now)
    assert limits.take_frame("a", now + timedelta(minutes=1))
    assert limits.may_store("a", now)
    limits.stored("a", now)
    assert not limits.may_store("a", now + timedelta(hours=1))
    assert limits.may_store("a", now + timedelta(days=1))


def test_limits_forget_sessions_that_have_nothing_left_to_count() -> None:
    limits = SessionLimits(frames_per_minute=2, messages_per_day=1)
    now = T0 + timedelta(seconds=1)
    limits.stored("wrote", now)
    for i in range(SWEEP_AT):
        limits.take_frame(f"fresh-{i}", now)
    later = now + timedelta(minutes=1)
    limits.take_frame("new", later)  # a new entry sweeps the stale ones
    assert len(limits) == 2  # the one that wrote today, and the new one
    assert not limits.may_store("wrote", later)


async def test_a_resend_at_the_daily_limit_is_acked_as_the_stored_message(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """Her last message of the day was stored but the ack was lost: the page resends it, and it
    must be acked as what it is (stored), not refused as one message too many."""
    async with running_at(chat_config(tmp_path, messages_per_day=2), Clock()) as server:
        ws, _ = await chat(http, server)
        assert (await say(ws, "m0"))["type"] == "ack"
        last = str(uuid.uuid4())
        first_ack = await say(ws, "m1", last)
        again = await say(ws, "m1", last)
        assert again["type"] == "ack" and again["message_id"] == first_ack["message_id"]
        assert (await say(ws, "m2"))["code"] == "daily_limit"
        await ws.close()
