"""Presence that tells the truth, through the real server: a new account starts offline, and a
counselor whose last staff socket closed is set away after the grace period, so the router
passes her by; she is available again when she reconnects. With two instances on PostgreSQL, a
socket on either keeps her connected."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from inbox.app import build_store
from inbox.auth import hash_password
from tests import pgutil
from tests.factories import T0, new_user
from tests.staff_frames import next_staff_event
from tests.web.conftest import PASSWORD, STAFF, Server, add_staff, make_config, running, sign_in
from tests.web.test_instances import instance
from tests.web.test_webchat import chat, next_event, say

GRACE_S = 0.5


@pytest.fixture
async def quick(tmp_path: Path) -> AsyncIterator[Server]:
    """The server with a short grace period after a counselor's last socket closes."""
    cfg = make_config(tmp_path, routing={"disconnect_grace_s": GRACE_S})
    ids = await add_staff(cfg)
    async with running(cfg) as url:
        yield Server(url=url, cfg=cfg, ids=ids)


async def presence(boss: aiohttp.ClientSession, url: str) -> dict[int, str]:
    async with boss.get(f"{url}/api/supervision") as r:
        assert r.status == 200, await r.text()
        return {c["id"]: c["presence"] for c in (await r.json())["counselors"]}


async def set_presence(session: aiohttp.ClientSession, url: str, user_id: int, value: str) -> None:
    async with session.patch(f"{url}/api/counselors/{user_id}", json={"presence": value}) as r:
        assert r.status == 200, await r.text()


async def no_event(feed: aiohttp.ClientWebSocketResponse, kind: str, wait_s: float) -> None:
    """No event of this kind on the feed for wait_s (the router runs within milliseconds)."""
    try:
        async with asyncio.timeout(wait_s):
            while True:
                assert (await next_staff_event(feed))["kind"] != kind
    except TimeoutError:
        pass


async def presence_event(feed: aiohttp.ClientWebSocketResponse, reason: str) -> dict[str, Any]:
    while True:
        event = await next_event(feed, "counselor_updated")
        if event.get("reason") == reason:
            return event


async def test_a_disconnected_counselor_is_passed_by_until_she_is_back(
    quick: Server, http: aiohttp.ClientSession
) -> None:
    url, sato_id = quick.url, quick.ids["sato"]
    boss = await sign_in(url, "boss")
    sato = await sign_in(url, "sato")
    feed = await boss.ws_connect(quick.ws_url("/api/ws"))
    try:
        await set_presence(boss, url, quick.ids["suzuki"], "offline")  # sato alone could take
        # two console tabs: closing one keeps her connected well past the grace period
        tabs = [await sato.ws_connect(quick.ws_url("/api/ws")) for _ in range(2)]
        await tabs[0].close()
        await asyncio.sleep(GRACE_S * 4)
        assert (await presence(boss, url))[sato_id] == "available"
        # her last tab closes: away after the grace period, with the reason, for every screen
        await tabs[1].close()
        await presence_event(feed, "disconnected")
        assert (await presence(boss, url))[sato_id] == "away"
        # a consulter writes: nobody is offered it
        ws, _ = await chat(http, quick)
        await say(ws, "相談があります")
        waiting = await next_event(feed, "message_received")
        await no_event(feed, "conversation_assigned", 1.5)
        # she is back: available again, and the router gives her the waiting conversation
        back = await sato.ws_connect(quick.ws_url("/api/ws"))
        event = await presence_event(feed, "reconnected")
        assert event["actor_id"] is None
        assigned = await next_event(feed, "conversation_assigned")
        assert assigned["conversation_id"] == waiting["conversation_id"]
        async with sato.get(f"{url}/api/conversations/{assigned['conversation_id']}") as r:
            assert (await r.json())["conversation"]["assignee_id"] == sato_id
        # an away she sets herself stays when she reconnects
        await set_presence(sato, url, sato_id, "away")
        await back.close()
        await asyncio.sleep(GRACE_S * 4)
        again = await sato.ws_connect(quick.ws_url("/api/ws"))
        await asyncio.sleep(GRACE_S)
        assert (await presence(boss, url))[sato_id] == "away"
        await again.close()
        await ws.close()
    finally:
        await feed.close()
        await boss.close()
        await sato.close()


async def test_a_new_account_is_offline_until_she_says_she_is_available(
    server: Server, http: aiohttp.ClientSession
) -> None:
    url = server.url
    admin = await sign_in(url, "admin")
    boss = await sign_in(url, "boss")
    feed = await boss.ws_connect(server.ws_url("/api/ws"))
    try:
        async with admin.post(
            f"{url}/api/users",
            json={
                "username": "newbie",
                "password": PASSWORD,
                "roles": ["counselor"],
                "must_change_password": False,  # her first password: the point is her presence
            },
        ) as r:
            assert r.status == 201, await r.text()
            newbie_id = (await r.json())["user"]["id"]
        assert (await presence(boss, url))[newbie_id] == "offline"
        for name in ("sato", "suzuki"):
            await set_presence(boss, url, server.ids[name], "offline")
        ws, _ = await chat(http, server)
        await say(ws, "はじめて相談します")
        waiting = await next_event(feed, "message_received")
        await no_event(feed, "conversation_assigned", 1.5)
        # she signs in and opens the console: still offline, it is her switch that says so
        async with await sign_in(url, "newbie") as newbie:
            console = await newbie.ws_connect(server.ws_url("/api/ws"))
            await asyncio.sleep(0.5)
            assert (await presence(boss, url))[newbie_id] == "offline"
            await set_presence(newbie, url, newbie_id, "available")
            assigned = await next_event(feed, "conversation_assigned")
            assert assigned["conversation_id"] == waiting["conversation_id"]
            await console.close()
        await ws.close()
    finally:
        await feed.close()
        await admin.close()
        await boss.close()


@pytest.mark.postgres
async def test_a_socket_on_either_instance_keeps_her_connected(
    tmp_path: Path, pg_template: pgutil.PgTemplate
) -> None:
    url = await pg_template.fresh_database()
    first, second = (
        dataclasses.replace(
            cfg, routing=dataclasses.replace(cfg.routing, disconnect_grace_s=GRACE_S)
        )
        for cfg in (instance(tmp_path, "a", url), instance(tmp_path, "b", url))
    )
    ids: dict[str, int] = {}
    async with build_store(first.database) as store:
        for name, roles in STAFF.items():
            user = dataclasses.replace(
                new_user(name, roles=roles), password_hash=hash_password(PASSWORD)
            )
            ids[name] = (await store.create_user(user, now=T0)).id
    async with running(first) as url_a, running(second) as url_b:
        boss = await sign_in(url_a, "boss")
        sato = await sign_in(url_a, "sato")  # one session, a tab on each instance
        try:
            feed = await boss.ws_connect(url_a.replace("http", "ws") + "/api/ws")
            on_a = await sato.ws_connect(url_a.replace("http", "ws") + "/api/ws")
            on_b = await sato.ws_connect(url_b.replace("http", "ws") + "/api/ws")
            await on_a.close()  # instance a holds no socket of hers now; b does
            await asyncio.sleep(GRACE_S * 4)
            assert (await presence(boss, url_a))[ids["sato"]] == "available"
            await on_b.close()
            event = await presence_event(feed, "disconnected")
            assert event["conversation_id"] is None
            assert (await presence(boss, url_a))[ids["sato"]] == "away"
            # back on instance a: available again, told to both instances' screens
            back = await sato.ws_connect(url_a.replace("http", "ws") + "/api/ws")
            await presence_event(feed, "reconnected")
            await back.close()
            await feed.close()
        finally:
            await boss.close()
            await sato.close()
    await pg_template.drop(url)
