"""A real server (inbox.app.serve) on 127.0.0.1 port 0, on SQLite (`server`) or on the test's
store kind (`site`: SQLite, both databases under both_stores), and clients to drive it."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from inbox.app import build_store, serve
from inbox.auth import hash_password
from inbox.config import Config, load_config
from inbox.core.model import Role, UserId
from inbox.logging import configure_logging
from storage.base import Store
from storage.sqlite.store import SqliteStore
from tests.factories import T0, new_user
from tests.stores import POSTGRES, SQLITE
from tests.web.screens import CHROMIUM_ARGS, chromium_path

PASSWORD = "correct horse battery"
STAFF = {
    "sato": frozenset({Role.COUNSELOR}),
    "suzuki": frozenset({Role.COUNSELOR}),
    "boss": frozenset({Role.SUPERVISOR}),
    "admin": frozenset({Role.ADMIN}),
    "phone": frozenset({Role.PHONE_STAFF}),
}


@dataclass
class Server:
    url: str
    cfg: Config
    ids: dict[str, int]

    def ws_url(self, path: str) -> str:
        return self.url.replace("http://", "ws://") + path


def make_config(tmp_path: Path, **sections: dict[str, Any]) -> Config:
    cfg = load_config(None, env={"TSUNAGU_DATA_DIR": str(tmp_path / "data")})
    cfg = dataclasses.replace(cfg, server=dataclasses.replace(cfg.server, port=0))
    for name, values in sections.items():
        cfg = dataclasses.replace(cfg, **{name: dataclasses.replace(getattr(cfg, name), **values)})
    return cfg


async def add_staff(cfg: Config, capacity: int = 3) -> dict[str, int]:
    assert cfg.database.sqlite_path is not None
    ids: dict[str, int] = {}
    password_hash = hash_password(PASSWORD)
    async with SqliteStore(cfg.database.sqlite_path) as store:
        await store.migrate()
        for name, roles in STAFF.items():
            user = dataclasses.replace(
                new_user(name, roles=roles, capacity=capacity), password_hash=password_hash
            )
            ids[name] = (await store.create_user(user, now=T0)).id
    return ids


@asynccontextmanager
async def running(cfg: Config) -> AsyncIterator[str]:
    """Run serve() in this loop until the block ends, then stop it and wait for the drain."""
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(cfg, stop, on_ready=ready.set_result))
    try:
        url = await asyncio.wait_for(asyncio.shield(ready), 15)
        yield url
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    cfg = make_config(tmp_path)
    ids = await add_staff(cfg)
    async with running(cfg) as url:
        yield Server(url=url, cfg=cfg, ids=ids)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def sign_in(url: str, username: str) -> aiohttp.ClientSession:
    """A new client session signed in as `username` (the caller closes it)."""
    session = aiohttp.ClientSession(
        headers={"X-Tsunagu-CSRF": "1"}, cookie_jar=aiohttp.CookieJar(unsafe=True)
    )
    async with session.post(
        f"{url}/api/session", json={"username": username, "password": PASSWORD}
    ) as r:
        assert r.status == 200, await r.text()
    return session


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the server logs, at DEBUG, as the JSON lines a collector would get."""
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream)
    yield stream
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


@dataclass
class Site:
    """A running server on either database (the `site` fixture), and the store beside it."""

    server: Server
    store: Store  # a second connection to the server's database, to set up and to check

    @property
    def url(self) -> str:
        return self.server.url

    def id(self, username: str) -> UserId:
        return UserId(self.server.ids[username])


@asynccontextmanager
async def served_site(
    cfg: Config, *, store_kind: str = SQLITE, request: pytest.FixtureRequest | None = None
) -> AsyncIterator[Site]:
    """The server with this config on the store kind (PostgreSQL: a fresh database, which asks
    `request` for pg_template), its STAFF signed up, and the store beside it."""
    if store_kind == POSTGRES:
        assert request is not None, "a PostgreSQL site needs the test's request"
        url = await request.getfixturevalue("pg_template").fresh_database()
        cfg = dataclasses.replace(cfg, database=dataclasses.replace(cfg.database, url=url))
    async with build_store(cfg.database) as store:
        await store.migrate()
        ids: dict[str, int] = {}
        password_hash = hash_password(PASSWORD)
        for name, roles in STAFF.items():
            user = dataclasses.replace(new_user(name, roles=roles), password_hash=password_hash)
            ids[name] = (await store.create_user(user, now=T0)).id
        async with running(cfg) as server_url:
            yield Site(Server(url=server_url, cfg=cfg, ids=ids), store)
    if store_kind == POSTGRES:
        assert request is not None
        await request.getfixturevalue("pg_template").drop(cfg.database.url)


@pytest.fixture
async def site(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Site]:
    """The server on SQLite, or on each database for a test marked both_stores."""
    async with served_site(make_config(tmp_path), store_kind=store_kind, request=request) as s:
        yield s


@pytest.fixture
async def boss(site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(site.url, "boss") as session:
        yield session


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (Debian's), closed before the server stops, or its sockets would hold
    the shutdown up."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def console_page(
    browser: Browser,
    url: str,
    username: str,
    lang: str = "ja",
    *,
    height: int = 800,
    init_script: str | None = None,
) -> Page:
    """A console signed in as `username` in a browser of its own, in `lang` (the locale and the
    console's stored choice), its live socket connected: the browser tests' starting point.
    `init_script` runs in the page before the console's own (e.g. stand-ins for browser APIs)."""
    context = await browser.new_context(
        locale={"ja": "ja-JP", "en": "en-US"}[lang], viewport={"width": 1200, "height": height}
    )
    await context.add_init_script(f"localStorage.setItem('tsunagu.lang', '{lang}');")
    if init_script is not None:
        await context.add_init_script(init_script)
    page = await context.new_page()
    await page.goto(f"{url}/console")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("user-name")).to_be_visible(timeout=10_000)
    await expect(page.get_by_test_id("console-status")).to_have_attribute(
        "data-state", "connected", timeout=10_000
    )
    return page


async def staff_page(
    browser: Browser, url: str, username: str, path: str, lang: str = "ja", *, width: int = 1280
) -> Page:
    """A staff page (`path`: "/board", "/audit", ...) signed in as `username` in a browser of its
    own: the page sends her to the console's sign-in, which brings her back to it."""
    context = await browser.new_context(
        locale={"ja": "ja-JP", "en": "en-US"}[lang], viewport={"width": width, "height": 900}
    )
    await context.add_init_script(f"localStorage.setItem('tsunagu.lang', '{lang}');")
    page = await context.new_page()
    await page.goto(f"{url}{path}")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    # 20 s: once in a full CI run on a loaded machine (load average 6 on 2 cores) the sign-in
    # and the way back took over 10 s; alone it takes about 1 s
    await page.wait_for_url(f"{url}{path}", timeout=20_000)
    # signed in (her name is in the top bar's menu on a phone, so not always visible)
    # (a locator, not wait_for_function: its polled script may be refused by the page's CSP)
    await expect(page.locator("#user-box")).not_to_have_attribute("hidden", "", timeout=10_000)
    return page
