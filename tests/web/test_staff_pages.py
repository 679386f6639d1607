"""The frame the staff pages share (lib/staff_page.js): sign-in through the console and back,
the nav each role gets, and a page a role does not open."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.web.conftest import PASSWORD, Server, console_page, staff_page
from tests.web.screens import assert_accessible

pytestmark = pytest.mark.browser


async def _nav_links(page: Page) -> list[str]:
    nav = page.get_by_test_id("staff-nav")
    if not await nav.is_visible():
        return []
    links = nav.locator("a")
    return [str(await links.nth(i).get_attribute("href")) for i in range(await links.count())]


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_a_supervisor_signs_in_for_the_board_and_comes_back_to_it(
    server: Server, browser: Browser, lang: str
) -> None:
    page = await staff_page(browser, server.url, "boss", "/board", lang)
    await expect(page.get_by_test_id("board")).to_be_visible()
    assert await _nav_links(page) == [
        "/console",
        "/phone",
        "/board",
        "/audit",
        "/report",
        "/agencies",
        "/activities",
    ]
    current = page.get_by_test_id("staff-nav").locator("[aria-current=page]")
    await expect(current).to_have_attribute("href", "/board")
    await expect(page.get_by_test_id("page-denied")).to_be_hidden()
    await assert_accessible(page, f"staff-frame-board-{lang}")


async def test_a_role_is_told_a_page_is_not_hers(server: Server, browser: Browser) -> None:
    # Asked to sign in for the board, she stays in her console; the board itself says no.
    page = await console_page(browser, server.url, "sato", "en")
    assert page.url == f"{server.url}/console"
    await page.goto(f"{server.url}/board")
    await expect(page.get_by_test_id("page-denied")).to_contain_text("Your role does not open")
    await expect(page.get_by_test_id("board")).to_be_hidden()
    await assert_accessible(page, "staff-frame-denied-en")  # the refusal is the page's main
    assert await _nav_links(page) == ["/console", "/activities"]  # casework: activities too
    # the accounts page is for admins only: not even a supervisor opens it
    boss = await console_page(browser, server.url, "boss", "en")
    await boss.goto(f"{server.url}/accounts")
    await expect(boss.get_by_test_id("page-denied")).to_be_visible()
    await expect(boss.get_by_test_id("accounts")).to_be_hidden()


async def test_the_console_shows_the_nav_and_sends_an_admin_to_her_pages(
    server: Server, browser: Browser
) -> None:
    page = await console_page(browser, server.url, "boss", "en")
    assert await _nav_links(page) == [
        "/console",
        "/phone",
        "/board",
        "/audit",
        "/report",
        "/agencies",
        "/activities",
    ]
    await page.get_by_test_id("staff-nav").get_by_role("link", name="Board").click()
    await expect(page.get_by_test_id("board")).to_be_visible()
    # The console is not an admin's page: signing in there takes her to the first page she has.
    context = await browser.new_context(locale="en-US")
    admin = await context.new_page()
    await admin.goto(f"{server.url}/console?next=https://evil.example/")
    await admin.get_by_test_id("login-username").fill("admin")
    await admin.get_by_test_id("login-password").fill(PASSWORD)
    await admin.get_by_test_id("login-submit").click()
    await admin.wait_for_url(f"{server.url}/audit")
    assert await _nav_links(admin) == ["/audit", "/report", "/agencies", "/accounts"]


async def test_on_a_phone_the_top_bar_folds_into_a_menu(server: Server, browser: Browser) -> None:
    page = await staff_page(browser, server.url, "boss", "/board", "ja", width=390)
    toggle = page.get_by_test_id("topbar-menu-toggle")
    await expect(page.get_by_test_id("signout")).to_be_hidden()
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(page.get_by_test_id("signout")).to_be_visible()
    # the language button stays on the first line, beside the menu; the tools, then the nav
    boxes = {}
    for testid in ("topbar-menu-toggle", "lang-toggle", "signout", "staff-nav"):
        box = await page.get_by_test_id(testid).bounding_box()
        assert box is not None, testid
        boxes[testid] = box
    assert abs(boxes["lang-toggle"]["y"] - boxes["topbar-menu-toggle"]["y"]) < 8
    assert boxes["lang-toggle"]["y"] < boxes["signout"]["y"] < boxes["staff-nav"]["y"]
    # on the board, what may move comes right after the counselors
    at = {}
    for region in ("board-counselors", "board-conversations", "board-queue"):
        box = await page.locator(f"#{region}").bounding_box()
        assert box is not None, region
        at[region] = box["y"]
    assert at["board-counselors"] < at["board-conversations"] < at["board-queue"]
    await assert_accessible(page, "staff-frame-menu-ja-phone")
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("signout")).to_be_hidden()
    await expect(toggle).to_be_focused()
