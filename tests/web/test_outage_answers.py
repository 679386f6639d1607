"""What the web layer answers while the database is unreachable or the workers still wait it
out: /readyz says why it is not ready, the chat's hello answers busy (and the page retries)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestClient, TestServer

from inbox.core.errors import DatabaseUnavailable
from inbox.resilience import Outages
from inbox.web.application import build_app
from storage.sqlite.store import SqliteStore
from tests.factories import T0, web_services

Running = tuple["TestClient[web.Request, web.Application]", SqliteStore, Outages]


def clock() -> datetime:
    return T0


async def never_ending(_: float) -> None:
    await asyncio.Event().wait()


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Running]:
    store = SqliteStore(tmp_path / "inbox.db")
    await store.__aenter__()
    await store.migrate()
    outages = Outages(pause=never_ending)
    services = web_services(store, clock=clock, on_event=lambda: None, outages=outages)
    client = TestClient(TestServer(build_app(services)))
    await client.start_server()
    try:
        yield client, store, outages
    finally:
        await client.close()
        await store.__aexit__()


async def test_readyz_is_503_while_a_worker_waits_and_while_the_database_is_gone(
    app: Running,
) -> None:
    client, store, outages = app
    assert (await client.get("/readyz")).status == 200

    async def down() -> None:
        raise DatabaseUnavailable("down")

    waiting = asyncio.create_task(outages.retrying("router", down))
    await asyncio.sleep(0)  # it fails once and waits in its backoff
    r = await client.get("/readyz")
    assert r.status == 503
    assert await r.json() == {"status": "recovering", "workers": ["router"]}
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    await store.__aexit__()  # the database is gone
    r = await client.get("/readyz")
    assert r.status == 503 and (await r.json())["status"] == "database unreachable"


async def test_chat_hello_answers_busy_without_the_database(
    app: Running,
) -> None:
    client, store, _ = app
    await store.__aexit__()
    ws = await client.ws_connect("/chat/ws")
    await ws.send_json({"type": "hello", "token": None})
    answer = await ws.receive_json(timeout=5)
    assert answer["type"] == "error" and answer["code"] == "busy"
    await ws.receive(timeout=5)  # the close frame
    assert ws.close_code == WSCloseCode.TRY_AGAIN_LATER
