"""The accounts page (admins) and setting her own password at sign-in, in a real browser, ja and
en: an admin creates a counselor, who sets her own password at her first sign-in and reaches the
queue; a reset shows a temporary password once and asks for a new one again; a disabled account
cannot sign in. (That the page is for admins only: tests/web/test_staff_pages.py.)"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from tests.web.conftest import Server, staff_page
from tests.web.screens import assert_accessible

pytestmark = pytest.mark.browser

FIRST = "tanaka-first-pass"
OWN = "tanaka-own-secret"
OWN_AGAIN = "tanaka-second-secret"
SLOW_MS = 15_000  # what waits on argon2 (a sign-in, a new hash) on a loaded machine


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


async def _sign_in(browser: Browser, url: str, username: str, password: str, lang: str) -> Page:
    context = await browser.new_context(
        locale={"ja": "ja-JP", "en": "en-US"}[lang], viewport={"width": 1200, "height": 800}
    )
    await context.add_init_script(f"localStorage.setItem('tsunagu.lang', '{lang}');")
    page = await context.new_page()
    await page.goto(f"{url}/console")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    return page


async def _set_own_password(page: Page, password: str, lang: str, shot: str | None) -> None:
    form = page.get_by_test_id("password-form")
    await expect(form).to_be_visible(timeout=SLOW_MS)
    await expect(page.get_by_test_id("queue")).to_be_hidden()
    # the repeat differs: the form says which field, and nothing is sent
    await page.get_by_test_id("password-new").fill(password)
    await page.get_by_test_id("password-repeat").fill(password + "x")
    await page.get_by_test_id("password-submit").click()
    error = page.get_by_test_id("password-error")
    await expect(error).to_contain_text("確認" if lang == "ja" else "again")
    if shot:
        await assert_accessible(page, shot)
    await page.get_by_test_id("password-repeat").fill(password)
    await page.get_by_test_id("password-submit").click()
    await expect(page.get_by_test_id("console-status")).to_have_attribute(
        "data-state", "connected", timeout=SLOW_MS
    )
    await expect(page.get_by_test_id("queue")).to_be_visible()


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_an_admin_creates_a_counselor_who_sets_her_own_password(
    server: Server, browser: Browser, lang: str
) -> None:
    admin = await staff_page(browser, server.url, "admin", "/accounts", lang)
    admin.on("dialog", _accept)
    await expect(admin.get_by_test_id("account-sato")).to_be_visible()
    # the form names the field it misses, before anything is sent
    await admin.get_by_test_id("create-username").fill("tanaka")
    await admin.get_by_test_id("create-submit").click()
    await expect(admin.get_by_test_id("create-error")).to_contain_text(
        "役割" if lang == "ja" else "roles"
    )
    await admin.get_by_test_id("create-display-name").fill("田中 さくら")
    await admin.get_by_test_id("create-role-counselor").check()
    await admin.get_by_test_id("create-password").fill("short")
    await admin.get_by_test_id("create-submit").click()
    await expect(admin.get_by_test_id("create-error")).to_contain_text(
        "初期パスワード" if lang == "ja" else "initial password"
    )
    await admin.get_by_test_id("create-password").fill(FIRST)
    await admin.get_by_test_id("create-submit").click()
    row = admin.get_by_test_id("account-tanaka")
    await expect(row).to_contain_text("田中 さくら", timeout=SLOW_MS)
    await expect(row).to_contain_text("パスワード設定待ち" if lang == "ja" else "Must set")
    await assert_accessible(admin, f"accounts-created-{lang}")

    tanaka = await _sign_in(browser, server.url, "tanaka", FIRST, lang)
    await _set_own_password(tanaka, OWN, lang, f"accounts-set-password-{lang}")
    await expect(tanaka.get_by_test_id("user-name")).to_contain_text("田中 さくら")

    # the admin resets her password: her console ends, and the temporary one is shown once
    await admin.reload()
    await row.get_by_test_id("account-reset").click()
    temporary = admin.get_by_test_id("temporary-password")
    await expect(temporary).to_be_visible(timeout=SLOW_MS)
    await assert_accessible(admin, f"accounts-reset-{lang}")
    await expect(tanaka.get_by_test_id("login-username")).to_be_visible(timeout=10_000)
    given = await temporary.inner_text()
    tanaka = await _sign_in(browser, server.url, "tanaka", given, lang)
    await expect(tanaka.get_by_test_id("password-form")).to_be_visible(timeout=SLOW_MS)
    # she may leave without setting it (and must set it whenever she comes back)
    await tanaka.get_by_test_id("password-signout").click()
    await expect(tanaka.get_by_test_id("password-form")).to_be_hidden()
    await tanaka.get_by_test_id("login-username").fill("tanaka")
    await tanaka.get_by_test_id("login-password").fill(given)
    await tanaka.get_by_test_id("login-submit").click()
    await _set_own_password(tanaka, OWN_AGAIN, lang, None)

    # roles and the display name, in the dialog
    await row.get_by_test_id("account-edit").click()
    dialog = admin.get_by_test_id("edit-dialog")
    await dialog.get_by_test_id("edit-display-name").fill("田中 桜")
    await dialog.get_by_test_id("edit-role-supervisor").check()
    await assert_accessible(admin, f"accounts-edit-{lang}")
    await admin.evaluate(
        "() => { window.__row = document.querySelector('[data-testid=account-admin]'); }"
    )
    await dialog.get_by_test_id("edit-save").click()
    await expect(dialog).to_be_hidden()
    await expect(row).to_contain_text("田中 桜")
    # the rows are drawn in place: another row is the same element, her Edit button has focus
    kept = "() => window.__row === document.querySelector('[data-testid=account-admin]')"
    assert await admin.evaluate(kept)
    await expect(row.get_by_test_id("account-edit")).to_be_focused()
    edit_name = {"ja": "編集：tanaka", "en": "Edit tanaka"}[lang]
    await expect(row.get_by_test_id("account-edit")).to_have_attribute("aria-label", edit_name)
    await expect(row).to_contain_text("スーパーバイザー" if lang == "ja" else "Supervisor")

    # disabled, she cannot sign in; enabled again, she can
    await row.get_by_test_id("account-disable").click()
    await expect(row).to_contain_text("無効" if lang == "ja" else "Disabled")
    await expect(row.get_by_test_id("account-enable")).to_be_focused()  # not lost to the page
    refused = await _sign_in(browser, server.url, "tanaka", OWN_AGAIN, lang)
    await expect(refused.get_by_test_id("login-error")).to_be_visible(timeout=SLOW_MS)
    await row.get_by_test_id("account-enable").click()
    await expect(row.get_by_test_id("account-disable")).to_be_visible()
    await expect(row.get_by_test_id("account-disable")).to_be_focused()
    # the admin's own row offers no disable (the server refuses it anyway: own_account)
    own = admin.get_by_test_id("account-admin")
    await expect(own.get_by_test_id("account-edit")).to_be_visible()
    await expect(own.get_by_test_id("account-disable")).to_have_count(0)
