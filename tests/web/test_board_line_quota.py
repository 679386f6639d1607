"""LINE's monthly quota on the supervisor's board (issue 16), through a real server and the LINE
stand-in (tests/line_fake.py): GET /api/board carries it, LINE is asked at most once every 5
minutes however often the board is read, LINE failing is "unavailable" on a board that still
answers, and without [line] the part is null."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from inbox.app import serve
from inbox.config import Config
from inbox.line_quota import TTL_S
from tests.line_fake import LineFake, line_fake
from tests.web.conftest import Server, add_staff, make_config, sign_in
from tests.web.test_supervision import call

QUOTA_PATH = "/v2/bot/message/quota"
CONSUMPTION_PATH = "/v2/bot/message/quota/consumption"


class Clock:
    """The server's clock, moved by the test (the watch's 5 minutes are read from it)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def line_config(tmp_path: Path, fake: LineFake, **line: Any) -> Config:
    return make_config(
        tmp_path,
        line={
            "enabled": True,
            "api_url": fake.url,
            "data_api_url": fake.url,
            "channel_secret": "test-channel-secret",
            "access_token": fake.token,
        }
        | line,
    )


@asynccontextmanager
async def running_at(cfg: Config, clock: Callable[[], datetime]) -> AsyncIterator[Server]:
    ids = await add_staff(cfg)
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(cfg, stop, on_ready=ready.set_result, clock=clock))
    try:
        url = await asyncio.wait_for(asyncio.shield(ready), 15)
        yield Server(url=url, cfg=cfg, ids=ids)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def quota_of(server: Server, session: aiohttp.ClientSession) -> Any:
    status, board = await call(session, "GET", f"{server.url}/api/board")
    assert status == 200, board
    return board["line_quota"]


def asks(fake: LineFake, path: str = QUOTA_PATH) -> int:
    return sum(1 for r in fake.requests if r.path == path)


async def test_the_board_carries_the_quota_and_asks_line_once_in_five_minutes(
    tmp_path: Path,
) -> None:
    clock = Clock()
    async with line_fake() as fake:
        fake.quota, fake.total_usage = 500, 420
        async with (
            running_at(line_config(tmp_path, fake), clock) as server,
            await sign_in(server.url, "boss") as boss,
        ):
            found = await quota_of(server, boss)
            assert found == {
                "state": "ok",
                "limit": 500,
                "used": 420,
                "remaining": 80,
                "percent": 84,
                "warn": True,  # 84% >= the default 80%
                "exhausted": False,
                "warn_percent": 80,
                "read_at": clock.now.isoformat(),
            }
            fake.total_usage = 500
            clock.now += timedelta(seconds=TTL_S - 1)
            assert await quota_of(server, boss) == found  # read again: LINE not asked
            assert (asks(fake), asks(fake, CONSUMPTION_PATH)) == (1, 1)
            clock.now += timedelta(seconds=1)
            later = await quota_of(server, boss)
            assert (asks(fake), asks(fake, CONSUMPTION_PATH)) == (2, 2)
            assert (later["used"], later["remaining"], later["percent"]) == (500, 0, 100)
            assert later["exhausted"] and later["read_at"] == clock.now.isoformat()
            async with await sign_in(server.url, "sato") as sato:  # the board's permission
                status, _ = await call(sato, "GET", f"{server.url}/api/board")
                assert status == 403
            assert asks(fake) == 2


async def test_no_limit_and_the_warning_share_from_the_config(tmp_path: Path) -> None:
    clock = Clock()
    async with line_fake() as fake:
        fake.quota, fake.total_usage = 1000, 850
        cfg = line_config(tmp_path, fake, quota_warn_percent=90)
        async with running_at(cfg, clock) as server, await sign_in(server.url, "boss") as boss:
            found = await quota_of(server, boss)
            assert (found["percent"], found["warn"], found["warn_percent"]) == (85, False, 90)
            fake.quota = None  # the account's plan has no monthly limit
            clock.now += timedelta(seconds=TTL_S)
            found = await quota_of(server, boss)
            assert (found["state"], found["limit"], found["used"]) == ("ok", None, 850)
            assert (found["remaining"], found["percent"], found["warn"]) == (None, None, False)


async def test_line_failing_is_unavailable_and_the_board_still_answers(tmp_path: Path) -> None:
    clock = Clock()
    async with line_fake() as fake:
        fake.quota, fake.total_usage = 500, 10
        fake.fail_next("/quota", 500)
        async with (
            running_at(line_config(tmp_path, fake), clock) as server,
            await sign_in(server.url, "boss") as boss,
        ):
            status, board = await call(boss, "GET", f"{server.url}/api/board")
            assert status == 200 and board["counselors"] is not None
            found = board["line_quota"]
            assert found["state"] == "unavailable" and found["read_at"] == clock.now.isoformat()
            assert [found[k] for k in ("limit", "used", "remaining", "percent")] == [None] * 4
            assert not found["warn"] and not found["exhausted"]
            failed = asks(fake)
            assert failed >= 1  # the SDK may retry a 500 within one ask; it answers 500 once
            clock.now += timedelta(seconds=60)
            assert (await quota_of(server, boss))["state"] == "unavailable"
            assert asks(fake) == failed  # a failure is kept too: LINE is not hammered
            clock.now += timedelta(seconds=TTL_S)
            assert (await quota_of(server, boss))["used"] == 10


async def test_without_line_the_board_has_no_quota(tmp_path: Path) -> None:
    async with (
        running_at(make_config(tmp_path), Clock()) as server,
        await sign_in(server.url, "boss") as boss,
    ):
        assert await quota_of(server, boss) is None
