"""Live collaboration over the real server and sockets: who else has a conversation open and
who is typing, the consulter's "a counselor is typing", her read state, no double replies, and
the ids a moved-away counselor needs to be told who moved it to whom."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away
from tests.web.test_webchat import chat, next_event, say


@dataclass
class Scene:
    """A consulter on web chat whose conversation is sato's, and the staff sessions."""

    site: Site
    consulter: aiohttp.ClientWebSocketResponse
    conv_id: int
    first_message_id: int
    sato: aiohttp.ClientSession
    boss: aiohttp.ClientSession
    suzuki: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return self.site.url + path

    async def staff_socket(self, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
        return await session.ws_connect(self.site.server.ws_url("/api/ws"))


@pytest.fixture
async def scene(site: Site, http: aiohttp.ClientSession) -> AsyncIterator[Scene]:
    async with (
        await sign_in(site.url, "sato") as sato,
        await sign_in(site.url, "boss") as boss,
        await sign_in(site.url, "suzuki") as suzuki,
    ):
        await everyone_away(site, boss)  # the router leaves it to the supervisor
        events = await boss.ws_connect(site.server.ws_url("/api/ws"))
        consulter, _ = await chat(http, site.server)
        ack = await say(consulter, "夜分にすみません。話を聞いてほしいです。")
        received = await next_event(events, "message_received")
        await events.close()
        conv_id = received["conversation_id"]
        status, _ = await call(
            boss,
            "POST",
            f"{site.url}/api/conversations/{conv_id}/assign",
            {"user_id": site.id("sato")},
        )
        assert status == 200
        yield Scene(site, consulter, conv_id, ack["message_id"], sato, boss, suzuki)
        await consulter.close()


async def frame_of(ws: aiohttp.ClientWebSocketResponse, kind: str, **match: Any) -> dict[str, Any]:
    """The next frame of this type (and these values) on a socket; others are skipped."""
    async with asyncio.timeout(10):
        while True:
            frame: dict[str, Any] = await ws.receive_json()
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame


async def no_frame(ws: aiohttp.ClientWebSocketResponse, kind: str, within_s: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(frame_of(ws, kind), within_s)


async def viewers_become(
    ws: aiohttp.ClientWebSocketResponse, expected: dict[str, bool]
) -> dict[str, Any]:
    """Read viewers frames until the list is the expected one (earlier states may come first)."""
    async with asyncio.timeout(10):
        while names(frame := await frame_of(ws, "viewers")) != expected:
            pass
    return frame


def names(frame: dict[str, Any]) -> dict[str, bool]:
    return {v["display_name"]: v["typing"] for v in frame["viewers"]}


# ---- no double replies ---------------------------------------------------------------------
@pytest.mark.both_stores  # the check runs under the conversation's lock (FOR UPDATE on PostgreSQL)
async def test_a_reply_after_an_unseen_reply_asks_first_and_force_sends_it(scene: Scene) -> None:
    replies = scene.url(f"/api/conversations/{scene.conv_id}/replies")
    seen = scene.first_message_id
    status, boss_reply = await call(
        scene.boss, "POST", replies, {"body": "上司です。", "last_seen_message_id": seen}
    )
    assert status == 201
    status, answer = await call(
        scene.sato, "POST", replies, {"body": "担当の佐藤です。", "last_seen_message_id": seen}
    )
    assert status == 409
    assert answer["error"]["code"] == "reply_collision"
    assert answer["error"]["authors"] == ["Boss"]
    _, opened = await call(scene.sato, "GET", scene.url(f"/api/conversations/{scene.conv_id}"))
    by_staff = [m["body"] for m in opened["messages"] if m["author_id"] is not None]
    assert by_staff == ["上司です。"]
    # She read it and sends on purpose; or she saw it already: either way it goes out.
    status, sent = await call(
        scene.sato,
        "POST",
        replies,
        {"body": "担当の佐藤です。", "last_seen_message_id": seen, "force": True},
    )
    assert status == 201 and sent["message"]["body"] == "担当の佐藤です。"
    latest = sent["message"]["id"]
    status, _ = await call(
        scene.sato, "POST", replies, {"body": "続けます。", "last_seen_message_id": latest}
    )
    assert status == 201
    assert boss_reply["message"]["id"] < latest


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "x", "last_seen_message_id": "7"}, "last_seen_message_id"),
        ({"body": "x", "last_seen_message_id": -1}, "last_seen_message_id"),
        ({"body": "x", "force": "yes"}, "force"),
    ],
)
async def test_a_malformed_collision_check_is_refused_naming_the_field(
    scene: Scene, body: dict[str, Any], field: str
) -> None:
    status, answer = await call(
        scene.sato, "POST", scene.url(f"/api/conversations/{scene.conv_id}/replies"), body
    )
    assert status == 400 and answer["error"]["field"] == field


# ---- who else is here, who is typing --------------------------------------------------------
async def test_staff_on_one_conversation_see_each_other_and_who_types(scene: Scene) -> None:
    sato_ws, boss_ws = await scene.staff_socket(scene.sato), await scene.staff_socket(scene.boss)
    await sato_ws.send_json({"type": "view", "conversation_id": scene.conv_id})
    assert names(await frame_of(sato_ws, "viewers")) == {"Sato": False}
    await boss_ws.send_json({"type": "view", "conversation_id": scene.conv_id})
    both = {"Sato": False, "Boss": False}
    assert names(await frame_of(sato_ws, "viewers")) == both
    assert names(await frame_of(boss_ws, "viewers")) == both
    # Suzuki may not see sato's conversation: she is not listed, and learns nothing.
    suzuki_ws = await scene.staff_socket(scene.suzuki)
    await suzuki_ws.send_json({"type": "view", "conversation_id": scene.conv_id})
    await boss_ws.send_json({"type": "typing", "conversation_id": scene.conv_id})
    typing = await frame_of(sato_ws, "viewers")
    assert names(typing) == {"Sato": False, "Boss": True}
    assert typing["conversation_id"] == scene.conv_id and typing["typing_ttl_s"] > 0
    # She closes her page: the others see her go.
    await boss_ws.close()
    assert names(await frame_of(sato_ws, "viewers")) == {"Sato": False}
    await no_frame(suzuki_ws, "viewers")
    await sato_ws.close()
    await suzuki_ws.close()


async def test_the_consulter_sees_only_her_assignee_typing(scene: Scene) -> None:
    sato_ws, boss_ws = await scene.staff_socket(scene.sato), await scene.staff_socket(scene.boss)
    for ws in (sato_ws, boss_ws):
        await ws.send_json({"type": "view", "conversation_id": scene.conv_id})
    await viewers_become(boss_ws, {"Sato": False, "Boss": False})
    # A supervisor writing is no counselor typing to her.
    await boss_ws.send_json({"type": "typing", "conversation_id": scene.conv_id})
    await viewers_become(sato_ws, {"Sato": False, "Boss": True})
    await no_frame(scene.consulter, "typing")
    await sato_ws.send_json({"type": "typing", "conversation_id": scene.conv_id})
    shown = await frame_of(scene.consulter, "typing")
    assert shown == {"type": "typing", "active": True, "ttl_s": 6.0}
    await sato_ws.send_json({"type": "typing", "conversation_id": scene.conv_id, "active": False})
    assert await frame_of(scene.consulter, "typing") == {"type": "typing", "active": False}
    # Her reply arrives as before (the chat hides the indicator when it does).
    status, _ = await call(
        scene.sato,
        "POST",
        scene.url(f"/api/conversations/{scene.conv_id}/replies"),
        {"body": "お待たせしました。"},
    )
    assert status == 201
    message = await frame_of(scene.consulter, "message")
    assert message["message"]["body"] == "お待たせしました。"
    await sato_ws.close()
    await boss_ws.close()


# ---- read state -----------------------------------------------------------------------------
@pytest.mark.both_stores
async def test_the_consulter_reading_a_reply_is_stored_and_told_to_staff(scene: Scene) -> None:
    events = await scene.staff_socket(scene.sato)
    status, sent = await call(
        scene.sato,
        "POST",
        scene.url(f"/api/conversations/{scene.conv_id}/replies"),
        {"body": "読めますか？"},
    )
    assert status == 201
    reply_id = sent["message"]["id"]
    await frame_of(scene.consulter, "message")
    await scene.consulter.send_json({"type": "read", "message_id": reply_id})
    read = await next_event(events, "consulter_read")
    assert (read["conversation_id"], read["message_id"]) == (scene.conv_id, reply_id)
    _, opened = await call(scene.sato, "GET", scene.url(f"/api/conversations/{scene.conv_id}"))
    assert opened["conversation"]["consulter_read_message_id"] == reply_id
    # A bad id is refused on her socket, which stays open.
    await scene.consulter.send_json({"type": "read", "message_id": "latest"})
    refused = await frame_of(scene.consulter, "error")
    assert refused["code"] == "validation"
    await events.close()


# ---- moving away ----------------------------------------------------------------------------
async def test_a_move_tells_her_who_moved_it_to_whom(scene: Scene) -> None:
    events = await scene.staff_socket(scene.sato)
    site = scene.site
    status, moved = await call(
        scene.boss,
        "POST",
        scene.url("/api/conversations/move"),
        {"conversation_ids": [scene.conv_id], "to_user_id": site.id("suzuki")},
    )
    assert status == 200 and moved["moved"] == [scene.conv_id]
    event = await next_event(events, "conversation_assigned")
    if event["to_user_id"] == site.id("sato"):  # the scene's own (the feed's rounds come
        event = await next_event(events, "conversation_assigned")  # a moment apart)
    assert event["conversation_id"] == scene.conv_id
    assert (event["actor_id"], event["from_user_id"], event["to_user_id"]) == (
        site.id("boss"),
        site.id("sato"),
        site.id("suzuki"),
    )
    # The names are hers to read, whatever her role.
    status, staff = await call(scene.sato, "GET", scene.url("/api/staff"))
    assert status == 200
    by_id = {s["id"]: s["display_name"] for s in staff["staff"]}
    assert (by_id[site.id("boss")], by_id[site.id("suzuki")]) == ("Boss", "Suzuki")
    assert set(staff["staff"][0]) == {"id", "display_name"}
    await events.close()


async def test_a_drain_tells_her_who_put_it_back_in_the_queue(scene: Scene) -> None:
    events = await scene.staff_socket(scene.sato)
    site = scene.site
    status, _ = await call(
        scene.boss, "POST", scene.url(f"/api/counselors/{site.id('sato')}/drain"), {}
    )
    assert status == 200
    event = await next_event(events, "conversation_requeued")
    assert event["conversation_id"] == scene.conv_id
    assert (event["actor_id"], event["from_user_id"]) == (site.id("boss"), site.id("sato"))
    await events.close()


async def test_a_burst_of_typing_reaches_her_once(scene: Scene) -> None:
    sato_ws = await scene.staff_socket(scene.sato)
    await sato_ws.send_json({"type": "view", "conversation_id": scene.conv_id})
    await frame_of(sato_ws, "viewers")
    for _ in range(5):  # a page that ignores its own throttle
        await sato_ws.send_json({"type": "typing", "conversation_id": scene.conv_id})
    assert (await frame_of(scene.consulter, "typing"))["active"] is True
    await no_frame(scene.consulter, "typing")
    await sato_ws.close()
