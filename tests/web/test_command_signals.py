"""The API's writes wake the staff feed through the command layer: creating a user, which
once wrote its events and told the feed nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from inbox.auth import new_secret, secret_hash
from inbox.core.model import Role
from inbox.pipeline import Intake
from inbox.router import Router
from inbox.web.application import build_app
from inbox.web.hub import Hub
from inbox.web.server import Services, WebSettings
from storage.sqlite.store import SqliteStore
from tests.factories import T0, new_user, outbox_sender

Client = TestClient[web.Request, web.Application]


def clock() -> datetime:
    return T0


class Pokes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "inbox.db") as s:
        await s.migrate()
        yield s


async def test_creating_a_user_wakes_the_feed(store: SqliteStore) -> None:
    feed = Pokes()
    services = Services(
        store=store,
        intake=Intake(store, b"k" * 32, queue_max=10, batch_max=10, ack_timeout_s=1),
        router=Router(store, clock=clock),
        outbox=outbox_sender(store, clock=clock),
        staff_hub=Hub(client_queue=10),
        chat_hub=Hub(client_queue=10),
        clock=clock,
        settings=WebSettings(
            base_url="http://127.0.0.1",
            secure_cookies=False,
            session_ttl_h=1,
            max_body_bytes=10_000,
            allowed_origins=(),
            max_message_chars=1000,
            heartbeat_s=30,
            webchat_enabled=True,
        ),
        on_event=feed,
    )
    admin = await store.create_user(new_user("admin", roles=frozenset({Role.ADMIN})), now=T0)
    token = new_secret()
    await store.create_api_token(secret_hash(token), admin.id, name="test", now=T0)
    client: Client = TestClient(TestServer(build_app(services)))
    await client.start_server()
    try:
        user = {"username": "sato", "password": "correct horse battery", "roles": ["counselor"]}
        r = await client.post("/api/users", json=user, headers={"Authorization": f"Bearer {token}"})
        assert r.status == 201, await r.text()
    finally:
        await client.close()
    assert feed.count == 1
    kinds = [e.kind for e in await store.list_events()]
    assert kinds[-2:] == ["user_created", "user_created_by"]
