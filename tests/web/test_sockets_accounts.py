"""What an account change does to her open staff sockets (inbox.web.sockets.close_revoked_staff):
a change of her roles closes them all, and her page is judged afresh when it reconnects (a
supervisor no more gets no board; one with no staff role is refused); her own password change
closes the sockets of her other sessions alone; an admin's reset closes every one, her API
token's too (the token is gone). A change written by another instance or the CLI does the same."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from inbox.auth import secret_hash
from inbox.core.model import Event, EventId, Role
from inbox.web.hub import STAFF, Hub
from inbox.web.sockets import close_revoked_staff
from tests.factories import T0
from tests.staff_frames import frame_events
from tests.web.conftest import PASSWORD, Site, sign_in
from tests.web.test_supervision import call

NEW_PASSWORD = "my own secret words"
QUIET_S = 1.5  # a board round follows its events within MIN_GAP_S (0.1 s) and a build


def ws_url(site: Site) -> str:
    return site.server.ws_url("/api/ws")


async def rename(admin: aiohttp.ClientSession, site: Site, name: str) -> None:
    """An event every staff socket hears of, and a change the board shows (user_updated)."""
    status, _ = await call(admin, "PATCH", f"{site.url}/api/users/suzuki", {"display_name": name})
    assert status == 200


async def set_roles(admin: aiohttp.ClientSession, site: Site, user: str, roles: list[str]) -> None:
    status, answer = await call(admin, "PATCH", f"{site.url}/api/users/{user}", {"roles": roles})
    assert status == 200, answer


async def hears(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """The frames up to the next user_updated event she hears of (a rename), and then those of
    QUIET_S more: whether a board came after it."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while True:
            frames.append(frame := await ws.receive_json())
            if any(e["kind"] == "user_updated" for e in frame_events(frame)):
                break
    try:
        async with asyncio.timeout(QUIET_S):
            while True:
                frames.append(await ws.receive_json())
    except TimeoutError:
        pass
    return frames


def boards(frames: list[dict[str, Any]]) -> int:
    return sum(f["type"] == "board" for f in frames)


async def close_reason(ws: aiohttp.ClientWebSocketResponse, within_s: float = 10) -> str:
    """Read on until the server closes the socket: its close message."""
    async with asyncio.timeout(within_s):
        while (frame := await ws.receive()).type is aiohttp.WSMsgType.TEXT:
            pass
    assert frame.type is aiohttp.WSMsgType.CLOSE, frame
    assert frame.data == aiohttp.WSCloseCode.POLICY_VIOLATION
    return str(frame.extra)


@pytest.mark.both_stores
async def test_a_supervisor_whose_role_is_removed_loses_the_board_at_once(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    board_page = await boss.ws_connect(ws_url(site))
    async with await sign_in(site.url, "admin") as admin:
        await rename(admin, site, "鈴木 一")
        assert boards(await hears(board_page))  # a supervisor: the board comes
        await set_roles(admin, site, "boss", ["counselor"])
        assert await close_reason(board_page) == "roles changed"
        # her page reconnects and is judged afresh: a counselor, who is sent no board
        again = await boss.ws_connect(ws_url(site))
        await rename(admin, site, "鈴木 二")
        assert not boards(await hears(again))
        assert (await call(boss, "GET", f"{site.url}/api/board"))[0] == 403
        # no staff role left at all: her socket closes and a new one is refused
        await set_roles(admin, site, "boss", ["admin"])
        assert await close_reason(again) == "roles changed"
        async with boss.get(ws_url(site)) as r:
            assert r.status == 403


async def test_a_counselor_made_supervisor_gets_the_board_and_a_name_change_closes_nothing(
    site: Site,
) -> None:
    async with await sign_in(site.url, "sato") as sato, await sign_in(site.url, "admin") as admin:
        console = await sato.ws_connect(ws_url(site))
        await rename(admin, site, "鈴木 一")  # not her roles: her socket stays
        assert not boards(await hears(console))
        status, _ = await call(
            admin, "PATCH", f"{site.url}/api/users/sato", {"display_name": "佐藤"}
        )
        assert status == 200
        await set_roles(admin, site, "sato", ["counselor", "supervisor"])
        assert await close_reason(console) == "roles changed"
        again = await sato.ws_connect(ws_url(site))
        await rename(admin, site, "鈴木 二")
        assert boards(await hears(again))
        await again.close()


@pytest.mark.both_stores
async def test_a_role_change_written_elsewhere_closes_her_socket_too(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    """Another instance or the CLI: this server hears of it through its event feed (NOTIFY on
    PostgreSQL; the feed's idle look, every few seconds, on SQLite)."""
    board_page = await boss.ws_connect(ws_url(site))
    await site.store.update_account(
        "boss",
        display_name=None,
        roles=frozenset({Role.COUNSELOR}),
        actor_id=site.id("admin"),
        now=T0,
    )
    assert await close_reason(board_page, within_s=15) == "roles changed"


@pytest.mark.both_stores
async def test_her_own_password_change_closes_her_other_sessions_sockets_only(site: Site) -> None:
    secret = "tsu_script-of-bosses-own"
    await site.store.create_api_token(secret_hash(secret), site.id("boss"), name="script", now=T0)
    here, elsewhere = await sign_in(site.url, "boss"), await sign_in(site.url, "boss")
    scripted = aiohttp.ClientSession(headers={"Authorization": f"Bearer {secret}"})
    async with here, elsewhere, scripted, await sign_in(site.url, "admin") as admin:
        mine, other, script = [
            await s.ws_connect(ws_url(site)) for s in (here, elsewhere, scripted)
        ]
        status, _ = await call(
            here,
            "POST",
            f"{site.url}/api/session/password",
            {"current": PASSWORD, "new": NEW_PASSWORD},
        )
        assert status == 200
        assert await close_reason(other) == "password changed"
        assert (await call(elsewhere, "GET", f"{site.url}/api/me"))[0] == 401
        # the session she kept, and her own token (her change keeps it), go on
        await rename(admin, site, "鈴木 一")
        for ws in (mine, script):
            assert await hears(ws)
            assert not ws.closed
        # an admin's reset ends everything of hers: every socket, the token's too
        async with admin.post(f"{site.url}/api/users/boss/password") as r:
            assert r.status == 200
        for ws in (mine, script):
            assert await close_reason(ws) == "password reset"
        assert (await call(scripted, "GET", f"{site.url}/api/me"))[0] == 401


def _event(kind: str, data: dict[str, object]) -> Event:
    return Event(
        id=EventId(1),
        at=T0,
        kind=kind,
        actor_id=None,
        conversation_id=None,
        message_id=None,
        data=data,
    )


async def test_which_of_her_sockets_each_event_closes() -> None:
    """Without a server: keyed by user and session (None: an API token's socket)."""
    cases: list[tuple[str, dict[str, object], set[str]]] = [
        ("user_updated", {"user_id": 1, "fields": ["display_name"]}, set()),
        ("user_updated", {"user_id": 1, "fields": ["roles"]}, {"here", "there", "token"}),
        ("user_updated", {"user_id": 1, "fields": "roles"}, set()),  # not a list: no fields
        ("password_changed", {"user_id": 1, "kept_session": "here"}, {"there"}),
        ("password_changed", {"user_id": 1}, {"here", "there"}),  # by a token: no session kept
        ("password_reset", {"user_id": 1}, {"here", "there", "token"}),
        ("user_disabled", {"user_id": 1}, {"here", "there", "token"}),
        ("user_enabled", {"user_id": 1}, set()),
        ("signed_in", {}, set()),
    ]
    for kind, data, closed in cases:
        hub = Hub(client_queue=10)
        subs = {
            "here": hub.add(STAFF, web.WebSocketResponse(), owner=1, session="here"),
            "there": hub.add(STAFF, web.WebSocketResponse(), owner=1, session="there"),
            "token": hub.add(STAFF, web.WebSocketResponse(), owner=1),
            "another's": hub.add(STAFF, web.WebSocketResponse(), owner=2, session="there"),
        }
        close_revoked_staff(hub, _event(kind, data))
        await asyncio.sleep(0)  # the closing tasks
        assert {name for name, sub in subs.items() if sub.dropped} == closed, (kind, data)
        assert hub.count(STAFF) == 4 - len(closed)
