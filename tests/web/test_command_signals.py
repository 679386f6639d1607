"""The API's writes wake the staff feed through the command layer: creating a user, which
once wrote its events and told the feed nothing."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from inbox.auth import new_secret, secret_hash
from inbox.core.model import Role
from inbox.web.application import build_app
from storage.base import Store
from tests.factories import T0, new_user, web_services

Client = TestClient[web.Request, web.Application]


def clock() -> datetime:
    return T0


class Pokes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


async def test_creating_a_user_wakes_the_feed(store: Store) -> None:
    feed = Pokes()
    services = web_services(store, clock=clock, on_event=feed)
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
