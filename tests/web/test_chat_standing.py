"""What the consulter's chat is told of where she stands and of the web chat's hours: each state
in its own words (as data), a counselor "with her" only once one has opened it or answered,
the conversation's end, and her next message after it; replies carry their time and say
whether a person wrote them."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from inbox.config import DEFAULT_EXIT_URL
from inbox.core.model import ChannelKind
from routing.hours import parse_service_hours
from tests.web.conftest import Server, make_config, sign_in
from tests.web.test_chat_limits import Clock, running_at
from tests.web.test_webchat import chat, next_event, next_frame


async def _say(ws: aiohttp.ClientWebSocketResponse, body: str) -> dict[str, Any]:
    """Her message, and its ack (a nudge may come before it)."""
    await say_only(ws, body)
    return await next_frame(ws, "ack")


async def say_only(ws: aiohttp.ClientWebSocketResponse, body: str) -> None:
    await ws.send_json({"type": "message", "client_id": str(uuid.uuid4()), "body": body})


async def _status(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    await ws.send_json({"type": "queue_status"})
    return await next_frame(ws, "queue_status")


async def _frames(ws: aiohttp.ClientWebSocketResponse, *kinds: str) -> dict[str, Any]:
    """The first frame of each kind, whatever their order."""
    got: dict[str, Any] = {}
    async with asyncio.timeout(10):
        while set(kinds) - set(got):
            frame = await ws.receive_json()
            got.setdefault(frame["type"], frame)
    return got


async def _away(server: Server, *names: str) -> None:
    async with await sign_in(server.url, "boss") as boss:
        for name in names:
            url = f"{server.url}/api/counselors/{server.ids[name]}"
            async with boss.patch(url, json={"presence": "away"}) as r:
                assert r.status == 200, await r.text()


async def _close_as_supervisor(server: Server, conv_id: int) -> None:
    async with (
        await sign_in(server.url, "boss") as boss,
        boss.post(
            f"{server.url}/api/conversations/{conv_id}/close", json={"outcome": "listened"}
        ) as r,
    ):
        assert r.status == 200


async def test_the_chat_page_is_told_the_exit_and_the_hours_without_script(
    server: Server, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{server.url}/chat/settings") as r:
        assert r.status == 200
        assert r.headers["Cache-Control"] == "no-store"
        settings = await r.json()
    assert settings["exit_url"] == DEFAULT_EXIT_URL
    assert settings["keep_on_device"] is False
    assert settings["hours"]["always_open"] is True and settings["hours"]["open_now"] is True
    ws, welcome = await chat(http, server)
    assert welcome["status"]["state"] == "none"  # she has not written yet
    assert welcome["status"]["hours"]["always_open"] is True
    await ws.close()


async def test_with_her_only_once_a_counselor_opened_it_then_closed_and_her_next_message(
    server: Server, http: aiohttp.ClientSession
) -> None:
    await _away(server, "suzuki")  # sato is the one who gets her
    sato = await sign_in(server.url, "sato")
    events = await sato.ws_connect(server.ws_url("/api/ws"))
    ws, _ = await chat(http, server)
    first_ack = await _say(ws, "話を聞いてほしいです")
    conv_id = (await next_event(events, "conversation_assigned"))["conversation_id"]
    # offered to sato, not opened: nobody is with her yet, and she is out of the line
    offered = await _status(ws)
    assert (offered["state"], offered["position"]) == ("queued", None)

    async with sato.get(f"{server.url}/api/conversations/{conv_id}") as r:  # she opens it
        assert r.status == 200
    assert (await next_frame(ws, "status_changed")) == {"type": "status_changed"}
    assert (await _status(ws))["state"] == "with_counselor"

    async with sato.post(
        f"{server.url}/api/conversations/{conv_id}/replies", json={"body": "こんにちは。"}
    ) as r:
        assert r.status == 201
    live = (await next_frame(ws, "message"))["message"]
    assert live["body"] == "こんにちは。" and live["automatic"] is False
    assert live["created_at"] and live["conversation"] == conv_id

    async with sato.post(
        f"{server.url}/api/conversations/{conv_id}/close", json={"outcome": "listened"}
    ) as r:
        assert r.status == 200
    await next_frame(ws, "status_changed")  # told at once, without asking
    assert (await _status(ws))["state"] == "closed"

    # her next message opens a new conversation that follows on from her history
    again = await _say(ws, "また相談したいです")
    assert again["conversation"] != first_ack["conversation"]
    assert (await _status(ws))["state"] != "closed"
    await ws.close()
    await events.close()
    await sato.close()


async def test_her_history_goes_on_across_a_closed_conversation(
    server: Server, http: aiohttp.ClientSession
) -> None:
    sato = await sign_in(server.url, "sato")
    suzuki = await sign_in(server.url, "suzuki")
    events = await sato.ws_connect(server.ws_url("/api/ws"))
    ws, welcome = await chat(http, server)
    await _say(ws, "一回目")
    conv_id = (await next_event(events, "conversation_assigned"))["conversation_id"]
    await _close_as_supervisor(server, conv_id)
    await next_frame(ws, "status_changed")
    await _say(ws, "二回目")
    await ws.close()

    ws, again = await chat(http, server, token=welcome["token"])
    bodies = [(m["body"], m["conversation"]) for m in again["messages"]]
    # the satisfaction survey's question ([survey], on by default) ended the first one
    assert [b for b, _ in bodies] == ["一回目", "今回の相談はいかがでしたか？", "二回目"]
    assert bodies[0][1] == bodies[1][1] == conv_id and bodies[2][1] != conv_id
    assert [m["automatic"] for m in again["messages"]] == [False, True, False]
    assert all(m["created_at"] for m in again["messages"])
    await ws.close()
    for session in (events, sato, suzuki):
        await session.close()


async def test_paused_channel_has_its_own_state(
    server: Server, http: aiohttp.ClientSession
) -> None:
    await _away(server, "sato", "suzuki")
    ws, _ = await chat(http, server)
    await _say(ws, "待っています")
    waiting = await _status(ws)
    assert (waiting["state"], waiting["position"]) == ("queued", 1)
    async with await sign_in(server.url, "boss") as boss:
        async with boss.post(f"{server.url}/api/channels/webchat/pause") as r:
            assert r.status == 200
        await next_frame(ws, "status_changed")  # every open chat is nudged
        assert (await _status(ws))["state"] == "paused"
        async with boss.post(f"{server.url}/api/channels/webchat/resume") as r:
            assert r.status == 200
        await next_frame(ws, "status_changed")
        assert (await _status(ws))["state"] == "queued"
    await ws.close()


async def test_outside_hours_she_is_told_when_someone_answers_before_she_writes(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    clock = Clock()  # Monday 27 December 2027, 10:00 in Tokyo
    hours = parse_service_hours({"weekdays": ["18:00-22:00"]}, "routing.hours.webchat")
    cfg = make_config(tmp_path)
    routing = dataclasses.replace(cfg.routing, hours=((ChannelKind.WEBCHAT, hours),))
    cfg = dataclasses.replace(cfg, routing=routing)
    async with running_at(cfg, clock) as server:
        async with http.get(f"{server.url}/chat/settings") as r:
            shown = (await r.json())["hours"]
        assert shown["open_now"] is False and shown["always_open"] is False
        assert shown["next_opening"] == "2027-12-27T18:00:00+09:00"
        assert shown["timezone"] == "Asia/Tokyo"
        assert shown["weekly"][0] == [["18:00", "22:00"]] and shown["weekly"][6] == []
        ws, welcome = await chat(http, server)
        assert welcome["status"]["hours"]["next_opening"] == "2027-12-27T18:00:00+09:00"
        await _say(ws, "夜に話せますか")
        await ws.send_json({"type": "queue_status"})
        got = await _frames(ws, "queue_status", "message")  # in either order
        assert got["queue_status"]["state"] == "outside_hours"
        # the after-hours reply is automatic, and so marked, live and in her history
        auto = got["message"]["message"]
        assert auto["automatic"] is True and auto["created_at"].startswith("2027-12-27T01:00")
        await ws.close()
        ws, again = await chat(http, server, token=welcome["token"])
        assert [m["automatic"] for m in again["messages"]] == [False, True]
        await ws.close()


async def test_automatic_messages_come_in_her_language_alone(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    hours = parse_service_hours({"weekdays": ["18:00-22:00"]}, "routing.hours.webchat")
    cfg = make_config(tmp_path)
    routing = dataclasses.replace(cfg.routing, hours=((ChannelKind.WEBCHAT, hours),))
    async with running_at(dataclasses.replace(cfg, routing=routing), Clock()) as server:
        bodies = {}
        for lang in ("en", "ja", None):  # None: a page that does not say (as before)
            ws = await http.ws_connect(server.ws_url("/chat/ws"))
            await ws.send_json({"type": "hello", "token": None, "lang": lang})
            await next_frame(ws, "welcome")
            if lang == "ja":  # she switched her chat to English, then back
                await ws.send_json({"type": "lang", "lang": "en"})
                await ws.send_json({"type": "lang", "lang": "ja"})
            await _say(ws, "hello / こんにちは")
            bodies[lang] = (await next_frame(ws, "message"))["message"]["body"]
            await ws.close()
    assert "We are closed now" in bodies["en"] and "受付時間外" not in bodies["en"]
    assert "受付時間外" in bodies["ja"] and "closed" not in bodies["ja"]
    assert "受付時間外" in bodies[None] and "We are closed now" in bodies[None]


async def test_a_nudge_reaches_only_her_chat(server: Server, http: aiohttp.ClientSession) -> None:
    sato = await sign_in(server.url, "sato")
    events = await sato.ws_connect(server.ws_url("/api/ws"))
    hers, _ = await chat(http, server)
    other, _ = await chat(http, server)
    await _say(hers, "相談です")
    conv_id = (await next_event(events, "conversation_assigned"))["conversation_id"]
    await _close_as_supervisor(server, conv_id)
    await next_frame(hers, "status_changed")
    # pushed to every socket it went to at once: had the other had one, it would come first
    await other.send_json({"type": "queue_status"})
    assert (await other.receive_json(timeout=10))["type"] == "queue_status"
    for ws in (hers, other, events):
        await ws.close()
    await sato.close()
