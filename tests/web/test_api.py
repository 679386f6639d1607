"""The staff API: sign-in, permissions on the server, and precise errors for bad input."""

from __future__ import annotations

import aiohttp
import pytest

from tests.staff_frames import frame_events
from tests.web.conftest import PASSWORD, Server, sign_in
from tests.web.test_webchat import chat, next_event, say


async def test_health(server: Server, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server.url}/healthz") as r:
        assert (r.status, await r.json()) == (200, {"status": "ok"})
    async with http.get(f"{server.url}/readyz") as r:
        assert (r.status, await r.json()) == (200, {"status": "ready"})


async def test_sign_in_and_out(server: Server, http: aiohttp.ClientSession) -> None:
    async with http.post(
        f"{server.url}/api/session", json={"username": "sato", "password": "wrong password"}
    ) as r:
        assert r.status == 401
        assert (await r.json())["error"]["code"] == "bad_credentials"
    async with http.post(
        f"{server.url}/api/session", json={"username": "nobody", "password": PASSWORD}
    ) as r:
        assert r.status == 401
    async with http.get(f"{server.url}/api/me") as r:
        assert r.status == 401
    session = await sign_in(server.url, "sato")
    async with session:
        cookie = next(c for c in session.cookie_jar if c.key == "tsunagu_session")
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        async with session.get(f"{server.url}/api/me") as r:
            assert (await r.json())["user"]["username"] == "sato"
        async with session.delete(f"{server.url}/api/session") as r:
            assert r.status == 204
        async with session.get(f"{server.url}/api/me") as r:
            assert r.status == 401


async def test_cookie_requests_need_the_csrf_header(server: Server) -> None:
    session = await sign_in(server.url, "admin")
    async with session:
        body = {"username": "new", "password": PASSWORD, "roles": ["counselor"]}
        async with session.post(
            f"{server.url}/api/users", json=body, headers={"X-Tsunagu-CSRF": "0"}
        ) as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "csrf"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b"[1, 2]", 400, "body"),
        (b'{"body": 5}', 400, "body"),
        (b'{"text": "wrong key"}', 400, "body"),
    ],
)
async def test_malformed_reply_names_the_field(
    server: Server, http: aiohttp.ClientSession, payload: bytes, status: int, field: str
) -> None:
    session = await sign_in(server.url, "boss")
    async with session:
        conv_id = await _one_conversation(server, http, session)
        async with session.post(
            f"{server.url}/api/conversations/{conv_id}/replies",
            data=payload,
            headers={"Content-Type": "application/json"},
        ) as r:
            assert r.status == status
            error = (await r.json())["error"]
            assert error["field"] == field, error


async def _one_conversation(
    server: Server, http: aiohttp.ClientSession, staff: aiohttp.ClientSession
) -> int:
    events = await staff.ws_connect(server.ws_url("/api/ws"))
    ws, _ = await chat(http, server)
    await say(ws, "相談があります")
    await ws.close()
    assigned = await next_event(events, "conversation_assigned")
    await events.close()
    return int(assigned["conversation_id"])


async def test_sizes_and_unknown_ids(server: Server, http: aiohttp.ClientSession) -> None:
    boss = await sign_in(server.url, "boss")
    async with boss:
        conv_id = await _one_conversation(server, http, boss)
        huge = "x" * (server.cfg.server.max_body_bytes + 1)
        async with boss.post(
            f"{server.url}/api/conversations/{conv_id}/replies", json={"body": huge}
        ) as r:
            assert r.status == 413
            assert (await r.json())["error"]["code"] == "too_large"
        long = "あ" * (server.cfg.intake.max_message_chars + 1)
        async with boss.post(
            f"{server.url}/api/conversations/{conv_id}/notes", json={"body": long}
        ) as r:
            assert r.status == 413
        for path in ("/api/conversations/999999", "/api/conversations/abc"):
            async with boss.get(server.url + path) as r:
                assert r.status == 404
                assert (await r.json())["error"]["code"] == "not_found"
        async with boss.get(f"{server.url}/api/conversations?status=bogus") as r:
            assert r.status == 400
            assert (await r.json())["error"]["field"] == "status"


async def test_roles_are_enforced(server: Server, http: aiohttp.ClientSession) -> None:
    boss, sato, phone, admin = [
        await sign_in(server.url, n) for n in ("boss", "sato", "phone", "admin")
    ]
    try:
        conv_id = await _one_conversation(server, http, boss)
        # counselors cannot hand work to others, nor manage accounts
        async with sato.post(
            f"{server.url}/api/conversations/{conv_id}/assign",
            json={"user_id": server.ids["suzuki"]},
        ) as r:
            assert r.status in (403, 404)
        async with sato.post(
            f"{server.url}/api/users",
            json={"username": "x", "password": PASSWORD, "roles": ["admin"]},
        ) as r:
            assert r.status == 403
        # phone staff see phone conversations only; admins manage accounts, not conversations
        async with phone.get(f"{server.url}/api/conversations/{conv_id}") as r:
            assert r.status == 404
        async with admin.get(f"{server.url}/api/conversations") as r:
            assert r.status == 403
        # a supervisor moves the conversation to suzuki, whatever her load
        async with boss.post(
            f"{server.url}/api/conversations/{conv_id}/assign",
            json={"user_id": server.ids["suzuki"]},
        ) as r:
            assert r.status == 200
            assert (await r.json())["conversation"]["assignee_id"] == server.ids["suzuki"]
        async with sato.post(
            f"{server.url}/api/conversations/{conv_id}/replies", json={"body": "横から"}
        ) as r:
            assert r.status == 404  # not hers any more, so not visible
        async with admin.post(
            f"{server.url}/api/users",
            json={"username": "tanaka", "password": PASSWORD, "roles": ["counselor", "wizard"]},
        ) as r:
            assert r.status == 400
            assert (await r.json())["error"]["field"] == "roles"
        async with admin.post(
            f"{server.url}/api/users",
            json={"username": "tanaka", "password": "short", "roles": ["counselor"]},
        ) as r:
            assert (r.status, (await r.json())["error"]["field"]) == (400, "password")
        async with admin.post(f"{server.url}/api/users/sato/disable") as r:
            assert r.status == 200
        async with sato.get(f"{server.url}/api/me") as r:
            assert r.status == 401  # disabling ends her sessions at once
        close_url = f"{server.url}/api/conversations/{conv_id}/close"
        async with boss.post(close_url, json={"outcome": "referred"}) as r:
            assert (r.status, (await r.json())["conversation"]["status"]) == (200, "closed")
        async with boss.post(close_url, json={"outcome": "referred"}) as r:
            assert r.status == 409
        async with boss.get(f"{server.url}/api/events") as r:
            kinds = [e["kind"] for e in (await r.json())["events"]]
        assert {
            "conversation_opened",
            "message_received",
            "conversation_assigned",
            "conversation_closed",
            "signed_in",
            "user_disabled",
        } <= set(kinds)
    finally:
        for s in (boss, sato, phone, admin):
            await s.close()


async def test_staff_socket_gets_event_ids(server: Server, http: aiohttp.ClientSession) -> None:
    boss = await sign_in(server.url, "boss")
    async with boss:
        ws = await boss.ws_connect(server.ws_url("/api/ws"))
        chat_ws, _ = await chat(http, server)
        await say(chat_ws, "秘密の相談内容")
        kinds = set()
        while "message_received" not in kinds:
            frame = await ws.receive_json(timeout=10)
            assert "秘密" not in str(frame)
            kinds |= {event["kind"] for event in frame_events(frame)}
        await ws.close()
        await chat_ws.close()
    async with http.get(server.ws_url("/api/ws").replace("ws://", "http://")) as r:
        assert r.status == 401
