"""Urgency through the real server: a consulter who writes "死にたい" gets the safety message at
once (once per conversation, neutral under discretion, in English when she wrote English), the
console learns the conversation's urgency in a word it can translate, and the staff feed tells
every staff socket of the alert with its category."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from inbox.core.model import ChannelKind
from routing.hours import parse_service_hours
from tests.web.conftest import Server, add_staff, make_config, running, sign_in
from tests.web.test_webchat import chat, next_event, say


async def next_message(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next message pushed to her chat socket (answers to her own frames are skipped)."""
    async with asyncio.timeout(10):
        while True:
            frame = await ws.receive_json()
            if frame["type"] == "message":
                return dict(frame["message"])


async def staff_conversation(session: aiohttp.ClientSession, url: str, conv: int) -> Any:
    async with session.get(f"{url}/api/conversations/{conv}") as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_she_gets_the_safety_message_at_once_and_only_once(
    server: Server, http: aiohttp.ClientSession
) -> None:
    boss = await sign_in(server.url, "boss")
    sato = await sign_in(server.url, "sato")
    feeds = [await s.ws_connect(server.ws_url("/api/ws")) for s in (boss, sato)]
    try:
        ws, welcome = await chat(http, server)
        await say(ws, "もう死にたいです")
        safety = await next_message(ws)
        assert safety["direction"] == "outbound"
        assert safety["body"].startswith("相談窓口です。")
        assert "よりそいホットライン 0120-279-338（24時間・無料）" in safety["body"]
        # every staff socket, the supervisor's and the counselors', hears of the alert, with
        # its category (never the text)
        alerts = [await next_event(feed, "supervisors_alerted") for feed in feeds]
        assert {a["reason"] for a in alerts} == {"suicide_risk"}
        conv_id = alerts[0]["conversation_id"]

        # the console learns the urgency in a word it can translate, and the queue is ordered
        # by priority, urgent first
        (quiet, _) = await chat(http, server)
        await say(quiet, "相談したいことがあります")
        await next_event(feeds[0], "message_received")
        async with boss.get(f"{server.url}/api/conversations") as r:
            listed = (await r.json())["conversations"]
        assert (listed[0]["id"], listed[0]["urgency"]) == (conv_id, "suicide_risk")
        assert listed[0]["priority"] == 100 and listed[1]["urgency"] is None
        shown = await staff_conversation(boss, server.url, conv_id)
        assert shown["conversation"]["urgency"] == "suicide_risk"

        # more urgent messages in the same conversation: no second safety message
        await say(ws, "消えたい")
        await say(ws, "殴られた")
        await next_event(feeds[0], "supervisors_alerted")
        await asyncio.sleep(1.0)  # the auto-replier's pass takes milliseconds
        await ws.close()
        again, history = await chat(http, server, welcome["token"])
        outbound = [m["body"] for m in history["messages"] if m["direction"] == "outbound"]
        assert outbound == [safety["body"]]
        await again.close()
        await quiet.close()
    finally:
        for feed in feeds:
            await feed.close()
        await boss.close()
        await sato.close()


async def test_under_discretion_the_safety_message_is_neutral(
    server: Server, http: aiohttp.ClientSession
) -> None:
    boss = await sign_in(server.url, "boss")
    feed = await boss.ws_connect(server.ws_url("/api/ws"))
    try:
        ws, _ = await chat(http, server)
        await say(ws, "こんばんは。相談してもいいですか")
        received = await next_event(feed, "message_received")
        async with boss.post(
            f"{server.url}/api/conversations/{received['conversation_id']}/discretion",
            json={"discretion": True},
        ) as r:
            assert r.status == 200, await r.text()
        await say(ws, "しにたい")
        neutral = (await next_message(ws))["body"]
        assert neutral.startswith("メッセージを受け取りました。")
        assert "困ったときの連絡先：0120-279-338" in neutral
        for word in ("自殺", "死", "いのち", "相談窓口", "DV"):
            assert word not in neutral
        await ws.close()
    finally:
        await feed.close()
        await boss.close()


async def test_in_english_when_she_writes_english(
    server: Server, http: aiohttp.ClientSession
) -> None:
    ws, _ = await chat(http, server)
    await say(ws, "He said he is going to kill me")
    body = (await next_message(ws))["body"]
    assert body.startswith("This is the consultation service.")
    assert "110 (police)" in body and "0120-279-889" in body
    await ws.close()


@pytest.fixture
async def closed_chat(tmp_path: Path) -> Any:
    """The server with the web chat outside its hours: no day has any (a day no key names is
    closed)."""
    hours = parse_service_hours({}, "routing.hours.webchat")
    cfg = make_config(tmp_path, routing={"hours": ((ChannelKind.WEBCHAT, hours),)})
    ids = await add_staff(cfg)
    async with running(cfg) as url:
        yield Server(url=url, cfg=cfg, ids=ids)


async def test_outside_service_hours_the_safety_message_comes_first(
    closed_chat: Server, http: aiohttp.ClientSession
) -> None:
    ws, _ = await chat(http, closed_chat)
    await say(ws, "死にたい")
    first, second = await next_message(ws), await next_message(ws)
    assert "0120-279-338" in first["body"]
    assert "受付時間外" in second["body"]
    await ws.close()


async def test_staff_frames_carry_no_reason_for_other_events(
    server: Server, http: aiohttp.ClientSession
) -> None:
    boss = await sign_in(server.url, "boss")
    feed = await boss.ws_connect(server.ws_url("/api/ws"))
    try:
        ws, _ = await chat(http, server)
        await say(ws, "こんにちは")
        event = await next_event(feed, "message_received")
        assert "reason" not in event and set(event) == {
            "id",
            "kind",
            "at",
            "actor_id",
            "conversation_id",
            "message_id",
        }
        await ws.close()
    finally:
        await feed.close()
        await boss.close()
