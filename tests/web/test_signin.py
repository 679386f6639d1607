"""Sign-in through the real server: refusals cost the same argon2 work whoever is asked,
hashing runs off the event loop, and failures lock a username or an address with a 429."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import aiohttp
import pytest
from argon2 import PasswordHasher

from tests.web.conftest import (
    PASSWORD,
    Server,
    add_staff,
    make_config,
    running,
    sign_in,
)


async def attempt(
    http: aiohttp.ClientSession, url: str, username: str, password: str, **headers: str
) -> tuple[int, dict[str, Any], str | None]:
    body = {"username": username, "password": password}
    async with http.post(f"{url}/api/session", json=body, headers=headers) as r:
        return r.status, await r.json(), r.headers.get("Retry-After")


async def events(session: aiohttp.ClientSession, url: str, kind: str) -> list[dict[str, Any]]:
    async with session.get(f"{url}/api/events") as r:
        assert r.status == 200
        return [e for e in (await r.json())["events"] if e["kind"] == kind]


@pytest.fixture
async def strict(tmp_path: Path) -> AsyncIterator[Server]:
    """Three failures lock a username, five an address (the header names it)."""
    cfg = make_config(
        tmp_path,
        sign_in={
            "max_failures_per_account": 3,
            "max_failures_per_address": 5,
            "lockout_s": 600.0,
            "client_address_header": "X-Forwarded-For",
        },
    )
    ids = await add_staff(cfg)
    async with running(cfg) as url:
        yield Server(url=url, cfg=cfg, ids=ids)


async def test_every_refusal_costs_one_argon2_verification_in_a_worker_thread(
    server: Server, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await sign_in(server.url, "admin")
    async with admin, admin.post(f"{server.url}/api/users/suzuki/disable") as r:
        assert r.status == 200
    threads: list[int] = []
    verify = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Literal[True]:
        threads.append(threading.get_ident())
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    answers = []
    for username, password in [
        ("nobody", PASSWORD),  # no such user: the dummy hash is verified (it was skipped)
        ("sato", "wrong password"),
        ("suzuki", PASSWORD),  # disabled
    ]:
        before = len(threads)
        status, body, _ = await attempt(http, server.url, username, password)
        answers.append(body)
        assert (status, len(threads) - before) == (401, 1), username
    assert answers == [answers[0]] * 3
    assert answers[0]["error"]["code"] == "bad_credentials"
    assert (await attempt(http, server.url, "sato", PASSWORD))[0] == 200
    assert len(threads) == 4
    assert threading.get_ident() not in threads  # never on the event loop's thread


async def test_failures_lock_a_username_known_or_not_until_retry_after(
    strict: Server, http: aiohttp.ClientSession
) -> None:
    url = strict.url
    boss = await sign_in(url, "boss")
    try:
        for _ in range(2):
            assert (await attempt(http, url, "sato", "wrong password"))[0] == 401
        assert (await attempt(http, url, "sato", PASSWORD))[0] == 200  # clears her count
        for n in range(3):  # from other addresses, counted afresh: the third locks
            status, _, _ = await attempt(http, url, "sato", "wrong password", **_from(n))
            assert status == 401
        status, body, retry_after = await attempt(http, url, "sato", PASSWORD, **_from(3))
        assert (status, body["error"]["code"]) == (429, "too_many_attempts")
        assert retry_after is not None and 590 <= int(retry_after) <= 600
        assert f"try again in {retry_after} s" in body["error"]["message"]
        # An unknown username locks alike, so a 429 does not reveal which names exist.
        for n in range(3):
            assert (await attempt(http, url, "nobody", "x", **_from(4 + n)))[0] == 401
        assert (await attempt(http, url, "nobody", "x", **_from(7)))[0] == 429
        assert (await attempt(http, url, "suzuki", PASSWORD, **_from(8)))[0] == 200
        locked = await events(boss, url, "sign_in_failures")
    finally:
        await boss.close()
    assert [e["data"] for e in locked] == [
        {
            "scope": "account",
            "failures": 3,
            "window_s": 900.0,
            "locked_s": 600.0,
            "user_id": strict.ids["sato"],
        },
        {"scope": "account", "failures": 3, "window_s": 900.0, "locked_s": 600.0},
    ]
    assert "nobody" not in json.dumps(locked) and "wrong password" not in json.dumps(locked)


def _from(host: int) -> dict[str, str]:
    """A client behind the trusted proxy, which appends the address it saw last."""
    return {"X-Forwarded-For": f"198.51.100.77, 203.0.113.{host}"}


async def test_failures_lock_an_address_whatever_the_username(
    strict: Server, http: aiohttp.ClientSession
) -> None:
    url = strict.url
    boss = await sign_in(url, "boss")
    try:
        proxied = {"X-Forwarded-For": "198.51.100.77, 203.0.113.9"}
        for name in ("a", "b", "c", "d", "e"):
            assert (await attempt(http, url, name, "wrong password", **proxied))[0] == 401
        status, body, retry_after = await attempt(http, url, "sato", PASSWORD, **proxied)
        assert (status, retry_after) == (429, "600")
        assert "your address" in body["error"]["message"]
        other = {"X-Forwarded-For": "203.0.113.10"}
        assert (await attempt(http, url, "sato", PASSWORD, **other))[0] == 200
        locked = await events(boss, url, "sign_in_failures")
    finally:
        await boss.close()
    assert [e["data"]["scope"] for e in locked] == ["address"]
    assert locked[0]["data"]["address"] == "203.0.113.9"


async def test_the_address_header_is_ignored_unless_configured(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    cfg = make_config(tmp_path, sign_in={"max_failures_per_address": 2})
    await add_staff(cfg)
    async with running(cfg) as url:
        for n in range(2):
            forged = {"X-Forwarded-For": f"203.0.113.{n}"}
            assert (await attempt(http, url, f"user{n}", "x", **forged))[0] == 401
        forged = {"X-Forwarded-For": "203.0.113.99"}
        assert (await attempt(http, url, "sato", PASSWORD, **forged))[0] == 429


async def test_a_burst_is_answered_by_the_lock_it_causes(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """All eight pass the check before any has failed; one hash at a time, so the third
    failure locks the username and the five checked after it get 429, right or wrong."""
    cfg = make_config(
        tmp_path,
        sign_in={"max_failures_per_account": 3, "max_concurrent_hashes": 1, "hash_wait_s": 60.0},
    )
    await add_staff(cfg)
    async with running(cfg) as url:
        passwords = [f"guess number {n}" for n in range(7)] + [PASSWORD]
        answers = await asyncio.gather(*(attempt(http, url, "sato", p) for p in passwords))
    assert Counter(status for status, _, _ in answers) == {401: 3, 429: 5}
