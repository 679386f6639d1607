"""Hostile input, shape by shape: every one gets a 4xx naming the field (or a 404 for a path id
that is not an id), the chat socket answers with an error frame, and nothing answers 5xx."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from inbox.app import build_store
from inbox.auth import hash_password
from inbox.web.server import MAX_JSON_DEPTH
from tests import pgutil
from tests.factories import T0, new_user
from tests.web.conftest import PASSWORD, STAFF, Server, make_config, running, sign_in
from tests.web.test_api import _one_conversation
from tests.web.test_webchat import chat, say

INT64_LIMIT = 2**63
NOT_IDS = [
    "%C2%B2",  # "²": str.isdigit() says yes, int() says no
    "%D9%A1%D9%A2",  # "١٢": Arabic-Indic digits, which int() would read as 12
    "%EF%BC%91",  # "１": a full-width digit
    "1" * 4301,  # over int()'s digit limit
    str(INT64_LIMIT),
    "9" * 30,
    "-1",
    "1e3",
]


def nested(depth: int) -> bytes:
    return b'{"username": ' + b"[" * depth + b"]" * depth + b', "password": "x"}'


async def answer(response: aiohttp.ClientResponse) -> tuple[int, dict[str, Any]]:
    body = await response.json()
    return response.status, body["error"]


async def test_a_path_id_that_is_not_an_id_is_404(server: Server) -> None:
    async with await sign_in(server.url, "boss") as boss:
        for raw in NOT_IDS:
            for path in (
                f"/api/conversations/{raw}",
                f"/api/conversations/{raw}/contact",
                f"/api/messages/{raw}/attachments/0",
                f"/api/messages/1/attachments/{raw}",
            ):
                async with boss.get(URL(server.url + path, encoded=True)) as r:
                    status, error = await answer(r)
                    assert (status, error["code"]) == (404, "not_found"), path
            async with boss.patch(
                URL(f"{server.url}/api/counselors/{raw}", encoded=True), json={"presence": "away"}
            ) as r:
                assert r.status == 404, raw
            async with boss.get(URL(f"{server.url}/api/events?after={raw}", encoded=True)) as r:
                status, error = await answer(r)
                assert (status, error["field"]) == (400, "after"), raw
        # the largest id is merely unknown
        async with boss.get(f"{server.url}/api/conversations/{INT64_LIMIT - 1}") as r:
            assert r.status == 404
        async with boss.get(f"{server.url}/api/events?after={INT64_LIMIT - 1}") as r:
            assert (r.status, await r.json()) == (
                200,
                {"events": [], "next_after": INT64_LIMIT - 1},
            )


async def test_deep_json_is_400_even_before_sign_in(
    server: Server, http: aiohttp.ClientSession
) -> None:
    for depth in (MAX_JSON_DEPTH, 900, 5000, 30_000):
        async with http.post(f"{server.url}/api/session", data=nested(depth)) as r:
            status, error = await answer(r)
            assert (status, error["field"]) == (400, "body"), depth
            assert "nested deeper" in error["message"]
    # MAX_JSON_DEPTH counts the body object itself, so a field may nest one level less
    async with http.post(f"{server.url}/api/session", data=nested(MAX_JSON_DEPTH - 1)) as r:
        status, error = await answer(r)
        assert (status, error["field"]) == (400, "username")  # the depth passed, the type not


WRONG_TYPES: list[tuple[str, dict[str, Any], str]] = [
    ("/assign", {"user_id": INT64_LIMIT}, "user_id"),
    ("/assign", {"user_id": -INT64_LIMIT - 1}, "user_id"),
    ("/assign", {"user_id": 1.0}, "user_id"),
    ("/assign", {"user_id": True}, "user_id"),
    ("/anonymity", {"anonymity": []}, "anonymity"),
    ("/anonymity", {"anonymity": {"mode": "anonymous"}}, "anonymity"),
    ("/anonymity", {"anonymity": 1}, "anonymity"),
    ("/discretion", {"discretion": []}, "discretion"),
    ("/reveal", {"reason": {"text": "x"}}, "reason"),
    ("/replies", {"body": ["x"]}, "body"),
    ("/notes", {"body": None}, "body"),
]


async def test_a_wrong_json_type_is_400_naming_the_field(
    server: Server, http: aiohttp.ClientSession
) -> None:
    async with await sign_in(server.url, "boss") as boss:
        conv_id = await _one_conversation(server, http, boss)
        for path, body, field in WRONG_TYPES:
            method = "PUT" if path == "/anonymity" else "POST"
            url = f"{server.url}/api/conversations/{conv_id}{path}"
            async with boss.request(method, url, json=body) as r:
                status, error = await answer(r)
                assert (status, error["field"]) == (400, field), (path, body, error)


BAD_BODIES: list[tuple[str, bytes, str]] = [
    (
        "/api/conversations/move",
        b'{"conversation_ids": [9223372036854775808], "to_user_id": 1}',
        "conversation_ids",
    ),
    ("/api/conversations/move", b'{"conversation_ids": [1], "to_user_id": 1e400}', "to_user_id"),
    ("/api/conversations/move", b'{"conversation_ids": [1], "to_user_id": NaN}', "to_user_id"),
    ("/api/conversations/move", b'{"conversation_ids": [' + b"1" * 4301 + b"]}", "body"),
    (
        "/api/users",
        b'{"username": "x", "password": "0123456789", "roles": ["admin"], "display_name": []}',
        "display_name",
    ),
    ("/api/users", b'{"username": "x", "password": "0123456789", "roles": [[]]}', "roles"),
    (
        "/api/users",
        b'{"username": "x", "password": "0123456789", "roles": ["admin"], '
        b'"capacity": 9223372036854775808}',
        "capacity",
    ),
    ("/api/users", b'"just a string"', "body"),
    ("/api/users", b"\xff\xfe{}", "body"),
]


async def test_a_bad_body_is_400_naming_the_field(server: Server) -> None:
    boss, admin = await sign_in(server.url, "boss"), await sign_in(server.url, "admin")
    async with boss, admin:
        for path, raw, field in BAD_BODIES:
            staff = admin if path == "/api/users" else boss
            async with staff.post(server.url + path, data=raw) as r:
                status, error = await answer(r)
                assert (status, error["field"]) == (400, field), (raw[:80], error)
        body = {"username": "sato", "password": PASSWORD, "roles": ["counselor"]}
        async with admin.post(f"{server.url}/api/users", json=body) as r:
            status, error = await answer(r)
            assert (status, error["code"], error["field"]) == (409, "conflict", "username")


async def raw_status(server: Server, request: bytes) -> int:
    """Send bytes no client library would (headers that are not UTF-8); the status code."""
    url = URL(server.url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


async def test_undecodable_credentials_are_401(server: Server) -> None:
    for header in (
        b"Authorization: Bearer \xff\xfe",
        b"Authorization: Bearer tsu_\xc3\x28",
        b"Authorization: Bearer \xe3\x81\x82",  # valid UTF-8, but no token of ours
        b"Cookie: tsunagu_session=\xff",
    ):
        request = b"GET /api/me HTTP/1.1\r\nHost: x\r\n" + header + b"\r\nConnection: close\r\n\r\n"
        assert await raw_status(server, request) == 401, header
    # the refusal names the origin it refused, which must still encode
    origin = b"GET /chat/ws HTTP/1.1\r\nHost: x\r\nOrigin: \xff\xfe\r\nConnection: close\r\n\r\n"
    assert await raw_status(server, origin) == 403


# ---- the chat socket --------------------------------------------------------------------------
def deep_value(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


CHAT_FRAMES: list[object] = [
    [1, 2],
    "message",
    None,
    {"type": ["message"]},
    {"type": "message", "client_id": [], "body": "x"},
    {"type": "message", "client_id": str(uuid.uuid4()), "body": {"text": "x"}},
    {"type": "message", "client_id": str(uuid.uuid4()), "body": deep_value(MAX_JSON_DEPTH + 5)},
    {"type": "message", "client_id": "1" * 5000, "body": "x"},
]


async def test_the_chat_socket_answers_hostile_frames_with_errors(
    server: Server, http: aiohttp.ClientSession
) -> None:
    ws, _ = await chat(http, server)
    raw_frames = [json.dumps(f) for f in CHAT_FRAMES]
    raw_frames += ["{not json", "[" * 30_000 + "]" * 30_000, json.dumps("\ud800")]
    for raw in raw_frames:
        await ws.send_str(raw)
        reply = await ws.receive_json(timeout=10)
        assert (reply["type"], reply["code"]) == ("error", "validation"), raw[:80]
    await ws.send_bytes(b"\xff binary frames are not read")
    assert (await say(ws, "まだ話せますか"))["type"] == "ack"  # the same socket still works
    await ws.close()


async def test_a_frame_over_the_size_limit_closes_only_that_socket(
    server: Server, http: aiohttp.ClientSession
) -> None:
    ws, _ = await chat(http, server)
    await ws.send_str("x" * (server.cfg.intake.max_message_chars * 6 + 2048))
    closing = await ws.receive(timeout=10)
    assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1009
    again, _ = await chat(http, server)
    assert (await say(again, "もう一度")).get("type") == "ack"
    await again.close()


async def test_a_hostile_hello_starts_a_fresh_session_or_closes(
    server: Server, http: aiohttp.ClientSession
) -> None:
    for hello in ("[" * 5000, "[]", '{"token": []}', json.dumps({"token": "\ud800" * 30})):
        ws = await http.ws_connect(server.ws_url("/chat/ws"))
        await ws.send_str(hello)
        first = await ws.receive(timeout=10)
        if first.type is aiohttp.WSMsgType.TEXT:
            assert json.loads(first.data)["type"] == "welcome", hello[:40]
        else:
            assert first.type is aiohttp.WSMsgType.CLOSE, hello[:40]
        await ws.close()
    async with http.get(f"{server.url}/healthz") as r:
        assert r.status == 200


@pytest.mark.postgres
async def test_postgresql_gives_the_same_answers(
    tmp_path: Path, pg_template: pgutil.PgTemplate
) -> None:
    """Where the driver is stricter than SQLite: a taken username, NUL in a path (text cannot
    hold it), and the largest id (BIGINT holds it, one more does not)."""
    url = await pg_template.fresh_database()
    cfg = make_config(tmp_path)
    cfg = dataclasses.replace(cfg, database=dataclasses.replace(cfg.database, url=url))
    async with build_store(cfg.database) as store:
        for name in ("boss", "admin", "sato"):
            user = new_user(name, roles=STAFF[name])
            await store.create_user(
                dataclasses.replace(user, password_hash=hash_password(PASSWORD)), now=T0
            )
    async with running(cfg) as server_url:
        boss, admin = await sign_in(server_url, "boss"), await sign_in(server_url, "admin")
        async with boss, admin:
            body = {"username": "sato", "password": PASSWORD, "roles": ["counselor"]}
            async with admin.post(f"{server_url}/api/users", json=body) as r:
                status, error = await answer(r)
                assert (status, error["field"]) == (409, "username")
            async with admin.post(URL(f"{server_url}/api/users/a%00/disable", encoded=True)) as r:
                assert r.status == 404
            async with boss.get(f"{server_url}/api/conversations/{INT64_LIMIT - 1}") as r:
                assert r.status == 404
            async with boss.get(f"{server_url}/api/events?after={INT64_LIMIT - 1}") as r:
                assert (r.status, await r.json()) == (
                    200,
                    {"events": [], "next_after": INT64_LIMIT - 1},
                )
            async with boss.get(f"{server_url}/api/users") as r:
                sato_id = next(
                    u["id"] for u in (await r.json())["users"] if u["username"] == "sato"
                )
            move = {"conversation_ids": [INT64_LIMIT - 1], "to_user_id": sato_id}
            async with boss.post(f"{server_url}/api/conversations/move", json=move) as r:
                moved = await r.json()
                assert (r.status, moved["failed"][0]["error"]) == (200, "not_found")
    await pg_template.drop(url)
