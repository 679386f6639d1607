"""A real server with [sms] on, its Twilio client aimed at the local stand-in (tests.twilio_fake),
on SQLite or PostgreSQL; and the SMS conversations the tests reply to."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from inbox.config import Config
from inbox.core.model import ChannelKind, ConversationId
from tests.factories import inbound
from tests.twilio_fake import TwilioFake, twilio_fake
from tests.web.conftest import Site, make_config, served_site
from tests.web.test_supervision import write_instant

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "tok-7c2e9b"  # a marker: never in a log
FROM = "+815012345678"
HER = "+819012345678"  # a consulter's number: never in a log or an error
T = TypeVar("T")


def free_port() -> int:
    """A port free now, for a server whose public_url must be known before it starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sms_config(tmp_path: Path, fake: TwilioFake, **sms: Any) -> Config:
    port = free_port()
    return make_config(
        tmp_path,
        # server.public_url is required with [sms]: here the URL it is served at, which is
        # where Twilio's status callbacks go and what their signatures cover.
        server={"port": port, "public_url": f"http://127.0.0.1:{port}"},
        sms={
            "enabled": True,
            "account_sid": SID,
            "auth_token": TOKEN,
            "from_number": FROM,
            "api_url": fake.url,
            **sms,
        },
        # retries come quickly, so that a test of one waits a moment, not two seconds
        outbox={"backoff_base_s": 0.05, "backoff_max_s": 0.2},
    )


@pytest.fixture(name="fake")
async def fake_twilio() -> AsyncIterator[TwilioFake]:
    """The Twilio stand-in (a test module takes it as `fake = outbound.fake_twilio`)."""
    async with twilio_fake() as f:
        yield f


@pytest.fixture(name="sms_site")
async def outbound_site(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, fake: TwilioFake
) -> AsyncIterator[Site]:
    """The server with [sms] on, aimed at `fake` (`sms_site = outbound.outbound_site`: it
    stands for tests/sms/conftest.py's webhook-only `sms_site` in that module)."""
    async with served_site(sms_config(tmp_path, fake), store_kind=store_kind, request=request) as s:
        yield s


async def sms_conversation(site: Site, number: str = HER, body: str = "相談したいです") -> int:
    """A consulter's text, stored as the webhook would store it; its conversation's id."""
    (stored,) = await site.store.save_inbound_batch(
        [inbound(number, channel=ChannelKind.SMS, body=body, received_at=datetime.now(UTC))]
    )
    return int(stored.conversation_id)


async def opt_out(site: Site, conversation_id: int) -> None:
    """She texted STOP: her identity's opted_out_at, written as the inbound side records it."""
    sql = (
        "UPDATE channel_identities SET opted_out_at = {} "
        "WHERE id = (SELECT identity_id FROM conversations WHERE id = {})"
    )
    await write_instant(site, sql, datetime.now(UTC), conversation_id)
    assert await site.store.recipient_opted_out(ConversationId(conversation_id))


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: object = None
) -> tuple[int, Any]:
    async with session.request(method, url, json=body) as r:
        return r.status, await r.json()


async def until(check: Callable[[], Awaitable[T | None]], *, timeout_s: float = 10.0) -> T:
    """Poll `check` until it returns something, within a deadline (not a timed wait)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found is not None:
            return found
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.02)
