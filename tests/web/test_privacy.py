"""No body, address, session token or password reaches the logs, even at DEBUG."""

from __future__ import annotations

import io

import aiohttp

from tests.web.conftest import PASSWORD, Server, sign_in
from tests.web.test_webchat import chat, next_event, say

SECRET_BODY = "夫に見つかるのが怖いです ZQXJ-body-marker"
SECRET_REPLY = "安全な時間に返信します ZQXJ-reply-marker"


async def test_logs_carry_ids_only(
    captured_logs: io.StringIO, server: Server, http: aiohttp.ClientSession
) -> None:
    boss = await sign_in(server.url, "boss")
    async with boss:
        events = await boss.ws_connect(server.ws_url("/api/ws"))
        ws, welcome = await chat(http, server)
        await say(ws, SECRET_BODY)
        conv = (await next_event(events, "conversation_assigned"))["conversation_id"]
        async with boss.post(
            f"{server.url}/api/conversations/{conv}/replies", json={"body": SECRET_REPLY}
        ) as r:
            assert r.status == 201
        await next_event(events, "reply_sent")
        async with boss.post(
            f"{server.url}/api/session", json={"username": "boss", "password": "wrong " + PASSWORD}
        ) as r:
            assert r.status == 401
        await ws.close()
        await events.close()
        cookie = next(c.value for c in boss.cookie_jar if c.key == "tsunagu_session")

    logs = captured_logs.getvalue()
    assert '"action": "conversations_assigned"' in logs  # the capture did see the traffic
    assert '"action": "outbox_sent"' in logs
    for secret in ("ZQXJ", "夫に", welcome["token"], cookie, PASSWORD):
        assert secret not in logs, f"{secret!r} leaked into the logs"
