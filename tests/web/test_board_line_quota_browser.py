"""LINE's monthly quota on the board page (board/line_quota.js), in Japanese and English, on a
laptop and a 390 px phone: the figure, the warning said in words, the limit reached, no limit,
and LINE unavailable; and the friends added and lost today and this month (follows and
unfollows); each screen kept as a screenshot and checked by axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from inbox.core.line import Follow
from inbox.core.windows import day_start
from inbox.line_quota import TTL_S
from routing.hours import TOKYO
from tests.line_fake import line_fake
from tests.web.conftest import Server, make_config, staff_page
from tests.web.screens import assert_accessible
from tests.web.test_board_line_friends import keep
from tests.web.test_board_line_quota import line_config, running_at

pytestmark = pytest.mark.browser

WORDS = {
    "ja": {
        "heading": "LINE 送信数（今月）",
        "figure": "420 / 500（84%）",
        "badge": "注意",
        "warn": "残りわずかです: あと 80 通（80% に達しました）",
        "exhausted": "上限に達しました",
        "unlimited": "無制限",
        "unavailable": "取得できません",
        "friends": "友だち 今日 +{} / −{}・今月 +{} / −{}",
    },
    "en": {
        "heading": "LINE messages this month",
        "figure": "420 / 500 (84%)",
        "badge": "Warning",
        "warn": "Running low: 80 left (80% reached)",
        "exhausted": "Monthly limit reached",
        "unlimited": "No limit",
        "unavailable": "Unavailable",
        "friends": "Friends today +{} / −{} · this month +{} / −{}",
    },
}


class Clock:
    """The server's clock: real time, moved on by the test past the watch's 5 minutes."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


async def board_page(server: Server, browser: Browser, lang: str, *, width: int = 1280) -> Page:
    page = await staff_page(browser, server.url, "boss", "/board", lang, width=width)
    await expect(page.get_by_test_id("board-status")).to_have_attribute(
        "data-state", "connected", timeout=10_000
    )
    return page


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_the_board_warns_in_words_when_line_runs_low(
    tmp_path: Path, browser: Browser, lang: str
) -> None:
    words = WORDS[lang]
    async with line_fake() as fake:
        fake.quota, fake.total_usage = 500, 420
        async with running_at(line_config(tmp_path, fake), Clock()) as server:
            now = datetime.now(UTC)
            first = day_start(now.astimezone(TOKYO).date().replace(day=1), TOKYO)
            earlier = [(Follow.FOLLOW, first, "h5"), (Follow.UNFOLLOW, first, "h6")] * 6
            await keep(
                server.cfg,
                *[(Follow.FOLLOW, now - timedelta(minutes=1), f"h{i}") for i in range(3)],
                (Follow.UNFOLLOW, now - timedelta(minutes=1), "h4"),
                *earlier,  # the 1st, midnight in Tokyo: this month's (today's too on the 1st)
            )
            on_the_first = now.astimezone(TOKYO).day == 1
            today = (9, 7) if on_the_first else (3, 1)
            friends = words["friends"].format(*today, 9, 7)
            for width, name in (
                (1280, f"board-line-quota-{lang}"),
                (390, f"board-line-quota-phone-{lang}"),
            ):
                page = await board_page(server, browser, lang, width=width)
                tile = page.get_by_test_id("board-line-quota")
                await expect(tile).to_be_visible()
                await expect(tile).to_have_attribute("data-state", "warn")
                await expect(tile.get_by_role("heading")).to_have_text(words["heading"])
                await expect(page.get_by_test_id("board-line-quota-figure")).to_have_text(
                    words["figure"]
                )
                await expect(tile).to_contain_text(words["badge"])  # the warning is words too
                await expect(page.get_by_test_id("board-line-quota-note")).to_have_text(
                    words["warn"]
                )
                await expect(page.get_by_test_id("board-line-friends")).to_have_text(friends)
                box = await tile.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
                await assert_accessible(page, name)
                await page.context.close()
            requests = [r for r in fake.requests if r.path == "/v2/bot/message/quota"]
            assert len(requests) == 1  # two pages, many boards: LINE asked once


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_the_tile_says_limit_reached_no_limit_and_unavailable(
    tmp_path: Path, browser: Browser, lang: str
) -> None:
    words, clock = WORDS[lang], Clock()
    async with line_fake() as fake:
        fake.quota, fake.total_usage = 500, 500
        async with running_at(line_config(tmp_path, fake), clock) as server:
            page = await board_page(server, browser, lang)
            tile = page.get_by_test_id("board-line-quota")
            note = page.get_by_test_id("board-line-quota-note")
            await expect(tile).to_have_attribute("data-state", "exhausted")
            await expect(page.get_by_test_id("board-line-quota-figure")).to_have_text(
                words["figure"].replace("420", "500").replace("84", "100")
            )
            await expect(note).to_have_text(words["exhausted"])
            await assert_accessible(page, f"board-line-quota-exhausted-{lang}")

            fake.quota = None
            clock.ahead += timedelta(seconds=TTL_S)
            await page.reload()
            await expect(tile).to_have_attribute("data-state", "unlimited", timeout=10_000)
            await expect(note).to_have_text(words["unlimited"])

            fake.fail_next("/quota", 500)
            clock.ahead += timedelta(seconds=TTL_S)
            await page.reload()
            await expect(tile).to_have_attribute("data-state", "unavailable", timeout=10_000)
            await expect(page.get_by_test_id("board-line-quota-figure")).to_have_text(
                words["unavailable"]
            )
            await assert_accessible(page, f"board-line-quota-unavailable-{lang}")


async def test_without_line_the_tile_stays_hidden(tmp_path: Path, browser: Browser) -> None:
    async with running_at(make_config(tmp_path), Clock()) as server:
        page = await board_page(server, browser, "en")
        await expect(page.get_by_test_id("board-queue")).to_be_visible()
        await expect(page.get_by_test_id("board-line-quota")).to_be_hidden()
        await expect(page.get_by_test_id("board-line-friends")).to_have_count(0)
