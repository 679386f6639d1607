"""Text a database would refuse, from outside, through the real server on SQLite and on
PostgreSQL: a lone surrogate and NUL in a chat frame, an API body, a path. The server stays up,
the sender gets an ack or a 4xx, later messages are stored."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest

from inbox.core.model import ChannelKind, ConversationId, Direction
from inbox.web.server import read_json_object
from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import now_inbound, seed
from tests.web.test_webchat import chat

# As a browser or a script sends them: JSON escapes, so the frame itself is valid JSON.
LONE = "\\ud83d"
NUL = "\\u0000"


async def say_raw(
    ws: aiohttp.ClientWebSocketResponse, body_json: str, client_id: str
) -> dict[str, Any]:
    await ws.send_str(f'{{"type": "message", "client_id": "{client_id}", "body": "{body_json}"}}')
    answer: dict[str, Any] = await ws.receive_json(timeout=10)
    return answer


@pytest.mark.both_stores  # text PostgreSQL refuses
async def test_chat_frames_with_a_lone_surrogate_or_nul_are_stored_or_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    ws, welcome = await chat(http, site.server)
    token = welcome["token"]
    surrogate_id = str(uuid.uuid4())
    assert (await say_raw(ws, f"困っています{LONE}", surrogate_id))["type"] == "ack"
    assert (await say_raw(ws, f"a{NUL}b", str(uuid.uuid4())))["type"] == "ack"
    only_nul = await say_raw(ws, NUL, str(uuid.uuid4()))
    assert (only_nul["type"], only_nul["code"]) == ("error", "validation")
    await ws.close()
    # After a reconnect the page resends what it holds unacknowledged: the same message again.
    ws, welcome = await chat(http, site.server, token)
    assert [m["body"] for m in welcome["messages"]] == ["困っています\ufffd", "ab"]
    assert (await say_raw(ws, f"困っています{LONE}", surrogate_id))["type"] == "ack"
    assert (await say_raw(ws, "その後の話", str(uuid.uuid4())))["type"] == "ack"
    await ws.close()
    ws, welcome = await chat(http, site.server, token)
    await ws.close()
    assert [m["body"] for m in welcome["messages"]] == ["困っています\ufffd", "ab", "その後の話"]
    async with http.get(f"{site.url}/healthz") as r:
        assert r.status == 200


@pytest.mark.both_stores  # text PostgreSQL refuses
async def test_api_text_with_a_lone_surrogate_or_nul_is_stored_never_5xx(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    (conv_id,) = await seed(site, now_inbound("hanako@example.jp", channel=ChannelKind.MAIL))
    base = f"{site.url}/api/conversations/{conv_id}"
    for path, raw in [
        ("notes", f'{{"body": "メモ{LONE}{NUL}"}}'),
        ("replies", f'{{"body": "お返事{NUL}です{LONE}"}}'),
        ("reveal", f'{{"reason": "緊急{NUL}{LONE}"}}'),
    ]:
        async with boss.post(
            f"{base}/{path}", data=raw, headers={"Content-Type": "application/json"}
        ) as r:
            assert r.status in (200, 201), (path, await r.text())
    async with boss.post(
        f"{base}/notes", data=f'{{"body": "{NUL}"}}', headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
        assert (await r.json())["error"]["field"] == "body"
    messages = await site.store.list_messages(ConversationId(conv_id))
    assert [m.body for m in messages if m.direction is not Direction.INBOUND] == [
        "メモ\ufffd",
        "お返事です\ufffd",
    ]
    events = await site.store.list_events()
    (revealed,) = [e for e in events if e.kind == "address_revealed"]
    assert json.dumps(revealed.data, ensure_ascii=False).count("緊急\ufffd") == 1


@pytest.mark.both_stores  # text PostgreSQL refuses
async def test_names_and_paths_with_a_nul_or_lone_surrogate_never_give_5xx(site: Site) -> None:
    async with await sign_in(site.url, "admin") as admin:
        new_user = f'{{"username": "ta{NUL}ro{LONE}", "display_name": "{LONE}太郎{NUL}", '
        async with admin.post(
            f"{site.url}/api/users",
            data=new_user + f'"password": "long pass{NUL}word{LONE}", "roles": ["counselor"]}}',
            headers={"Content-Type": "application/json"},
        ) as r:
            assert r.status == 201, await r.text()
            user = (await r.json())["user"]
        assert (user["username"], user["display_name"]) == ("taro\ufffd", "\ufffd太郎")
        for name in ["a%00b", "a%ED%A0%BDb"]:  # a NUL, and the UTF-8 bytes of a surrogate
            async with admin.post(f"{site.url}/api/users/{name}/disable") as r:
                assert r.status == 404, await r.text()
        async with admin.post(f"{site.url}/api/users/taro%EF%BF%BD/disable") as r:
            assert r.status == 200, await r.text()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"body": "a\\u0000b\\ud83d"}',  # escapes, as browsers and scripts send them
        b'{"body": "a\\u0000b\xed\xa0\xbd"}',  # a surrogate's UTF-8 bytes: json.loads takes them
        '{"body": "a\\u0000b\\ud83d"}'.encode("utf-16"),
        '{"body": "a\\u0000b\\ud83d"}'.encode("utf-32-le"),
    ],
    ids=["escaped", "surrogate bytes", "utf-16", "utf-32"],
)
def test_read_json_object_cleans_every_encoding_json_accepts(raw: bytes) -> None:
    assert read_json_object(raw) == {"body": "ab\ufffd"}


TOO_BIG = "99999999999999999999"  # past 64 bits: the drivers refuse it (SQLite 500, PG 503)


@pytest.mark.both_stores  # numbers each database refuses differently
async def test_numbers_neither_database_takes_are_answered_4xx(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    (conv_id,) = await seed(site, now_inbound("hanako@example.jp"))
    for method, path, body in [
        ("GET", f"/api/conversations/{TOO_BIG}", None),
        ("GET", "/api/conversations/²", None),  # isdigit() says yes, int() says no
        ("PATCH", f"/api/counselors/{TOO_BIG}", {"presence": "away"}),
        ("GET", f"/api/messages/{TOO_BIG}/attachments/1", None),
        ("GET", f"/api/messages/1/attachments/{TOO_BIG}", None),
        ("GET", "/api/messages/1/attachments/99999999999", None),  # past 32 bits
        ("GET", f"/api/events?after={TOO_BIG}", None),
        ("POST", f"/api/conversations/{conv_id}/assign", {"user_id": int(TOO_BIG)}),
        ("POST", "/api/conversations/move", {"conversation_ids": [int(TOO_BIG)], "to_user_id": 1}),
        (
            "POST",
            "/api/conversations/move",
            {"conversation_ids": [conv_id], "to_user_id": -(2**70)},
        ),
    ]:
        async with boss.request(method, f"{site.url}{path}", json=body) as r:
            assert r.status in (400, 404), (method, path, r.status, await r.text())
