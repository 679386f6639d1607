"""Admins manage accounts over the API: create (she sets her own password first), enable, roles and
display names, a password reset shown once; the password_change_required gate; her own change."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from inbox.auth import MIN_PASSWORD_CHARS
from tests.web.conftest import PASSWORD, Server, Site, sign_in
from tests.web.test_supervision import call

NEW_PASSWORD = "my own secret words"


async def _sign_in_as(url: str, username: str, password: str) -> tuple[aiohttp.ClientSession, Any]:
    session = aiohttp.ClientSession(
        headers={"X-Tsunagu-CSRF": "1"}, cookie_jar=aiohttp.CookieJar(unsafe=True)
    )
    async with session.post(
        f"{url}/api/session", json={"username": username, "password": password}
    ) as r:
        assert r.status == 200, await r.text()
        return session, (await r.json())["user"]


async def _error(session: aiohttp.ClientSession, method: str, url: str, body: object = None) -> Any:
    status, answer = await call(session, method, url, body)
    return status, answer["error"]["code"], answer["error"].get("field")


async def test_a_new_account_sets_her_own_password_before_anything_else(server: Server) -> None:
    url = server.url
    async with await sign_in(url, "admin") as admin:
        status, made = await call(
            admin,
            "POST",
            f"{url}/api/users",
            {"username": "tanaka", "password": PASSWORD, "roles": ["counselor"]},
        )
        assert status == 201 and made["user"]["must_change_password"] is True
    tanaka, user = await _sign_in_as(url, "tanaka", PASSWORD)
    async with tanaka:
        assert user["must_change_password"] is True
        gate = (403, "password_change_required", None)
        for method, path in [("GET", "/api/me"), ("GET", "/api/conversations")]:
            assert await _error(tanaka, method, url + path) == gate
        async with tanaka.get(server.ws_url("/api/ws")) as r:
            assert r.status == 403  # no socket either
        password_url = f"{url}/api/session/password"
        short = "x" * (MIN_PASSWORD_CHARS - 1)
        for body, field in [
            ({"current": PASSWORD}, "new"),
            ({"current": PASSWORD, "new": short}, "new"),
            ({"current": PASSWORD, "new": PASSWORD}, "new"),
            ({"current": "not the password", "new": NEW_PASSWORD}, "current"),
        ]:
            assert await _error(tanaka, "POST", password_url, body) == (400, "validation", field)
        status, changed = await call(
            tanaka, "POST", password_url, {"current": PASSWORD, "new": NEW_PASSWORD}
        )
        assert status == 200 and changed["user"]["must_change_password"] is False
        status, me = await call(tanaka, "GET", f"{url}/api/me")  # this session goes on
        assert (status, me["user"]["username"]) == (200, "tanaka")
    again, user = await _sign_in_as(url, "tanaka", NEW_PASSWORD)
    async with again:
        assert user["must_change_password"] is False
    async with await sign_in(url, "admin") as admin:
        status, made = await call(
            admin,
            "POST",
            f"{url}/api/users",
            {
                "username": "ito",
                "password": PASSWORD,
                "roles": ["counselor"],
                "must_change_password": False,
            },
        )
        assert status == 201 and made["user"]["must_change_password"] is False
        assert await _error(
            admin,
            "POST",
            f"{url}/api/users",
            {
                "username": "ota",
                "password": PASSWORD,
                "roles": ["counselor"],
                "must_change_password": 1,
            },
        ) == (400, "validation", "must_change_password")


@pytest.mark.both_stores
async def test_a_reset_ends_her_sessions_and_shows_the_temporary_password_once(site: Site) -> None:
    url = site.url
    sato = await sign_in(url, "sato")
    socket = await sato.ws_connect(site.server.ws_url("/api/ws"))
    async with await sign_in(url, "admin") as admin:
        async with admin.post(f"{url}/api/users/sato/password") as r:
            assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
            answer = await r.json()
        temporary = answer["temporary_password"]
        assert len(temporary) >= MIN_PASSWORD_CHARS and answer["user"]["must_change_password"]
        assert await _error(admin, "POST", f"{url}/api/users/nobody/password") == (
            404,
            "not_found",
            None,
        )
    while (frame := await socket.receive(timeout=10)).type is aiohttp.WSMsgType.TEXT:
        assert temporary not in frame.data
    assert frame.type is aiohttp.WSMsgType.CLOSE and frame.extra == "password reset"
    async with sato:
        status, _ = await call(sato, "GET", f"{url}/api/me")
        assert status == 401  # her session ended at the reset
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/api/session", json={"username": "sato", "password": PASSWORD}) as r,
    ):
        assert r.status == 401  # the old password no longer works
    sato, user = await _sign_in_as(url, "sato", temporary)
    async with sato:
        assert user["must_change_password"] is True
        assert await _error(sato, "GET", f"{url}/api/conversations") == (
            403,
            "password_change_required",
            None,
        )
        status, _ = await call(
            sato, "POST", f"{url}/api/session/password", {"current": temporary, "new": NEW_PASSWORD}
        )
        assert status == 200
        assert (await call(sato, "GET", f"{url}/api/conversations"))[0] == 200
    events = await site.store.list_events()
    admin_id, sato_id = site.id("admin"), site.id("sato")
    found = [(e.kind, e.actor_id, e.data) for e in events if e.kind.startswith("password_")]
    kept = found[-1][2].get("kept_session")  # her session's tag (inbox.core.sessions)
    assert found == [
        ("password_reset", admin_id, {"user_id": sato_id}),
        ("password_changed", sato_id, {"user_id": sato_id, "kept_session": kept}),
    ]
    assert isinstance(kept, str) and len(kept) == 16
    written = json.dumps([e.data for e in events])
    assert temporary not in written and NEW_PASSWORD not in written and "argon2" not in written


async def test_anyone_changes_her_own_password_and_her_other_sessions_end(server: Server) -> None:
    url = server.url
    here, elsewhere = await sign_in(url, "boss"), await sign_in(url, "boss")
    async with here, elsewhere:
        status, answer = await call(
            here, "POST", f"{url}/api/session/password", {"current": PASSWORD, "new": NEW_PASSWORD}
        )
        assert (status, answer["user"]["username"]) == (200, "boss")
        assert (await call(here, "GET", f"{url}/api/me"))[0] == 200
        assert (await call(elsewhere, "GET", f"{url}/api/me"))[0] == 401
    async with aiohttp.ClientSession() as anonymous:
        assert await _error(
            anonymous, "POST", f"{url}/api/session/password", {"current": "a", "new": "b"}
        ) == (401, "unauthenticated", None)


async def test_an_admin_edits_enables_and_cannot_lock_herself_out(server: Server) -> None:
    url = server.url
    async with await sign_in(url, "admin") as admin:
        status, answer = await call(
            admin,
            "PATCH",
            f"{url}/api/users/sato",
            {"display_name": " 佐藤 花子 ", "roles": ["counselor", "supervisor"]},
        )
        assert status == 200
        assert (answer["user"]["display_name"], answer["user"]["roles"]) == (
            "佐藤 花子",
            ["counselor", "supervisor"],
        )
        for body, expected in [
            ({}, (400, "validation", "display_name")),
            ({"display_name": "   "}, (400, "validation", "display_name")),
            ({"display_name": "x" * 101}, (413, "too_large", "display_name")),
            ({"roles": []}, (400, "validation", "roles")),
            ({"roles": ["wizard"]}, (400, "validation", "roles")),
        ]:
            assert await _error(admin, "PATCH", f"{url}/api/users/sato", body) == expected
        assert (await call(admin, "PATCH", f"{url}/api/users/nobody", {"roles": ["admin"]}))[
            0
        ] == 404
        own = (409, "own_account", None)
        assert await _error(admin, "POST", f"{url}/api/users/admin/disable") == own
        assert (
            await _error(admin, "PATCH", f"{url}/api/users/admin", {"roles": ["supervisor"]}) == own
        )
        status, answer = await call(
            admin, "PATCH", f"{url}/api/users/admin", {"roles": ["admin", "supervisor"]}
        )
        assert (status, answer["user"]["roles"]) == (200, ["admin", "supervisor"])
        assert (await call(admin, "POST", f"{url}/api/users/suzuki/disable"))[0] == 200
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{url}/api/session", json={"username": "suzuki", "password": PASSWORD}) as r,
        ):
            assert r.status == 401  # a disabled account cannot sign in
        status, answer = await call(admin, "POST", f"{url}/api/users/suzuki/enable")
        assert (status, answer["user"]["disabled"]) == (200, False)
        assert (await call(admin, "POST", f"{url}/api/users/nobody/enable"))[0] == 404
        status, listed = await call(admin, "GET", f"{url}/api/users")
        assert {u["username"]: u["must_change_password"] for u in listed["users"]}["sato"] is False
    async with await sign_in(url, "suzuki") as suzuki:
        assert (await call(suzuki, "GET", f"{url}/api/me"))[0] == 200


async def test_a_wrong_json_type_is_400_naming_the_field(server: Server) -> None:
    url = server.url
    async with await sign_in(url, "admin") as admin:
        for method, path, body, field in [
            ("PATCH", "/api/users/sato", {"display_name": 5}, "display_name"),
            ("PATCH", "/api/users/sato", {"roles": "admin"}, "roles"),
            ("PATCH", "/api/users/sato", {"roles": [["admin"]]}, "roles"),
            ("POST", "/api/session/password", {"current": 1, "new": NEW_PASSWORD}, "current"),
            ("POST", "/api/session/password", {"current": PASSWORD, "new": []}, "new"),
            ("POST", "/api/session/password", [], "body"),
        ]:
            assert await _error(admin, method, url + path, body) == (400, "validation", field)
