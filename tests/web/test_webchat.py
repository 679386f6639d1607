"""A consulter and a counselor hold a conversation through the real server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp

from tests.staff_frames import next_staff_event
from tests.web.conftest import Server, sign_in


async def chat(
    http: aiohttp.ClientSession,
    server: Server,
    token: str | None = None,
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await http.ws_connect(server.ws_url("/chat/ws"))
    await ws.send_json({"type": "hello", "token": token})
    welcome = await ws.receive_json(timeout=10)
    assert welcome["type"] == "welcome"
    return ws, welcome


async def say(
    ws: aiohttp.ClientWebSocketResponse,
    body: str,
    client_id: str | None = None,
) -> dict[str, Any]:
    await ws.send_json(
        {"type": "message", "client_id": client_id or str(uuid.uuid4()), "body": body}
    )
    answer: dict[str, Any] = await ws.receive_json(timeout=10)
    return answer


async def next_event(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """Read the staff socket until an event of this kind arrives (the router and outbox run
    beside the test, so the test waits for what they announce instead of sleeping)."""
    async with asyncio.timeout(10):
        while True:
            event = await next_staff_event(ws)
            if event["kind"] == kind:
                return dict(event)


async def test_consulter_and_counselor_talk(server: Server, http: aiohttp.ClientSession) -> None:
    sato = await sign_in(server.url, "sato")
    suzuki = await sign_in(server.url, "suzuki")
    events = await sato.ws_connect(server.ws_url("/api/ws"))
    ws, welcome = await chat(http, server)
    assert welcome["messages"] == []
    client_id = str(uuid.uuid4())
    ack = await say(ws, "夜分にすみません。相談したいです。", client_id)
    assert ack["type"] == "ack" and ack["client_id"] == client_id
    try:
        assigned = await next_event(events, "conversation_assigned")
        listed = []
        for staff in (sato, suzuki):
            async with staff.get(f"{server.url}/api/conversations") as r:
                listed += (await r.json())["conversations"]
        (conv,) = [c for c in listed if c["id"] == assigned["conversation_id"]]
        assert conv["status"] == "assigned"
        assert conv["contact_alias"].startswith("相談者-")
        assert conv["channel"] == "webchat"
        owner = sato if conv["assignee_id"] == server.ids["sato"] else suzuki
        other = suzuki if owner is sato else sato
        async with other.get(f"{server.url}/api/conversations/{conv['id']}") as r:
            assert r.status == 404  # another counselor's conversation is invisible to her

        async with owner.post(
            f"{server.url}/api/conversations/{conv['id']}/replies",
            json={"body": "ご連絡ありがとうございます。"},
        ) as r:
            assert r.status == 201, await r.text()
        pushed = await next_frame(ws, "message")  # after the nudges: assigned, then opened
        assert pushed["message"]["body"] == "ご連絡ありがとうございます。"

        await next_event(events, "reply_sent")
        async with owner.get(f"{server.url}/api/conversations/{conv['id']}") as r:
            assert (await r.json())["messages"][-1]["delivery_status"] == "sent"
        await ws.close()

        # she comes back later with her token: same conversation, history intact
        ws2, again = await chat(http, server, welcome["token"])
        assert [m["body"] for m in again["messages"]] == [
            "夜分にすみません。相談したいです。",
            "ご連絡ありがとうございます。",
        ]
        assert [m["direction"] for m in again["messages"]] == ["inbound", "outbound"]
        # a resend after a reconnect is recognized, not stored twice
        repeat = await say(ws2, "夜分にすみません。相談したいです。", client_id)
        assert repeat["message_id"] == ack["message_id"]
        await ws2.close()
        async with owner.get(f"{server.url}/api/conversations/{conv['id']}") as r:
            assert len((await r.json())["messages"]) == 2
    finally:
        await events.close()
        await sato.close()
        await suzuki.close()


async def test_bad_frames_get_precise_errors(server: Server, http: aiohttp.ClientSession) -> None:
    ws, _ = await chat(http, server)
    await ws.send_str("{not json")
    error = await ws.receive_json(timeout=10)
    assert (error["type"], error["code"]) == ("error", "validation")
    assert "malformed JSON" in error["message"]
    cid = str(uuid.uuid4())
    assert (await say(ws, "   ", cid))["message"] == "body: must not be empty"
    too_long = await say(ws, "あ" * (server.cfg.intake.max_message_chars + 1))
    assert too_long["code"] == "too_large"
    await ws.send_json({"type": "message", "client_id": "not-a-uuid", "body": "x"})
    assert (await ws.receive_json(timeout=10))["message"].startswith("client_id:")
    # the socket survives all of that
    assert (await say(ws, "大丈夫です"))["type"] == "ack"
    await ws.close()


async def test_unknown_token_starts_a_fresh_session(
    server: Server, http: aiohttp.ClientSession
) -> None:
    ws, welcome = await chat(http, server, "x" * 43)
    assert welcome["messages"] == []
    await ws.close()
    ws, welcome = await chat(http, server, "short")
    assert welcome["token"] != "short"
    await ws.close()


async def test_foreign_origin_is_refused(server: Server, http: aiohttp.ClientSession) -> None:
    try:
        await http.ws_connect(server.ws_url("/chat/ws"), origin="https://evil.example")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 403
    else:
        raise AssertionError("a foreign origin was accepted")


async def test_consulter_asks_for_her_place_in_line(
    server: Server, http: aiohttp.ClientSession
) -> None:
    boss = await sign_in(server.url, "boss")
    async with boss:
        for name in ("sato", "suzuki"):  # everyone busy elsewhere: she waits
            url = f"{server.url}/api/counselors/{server.ids[name]}"
            async with boss.patch(url, json={"presence": "away"}) as r:
                assert r.status == 200
        first, _ = await chat(http, server)
        await say(first, "先に待っている人")
        ws, _ = await chat(http, server)
        await say(ws, "順番を知りたいです")
        await ws.send_json({"type": "queue_status"})
        status = await next_frame(ws, "queue_status")
        assert (status["state"], status["position"]) == ("queued", 2)
        assert status["wait_s"] is None  # no conversation closed yet to base an estimate on
        url = f"{server.url}/api/counselors/{server.ids['sato']}"
        async with boss.patch(url, json={"presence": "available"}) as r:
            assert r.status == 200
        async with asyncio.timeout(10):  # sato takes both; then she is no longer in line
            while True:
                await ws.send_json({"type": "queue_status"})
                if (await next_frame(ws, "queue_status"))["position"] is None:
                    break
                await asyncio.sleep(0.1)
        await ws.close()
        await first.close()


async def test_asked_at_once_she_is_not_told_all_are_busy_while_someone_is_free(
    server: Server, http: aiohttp.ClientSession
) -> None:
    """Right after her message the router may not have had its round: the answer waits for
    one instead of counting her as waiting in line (it said "number 1" half of the time)."""
    for n in range(6):  # sato and suzuki have room for three each
        ws, _ = await chat(http, server)
        await say(ws, f"相談したいです {n}")
        await ws.send_json({"type": "queue_status"})
        assert (await next_frame(ws, "queue_status"))["position"] is None, n
        await ws.close()


async def next_frame(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next frame of this type (auto-replies may arrive in between)."""
    async with asyncio.timeout(10):
        while True:
            frame: dict[str, Any] = await ws.receive_json()
            if frame["type"] == kind:
                return frame
