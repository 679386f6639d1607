"""Tests that need an outside service (PostgreSQL, Dovecot, Chromium) skip when it is missing,
saying how to enable them; under TSUNAGU_TEST_STRICT=1 (CI) that skip is a failure instead, so
a broken install step cannot turn the suite green by skipping it."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

STRICT_VARIABLE = "TSUNAGU_TEST_STRICT"


def strict() -> bool:
    """TSUNAGU_TEST_STRICT=1 (CI) turns every 'service is not available' skip into a failure."""
    return os.environ.get(STRICT_VARIABLE) == "1"


def skip_or_fail(reason: str, how_to_enable: str) -> NoReturn:
    """Skip the test, or fail it under TSUNAGU_TEST_STRICT=1; `how_to_enable` ends the message."""
    message = f"{reason}; {how_to_enable}"
    if strict():
        pytest.fail(message)
    pytest.skip(message)
