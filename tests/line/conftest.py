"""A real server with [line] on, its LINE client aimed at the local stand-in (tests.line_fake),
on SQLite or PostgreSQL; LINE's webhook bodies, signed with the real algorithm over the exact
bytes sent."""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
import pytest

from channels.line_signature import SIGNATURE_HEADER, line_signature
from inbox.config import Config
from inbox.core.model import ChannelKind, ConversationId, Direction, Event, Message
from inbox.identity import identity_hash, load_identity_key
from tests.line_fake import LineFake, line_fake
from tests.web import conftest as web_conftest
from tests.web.conftest import Site, make_config, served_site

captured_logs = web_conftest.captured_logs  # the server's JSON log lines

SECRET = "line-secret-5d1e9a"  # a marker: never in a log
USER = "U4af4980629" + "0123456789abcdef0123456789a"[:22]  # her LINE id: never logged or shown
OTHER = "U" + "fedcba9876543210" * 2
LINE = ChannelKind.LINE
_ids = itertools.count(int(time.time() * 1000) % 10**9 * 1000)


def line_config(tmp_path: Path, fake: LineFake, **line: Any) -> Config:
    return make_config(
        tmp_path,
        line={
            "enabled": True,
            "channel_secret": SECRET,
            "access_token": fake.token,
            "api_url": fake.url,
            "data_api_url": fake.url,
            **line,
        },
        # retries come quickly, so that a test of one waits a moment, not two seconds
        outbox={"backoff_base_s": 0.05, "backoff_max_s": 0.2},
    )


@pytest.fixture
async def fake() -> AsyncIterator[LineFake]:
    async with line_fake() as f:
        yield f


@pytest.fixture
async def line_site(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, fake: LineFake
) -> AsyncIterator[Site]:
    async with served_site(
        line_config(tmp_path, fake), store_kind=store_kind, request=request
    ) as s:
        yield s


def now_ms() -> int:
    return int(time.time() * 1000)


def event(
    kind: str, *, user: str = USER, reply_token: str | None = None, **extra: Any
) -> dict[str, Any]:
    n = next(_ids)
    found: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": now_ms(),
        "source": {"type": "user", "userId": user},
        "webhookEventId": f"01HEVENT{n:018d}",
        "deliveryContext": {"isRedelivery": False},
        **extra,
    }
    if reply_token is not None:
        found["replyToken"] = reply_token
    return found


def message(
    kind: str = "text", *, user: str = USER, reply_token: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A message event; `fields` go into its message object (text=..., fileName=...)."""
    return event(
        "message",
        user=user,
        reply_token=reply_token,
        message={"type": kind, "id": str(next(_ids)), "quoteToken": "q", **fields},
    )


def redelivered(found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "deliveryContext": {"isRedelivery": True}}


def body(*events: dict[str, Any]) -> bytes:
    """The webhook body as LINE sends it: raw UTF-8, not ASCII escapes."""
    doc = {"destination": "Udeadbeefdeadbeefdeadbeefdeadbeef", "events": list(events)}
    return json.dumps(doc, ensure_ascii=False).encode()


async def post(
    site: Site, raw: bytes, *, signature: str | None = None, secret: str = SECRET
) -> tuple[int, Any]:
    """POST the body as LINE would, signed unless `signature` says otherwise ("" for none)."""
    sig = line_signature(secret, raw) if signature is None else signature
    headers = {"Content-Type": "application/json"}
    if sig:
        headers[SIGNATURE_HEADER] = sig
    path = site.server.cfg.line.webhook_path
    async with (
        aiohttp.ClientSession() as http,
        http.post(site.url + path, data=raw, headers=headers) as r,
    ):
        text = await r.text()
        return r.status, (json.loads(text) if r.content_type == "application/json" else text)


def identity(site: Site, user: str = USER) -> str:
    """The keyed hash the server matches a LINE user by."""
    security = site.server.cfg.security
    key = load_identity_key(
        security.identity_key, site.server.cfg.data.dir, env_name=security.identity_key_env
    )
    return identity_hash(key, LINE, user)


async def line_messages(site: Site) -> list[Message]:
    """Every message she sent on LINE that is stored, oldest first (automatic replies aside)."""
    found: list[Message] = []
    for e in await site.store.list_events():
        if e.kind == "conversation_opened" and e.conversation_id is not None:
            conv = await site.store.get_conversation(ConversationId(e.conversation_id))
            if conv.channel is LINE:
                found += [
                    m
                    for m in await site.store.list_messages(conv.id)
                    if m.direction is Direction.INBOUND
                ]
    return found


async def events_of(site: Site, *kinds: str) -> list[Event]:
    return [e for e in await site.store.list_events() if e.kind in kinds]


def logged(logs: io.StringIO) -> str:
    return logs.getvalue()


async def read_value(site: Site, sql: str) -> object:
    """One value read straight from the server's SQLite database (what no API shows)."""
    path = site.server.cfg.database.sqlite_path
    assert path is not None, "a SQLite site"
    async with aiosqlite.connect(path) as conn, conn.execute(sql) as cursor:
        row = await cursor.fetchone()
        return None if row is None else row[0]
