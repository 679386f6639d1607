"""An admin takes a supervisor's role while her board is open (headless Chromium, ja and en):
her socket closes, the page reconnects, the board is refused her and the page says she may not
see it, instead of keeping a board she no longer may read. A screenshot in each language."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import Site, sign_in, staff_page
from tests.web.screens import LOCALES, assert_accessible
from tests.web.test_supervision import call

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("lang", sorted(LOCALES))]
DENIED = {"ja": "権限がありません", "en": "Your role does not open this page"}


async def test_a_supervisor_whose_role_is_taken_is_shown_the_board_no_more(
    site: Site, browser: Browser, lang: str
) -> None:
    page = await staff_page(browser, site.url, "boss", "/board", lang)
    await expect(page.get_by_test_id("board-status")).to_have_attribute(
        "data-state", "connected", timeout=10_000
    )
    async with await sign_in(site.url, "admin") as admin:
        status, _ = await call(
            admin, "PATCH", f"{site.url}/api/users/boss", {"roles": ["counselor"]}
        )
        assert status == 200
    denied = page.get_by_test_id("page-denied")
    await expect(denied).to_be_visible(timeout=15_000)
    await expect(denied).to_contain_text(DENIED[lang])
    await expect(page.get_by_test_id("board-waiting")).to_be_hidden()
    await assert_accessible(page, f"board-role-taken-{lang}")
