"""LINE friends added and lost on the supervisor's board (issue 16), through a real server:
GET /api/board carries today's and this month's follows and unfollows by the Asia/Tokyo day
(an event at 15:30 UTC the day before is today in Tokyo), counted again after 5 minutes, and
null without [line]."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from inbox.app import build_store
from inbox.config import Config
from inbox.core.line import ChannelEvent, Follow
from inbox.core.model import ChannelKind
from inbox.core.windows import day_start
from inbox.line_quota import TTL_S
from routing.hours import TOKYO
from tests.line_fake import line_fake
from tests.web.conftest import Server, make_config, sign_in
from tests.web.test_board_line_quota import Clock, line_config, running_at
from tests.web.test_supervision import call

_ids = itertools.count(1)


def noon_in_tokyo() -> datetime:
    """Noon of today in Tokyo (the 2nd when today is the 1st, so that yesterday is this month)."""
    today = datetime.now(TOKYO).date()
    return day_start(today.replace(day=max(today.day, 2)), TOKYO) + timedelta(hours=12)


async def keep(cfg: Config, *events: tuple[Follow, datetime, str]) -> None:
    async with build_store(cfg.database) as store:
        found = [
            ChannelEvent(event_id=f"friends-{next(_ids)}", kind=kind, at=at, identity_hash=who)
            for kind, at, who in events
        ]
        assert await store.keep_channel_events(ChannelKind.LINE, found) == [True] * len(found)


async def friends_of(server: Server, session: Any) -> Any:
    status, board = await call(session, "GET", f"{server.url}/api/board")
    assert status == 200, board
    return board["line_friends"]


async def test_the_board_counts_friends_by_the_tokyo_day_and_month(tmp_path: Path) -> None:
    clock = Clock()
    clock.now = noon_in_tokyo()
    midnight = day_start(clock.now, TOKYO)  # 15:00 UTC the day before
    first = day_start(clock.now.astimezone(TOKYO).date().replace(day=1), TOKYO)
    async with line_fake() as fake:
        cfg = line_config(tmp_path, fake)
        async with running_at(cfg, clock) as server, await sign_in(server.url, "boss") as boss:
            await keep(
                cfg,
                # 15:30 UTC yesterday: 00:30 today in Tokyo
                (Follow.FOLLOW, midnight + timedelta(minutes=30), "h1"),
                (Follow.FOLLOW, clock.now - timedelta(hours=1), "h2"),
                (Follow.UNFOLLOW, clock.now - timedelta(minutes=5), "h3"),
                # 14:30 UTC yesterday: still yesterday in Tokyo, this month only
                (Follow.FOLLOW, midnight - timedelta(minutes=30), "h4"),
                (Follow.UNFOLLOW, midnight - timedelta(hours=3), "h5"),
                (Follow.FOLLOW, first, "h6"),
                (Follow.FOLLOW, first - timedelta(seconds=1), "h7"),  # last month's
                (Follow.POSTBACK, clock.now - timedelta(minutes=1), "h8"),  # neither
            )
            found = await friends_of(server, boss)
            assert found == {
                "today": {"added": 2, "lost": 1},
                "month": {"added": 4, "lost": 2},
                "read_at": clock.now.isoformat(),
            }

            await keep(cfg, (Follow.UNFOLLOW, clock.now, "h1"))
            clock.now += timedelta(seconds=TTL_S - 1)
            assert await friends_of(server, boss) == found  # kept: not counted per board
            clock.now += timedelta(seconds=1)
            later = await friends_of(server, boss)
            assert later["today"] == {"added": 2, "lost": 2}
            assert later["month"] == {"added": 4, "lost": 3}
            assert later["read_at"] == clock.now.isoformat()


async def test_a_new_day_counts_again_at_once(tmp_path: Path) -> None:
    clock = Clock()
    clock.now = noon_in_tokyo() + timedelta(hours=11, minutes=59)  # 23:59 in Tokyo
    async with line_fake() as fake:
        cfg = line_config(tmp_path, fake)
        async with running_at(cfg, clock) as server, await sign_in(server.url, "boss") as boss:
            await keep(cfg, (Follow.FOLLOW, clock.now - timedelta(hours=1), "h1"))
            assert (await friends_of(server, boss))["today"] == {"added": 1, "lost": 0}
            # two minutes on, within the 5 minutes the count is kept, but past Tokyo's
            # midnight: a new day, whose count starts at nothing
            clock.now += timedelta(minutes=2)
            found = await friends_of(server, boss)
            assert found["today"] == {"added": 0, "lost": 0}
            assert found["read_at"] == clock.now.isoformat()


async def test_without_line_the_board_has_no_friends(tmp_path: Path) -> None:
    async with (
        running_at(make_config(tmp_path), Clock()) as server,
        await sign_in(server.url, "boss") as boss,
    ):
        assert await friends_of(server, boss) is None
