"""Two server processes on one PostgreSQL: a message taken in by one shows up at once on the
other's staff screens, and either may route it (LISTEN/NOTIFY between instances)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest

from inbox.app import build_store
from inbox.auth import hash_password
from inbox.config import Config
from inbox.core.model import Presence
from tests import pgutil
from tests.factories import T0, new_user
from tests.web.conftest import PASSWORD, STAFF, Server, make_config, running, sign_in
from tests.web.test_webchat import chat, next_event, say

pytestmark = pytest.mark.postgres


def instance(tmp_path: Path, name: str, url: str) -> Config:
    cfg = make_config(tmp_path / name)
    # Instances share the database and the identity key (a consulter is one consulter).
    return dataclasses.replace(
        cfg,
        database=dataclasses.replace(cfg.database, url=url),
        security=dataclasses.replace(cfg.security, identity_key="k" * 43),
    )


async def two_instances(tmp_path: Path, url: str) -> tuple[Config, Config]:
    """The configs of two instances on the database of `url`, its staff signed up."""
    first, second = instance(tmp_path, "a", url), instance(tmp_path, "b", url)
    async with build_store(first.database) as store:
        for name, roles in STAFF.items():
            user = dataclasses.replace(
                new_user(name, roles=roles), password_hash=hash_password(PASSWORD)
            )
            await store.create_user(user, now=T0)
    return first, second


async def test_staff_on_one_instance_see_messages_taken_in_by_the_other(
    tmp_path: Path, pg_template: pgutil.PgTemplate, http: aiohttp.ClientSession
) -> None:
    url = await pg_template.fresh_database()
    first, second = await two_instances(tmp_path, url)
    async with running(first) as url_a, running(second) as url_b:
        boss = await sign_in(url_b, "boss")
        async with boss:
            events = await boss.ws_connect(url_b.replace("http", "ws") + "/api/ws")
            ws, _ = await chat(http, Server(url=url_a, cfg=first, ids={}))
            await say(ws, "別のサーバーに届いた相談です")
            received = await next_event(events, "message_received")
            assigned = await next_event(events, "conversation_assigned")
            assert received["conversation_id"] == assigned["conversation_id"]
            await ws.close()
            await events.close()
    await pg_template.drop(url)


async def test_one_instance_routes_and_another_takes_over_when_it_stops(
    tmp_path: Path, pg_template: pgutil.PgTemplate, http: aiohttp.ClientSession
) -> None:
    """The router runs on one instance at a time (a lease); when that one stops, the other
    takes over within seconds and routes what waited meanwhile."""
    url = await pg_template.fresh_database()
    first, second = instance(tmp_path, "a", url), instance(tmp_path, "b", url)
    ids: dict[str, int] = {}
    async with build_store(first.database) as store:
        for name, roles in STAFF.items():
            user = dataclasses.replace(
                new_user(name, roles=roles, presence=Presence.OFFLINE),
                password_hash=hash_password(PASSWORD),
            )
            ids[name] = (await store.create_user(user, now=T0)).id
        sato = ids["sato"]
    async with AsyncExitStack() as leader:
        url_a = await leader.enter_async_context(running(first))  # first: it takes the lease
        async with running(second) as url_b, await sign_in(url_b, "boss") as boss:
            events = await boss.ws_connect(url_b.replace("http", "ws") + "/api/ws")
            ws, _ = await chat(http, Server(url=url_a, cfg=first, ids={}))
            await say(ws, "誰もいない時間の相談です")  # nobody available: it waits
            received = await next_event(events, "message_received")
            await ws.close()
            await leader.aclose()  # the routing instance stops
            body = {"presence": "available"}
            async with boss.patch(f"{url_b}/api/counselors/{sato}", json=body) as r:
                assert r.status == 200, await r.text()
            assigned = await next_event(events, "conversation_assigned")
            assert assigned["conversation_id"] == received["conversation_id"]
            await events.close()
    await pg_template.drop(url)


async def test_a_reply_sent_by_either_instance_reaches_her_chat_on_the_other_once(
    tmp_path: Path, pg_template: pgutil.PgTemplate, http: aiohttp.ClientSession
) -> None:
    """Her chat's socket stays on the instance the load balancer gave it (A); the counselor
    writes on B, whose outbox sends most of the replies: each reaches her chat once."""
    url = await pg_template.fresh_database()
    first, second = await two_instances(tmp_path, url)
    bodies = [f"返信その{i}" for i in range(6)]
    async with running(first) as url_a, running(second) as url_b:
        boss = await sign_in(url_b, "boss")
        async with boss:
            events = await boss.ws_connect(url_b.replace("http", "ws") + "/api/ws")
            ws, _ = await chat(http, Server(url=url_a, cfg=first, ids={}))
            await say(ws, "別のサーバーから返事が来ますか")
            conversation = (await next_event(events, "message_received"))["conversation_id"]
            for body in bodies:
                async with boss.post(
                    f"{url_b}/api/conversations/{conversation}/replies", json={"body": body}
                ) as r:
                    assert r.status == 201, await r.text()
            got = await replies_pushed(ws, until=len(bodies), timeout_s=15)
            assert sorted(got) == sorted(bodies)
            # and none of them a second time
            assert await replies_pushed(ws, until=1, timeout_s=1.5) == []
            await ws.close()
            await events.close()
    await pg_template.drop(url)


async def replies_pushed(
    ws: aiohttp.ClientWebSocketResponse, *, until: int, timeout_s: float
) -> list[str]:
    """The bodies of the replies a person wrote pushed to her chat (automatic messages, such as
    her place in the line, aside), until `until` came or the time is up."""
    got: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while len(got) < until:
                frame = await ws.receive_json()
                if frame["type"] == "message" and not frame["message"]["automatic"]:
                    got.append(frame["message"]["body"])
    return got
