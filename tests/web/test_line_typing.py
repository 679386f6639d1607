"""LINE's loading animation while her assignee writes (issue 16): over the real server, its staff
socket and a stand-in LINE API; and the throttle alone, on a clock of the test's."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from channels.line_signature import SIGNATURE_HEADER, line_signature
from inbox.core.errors import NotFound, StorageError
from inbox.core.model import ChannelKind, ContactAddress, ConversationId
from inbox.web.line_typing import LineTyping
from tests.line_fake import LineFake, line_fake
from tests.web.conftest import Site, make_config, served_site, sign_in
from tests.web.test_collaboration import frame_of
from tests.web.test_supervision import call, everyone_away
from tests.web.test_webchat import chat, next_event, say

SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
HER = "U4af4980629c3f4a0d0b6a5c8e1f2d3b7"  # her LINE user id: sent to LINE, never logged
SECONDS = 10  # [line].loading_seconds: a request is renewed after 10 - 4 s of typing


# ---- the throttle alone ---------------------------------------------------------------------
@dataclass
class Reads:
    blocked: set[ConversationId] = field(default_factory=set)
    failing: bool = False

    async def recipient_opted_out(self, conversation_id: ConversationId) -> bool:
        if self.failing:
            raise StorageError("the database is away")
        return conversation_id in self.blocked

    async def contact_address(self, conversation_id: ConversationId) -> ContactAddress:
        if conversation_id > 1000:
            raise NotFound("no such conversation")
        return ContactAddress(
            conversation_id=conversation_id,
            channel=ChannelKind.LINE,
            address=f"U{conversation_id:032x}",
            anonymity=None,
            discretion=False,
        )


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def typing_of(reads: Reads, clock: Callable[[], float]) -> tuple[LineTyping, list[str]]:
    shown: list[str] = []

    async def show(user_id: str) -> None:
        shown.append(user_id)

    return LineTyping(reads, show, seconds=SECONDS, monotonic=clock), shown


async def settled(typing: LineTyping) -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_one_request_a_conversation_per_window_and_only_the_window_is_remembered() -> None:
    clock = Clock()
    typing, shown = typing_of(Reads(), clock)
    assert typing.window_s == SECONDS - 4
    typing.typed(ConversationId(1))
    typing.typed(ConversationId(2))
    clock.now += typing.window_s - 0.1
    typing.typed(ConversationId(1))  # still within its window
    await settled(typing)
    assert shown == [f"U{1:032x}", f"U{2:032x}"]
    clock.now += 0.2
    typing.typed(ConversationId(1))
    await settled(typing)
    assert shown[2:] == [f"U{1:032x}"]
    # Thousands of conversations over a long day: the throttle holds only the last window's.
    for i in range(3, 1000):
        clock.now += 1.0
        typing.typed(ConversationId(i))
    await settled(typing)
    assert typing.tracked() <= typing.window_s + 1
    assert len(shown) == 3 + 997


async def test_blocked_unknown_or_unreadable_conversations_are_shown_nothing() -> None:
    clock = Clock()
    reads = Reads(blocked={ConversationId(5)})
    typing, shown = typing_of(reads, clock)
    typing.typed(ConversationId(5))
    typing.typed(ConversationId(2000))  # gone meanwhile: NotFound
    await settled(typing)
    reads.failing = True
    typing.typed(ConversationId(6))
    await settled(typing)
    assert shown == []
    await typing.close()


# ---- over the real server -------------------------------------------------------------------
@dataclass
class LineScene:
    site: Site
    fake: LineFake
    conv_id: int
    sato: aiohttp.ClientSession
    boss: aiohttp.ClientSession
    http: aiohttp.ClientSession

    async def staff_socket(
        self, session: aiohttp.ClientSession, conv_id: int | None = None
    ) -> aiohttp.ClientWebSocketResponse:
        """Her staff socket, viewing the conversation (the server has taken the view)."""
        ws = await session.ws_connect(self.site.server.ws_url("/api/ws"))
        conv = self.conv_id if conv_id is None else conv_id
        await ws.send_json({"type": "view", "conversation_id": conv})
        await frame_of(ws, "viewers", conversation_id=conv)
        return ws

    async def webhook(self, *events: dict[str, Any]) -> None:
        raw = json.dumps({"destination": "U0", "events": list(events)}).encode()
        headers = {SIGNATURE_HEADER: line_signature(SECRET, raw)}
        url = self.site.url + "/webhooks/line"
        async with self.http.post(url, data=raw, headers=headers) as r:
            assert r.status == 200, await r.text()


def event(kind: str, **more: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": HER},
        "webhookEventId": f"01H{time.monotonic_ns()}",
        "deliveryContext": {"isRedelivery": False},
        **more,
    }


@pytest.fixture
async def line_scene(tmp_path: Path) -> AsyncIterator[LineScene]:
    async with line_fake() as fake:
        line = {
            "enabled": True,
            "api_url": fake.url,
            "data_api_url": fake.url,
            "channel_secret": SECRET,
            "access_token": fake.token,
            "loading_seconds": SECONDS,
        }
        async with (
            served_site(make_config(tmp_path, line=line)) as site,
            aiohttp.ClientSession() as http,
            await sign_in(site.url, "sato") as sato,
            await sign_in(site.url, "boss") as boss,
        ):
            await everyone_away(site, boss)  # the router leaves it to the supervisor
            events = await boss.ws_connect(site.server.ws_url("/api/ws"))
            scene = LineScene(site, fake, 0, sato, boss, http)
            message = {"type": "text", "id": "468789577898262530", "text": "聞いてほしいです"}
            await scene.webhook(event("message", message=message))
            scene.conv_id = (await next_event(events, "message_received"))["conversation_id"]
            await events.close()
            status, _ = await call(
                boss,
                "POST",
                f"{site.url}/api/conversations/{scene.conv_id}/assign",
                {"user_id": site.id("sato")},
            )
            assert status == 200
            yield scene


def loading_requests(fake: LineFake) -> list[Any]:
    return [r.json for r in fake.requests if r.path == "/v2/bot/chat/loading/start"]


async def soon(check: Callable[[], bool]) -> None:
    """Poll until `check` holds, within a deadline (the request runs beside the socket)."""
    async with asyncio.timeout(10):
        while True:
            if check():
                return
            await asyncio.sleep(0.02)


async def requests_become(fake: LineFake, count: int) -> None:
    await soon(lambda: len(loading_requests(fake)) >= count)


async def none_within(fake: LineFake, within_s: float = 0.6) -> None:
    await asyncio.sleep(within_s)
    assert loading_requests(fake) == []


async def type_in(ws: aiohttp.ClientWebSocketResponse, conv_id: int) -> None:
    await ws.send_json({"type": "typing", "conversation_id": conv_id})
    await frame_of(ws, "viewers", conversation_id=conv_id)  # the server has taken it


async def test_her_assignee_typing_shows_the_loading_once_a_window(line_scene: LineScene) -> None:
    scene, fake = line_scene, line_scene.fake
    ws = await scene.staff_socket(scene.sato)
    await type_in(ws, scene.conv_id)
    await requests_become(fake, 1)
    assert fake.loading == [(HER, SECONDS)]
    await asyncio.sleep(2.2)  # past the socket's typing gap, within LINE's window
    await type_in(ws, scene.conv_id)
    second = await scene.staff_socket(scene.sato)  # her other tab, same conversation
    await type_in(second, scene.conv_id)
    await asyncio.sleep(0.3)
    assert fake.loading == [(HER, SECONDS)]
    await asyncio.sleep(SECONDS - 4 - 2.2 + 0.5)  # the window has passed: renewed before it ends
    await type_in(ws, scene.conv_id)
    await requests_become(fake, 2)
    assert fake.loading == [(HER, SECONDS)] * 2
    await ws.close()
    await second.close()


async def test_no_loading_for_a_typist_who_is_not_her_assignee(line_scene: LineScene) -> None:
    ws = await line_scene.staff_socket(line_scene.boss)
    await type_in(ws, line_scene.conv_id)
    await none_within(line_scene.fake)
    await ws.close()


async def test_no_loading_once_she_blocked_the_account(line_scene: LineScene) -> None:
    await line_scene.webhook(event("unfollow"))
    assert await line_scene.site.store.recipient_opted_out(ConversationId(line_scene.conv_id))
    ws = await line_scene.staff_socket(line_scene.sato)
    await type_in(ws, line_scene.conv_id)
    await none_within(line_scene.fake)
    await ws.close()


async def test_a_web_chat_conversation_asks_nothing_of_line(line_scene: LineScene) -> None:
    scene = line_scene
    events = await scene.boss.ws_connect(scene.site.server.ws_url("/api/ws"))
    consulter, _ = await chat(scene.http, scene.site.server)
    await say(consulter, "こんばんは")
    conv_id = (await next_event(events, "message_received"))["conversation_id"]
    await events.close()
    url = f"{scene.site.url}/api/conversations/{conv_id}/assign"
    status, _ = await call(scene.boss, "POST", url, {"user_id": scene.site.id("sato")})
    assert status == 200
    ws = await scene.staff_socket(scene.sato, conv_id)
    await type_in(ws, conv_id)
    assert (await frame_of(consulter, "typing"))["active"] is True  # web chat's own indicator
    await none_within(scene.fake)
    await ws.close()
    await consulter.close()


async def test_line_failing_keeps_the_socket_and_logs_no_id(
    line_scene: LineScene, captured_logs: io.StringIO
) -> None:
    scene, fake = line_scene, line_scene.fake
    fake.fail_next("/v2/bot/chat/loading/start", 500)
    ws = await scene.staff_socket(scene.sato)
    await type_in(ws, scene.conv_id)
    await requests_become(fake, 1)
    assert fake.loading == []  # answered 500
    # The socket goes on: her stop is taken and told, another conversation's view too.
    await ws.send_json({"type": "typing", "conversation_id": scene.conv_id, "active": False})
    stopped = await frame_of(ws, "viewers", conversation_id=scene.conv_id)
    assert [v["typing"] for v in stopped["viewers"]] == [False]
    await soon(lambda: "line_loading_failed" in captured_logs.getvalue())
    assert HER not in captured_logs.getvalue()
    await ws.close()
