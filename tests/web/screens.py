"""What every screen test does besides clicking: keep a screenshot and check accessibility.

Screenshots go to $TSUNAGU_SCREENSHOTS, else to build/screenshots in the checkout, so that a
person (or a reviewer) can look at every screen the suite saw, in both languages. The checks
are axe-core's (shipped inside the axe-playwright-python wheel, so nothing is downloaded while
the tests run), injected into the page by Playwright, which is not subject to the page's CSP.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

from tests import skips

ROOT = Path(__file__).resolve().parents[2]
LOCALES = {"ja": "ja-JP", "en": "en-US"}
_axe = Axe()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """Debian's chromium; skipped (failed under TSUNAGU_TEST_STRICT=1) when it is missing."""
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return skips.skip_or_fail(
        "headless Chromium is not installed", "apt-get install chromium fonts-ipafont-gothic"
    )


def screenshot_dir() -> Path:
    directory = Path(os.environ.get("TSUNAGU_SCREENSHOTS") or ROOT / "build" / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


async def shot(page: Page, name: str) -> Path:
    """Save the whole page as build/screenshots/<name>.png; return the path."""
    path = screenshot_dir() / f"{re.sub(r'[^A-Za-z0-9_.-]', '-', name)}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(node.get("target", [])) for node in v.get("nodes", [])][:5]
        lines.append(f"{v['id']} ({v.get('impact')}): {v.get('help')} at {targets}")
    return "\n".join(lines)


async def assert_accessible(page: Page, name: str) -> None:
    """Save a screenshot, then fail on any axe-core violation (WCAG 2.x A and AA rules and
    axe's best practices), naming each rule and where it failed."""
    await shot(page, name)
    results = await _axe.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    assert not violations, f"{name}: accessibility violations:\n{_describe(violations)}"
