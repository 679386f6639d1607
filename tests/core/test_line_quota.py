"""LINE's monthly quota on the board (issue 16), without I/O: where this month's pushes stand
against the limit (percent, warn, exhausted), and the watch that asks LINE at most once every
5 minutes, keeps a failure as "unavailable" and never lets it fail the board."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from inbox.core.board import quota_standing
from inbox.core.errors import ChannelError
from inbox.core.model import ChannelKind
from inbox.line_quota import TTL_S, LineQuotaWatch
from tests.factories import T0


@pytest.mark.parametrize(
    ("limit", "used", "percent", "remaining", "warn", "exhausted"),
    [
        (500, 0, 0, 500, False, False),
        (500, 399, 79, 101, False, False),  # 79.8%: rounded down, not yet the 80% warning
        (500, 400, 80, 100, True, False),  # exactly 80%: warns
        (500, 420, 84, 80, True, False),
        (500, 499, 99, 1, True, False),  # 99.8% is not shown as 100%
        (500, 500, 100, 0, True, True),
        (500, 530, 106, 0, True, True),  # over (counted late by LINE): nothing remains
        (0, 0, 100, 0, True, True),  # an account that may push nothing
    ],
)
def test_the_standing_says_percent_warn_and_exhausted(
    limit: int, used: int, percent: int, remaining: int, warn: bool, exhausted: bool
) -> None:
    found = quota_standing(limit, used, 80)
    assert (found.limit, found.used) == (limit, used)
    assert (found.percent, found.remaining, found.warn, found.exhausted) == (
        percent,
        remaining,
        warn,
        exhausted,
    )


def test_the_warning_follows_the_configured_share_and_no_limit_never_warns() -> None:
    assert not quota_standing(1000, 899, 90).warn
    assert quota_standing(1000, 900, 90).warn
    assert quota_standing(3, 1, 34).warn is False and quota_standing(3, 2, 34).warn  # 66.7%
    assert quota_standing(200, 200, 100).warn  # 100%: warns only when exhausted
    unlimited = quota_standing(None, 12_345, 80)
    assert (unlimited.limit, unlimited.remaining, unlimited.percent) == (None, None, None)
    assert not unlimited.warn and not unlimited.exhausted and unlimited.used == 12_345


@dataclass
class Line:
    """LINE's answers, counted: `fail` makes the next asks raise as LineChannel.quota does."""

    limit: int | None = 500
    used: int = 420
    asks: int = 0
    fail: BaseException | None = None
    delay_s: float = 0.0

    async def __call__(self) -> Line:
        self.asks += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail is not None:
            raise self.fail
        return self


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def test_line_is_asked_once_per_five_minutes_and_the_reading_says_when() -> None:
    line, clock = Line(), Clock()
    watch = LineQuotaWatch(line, clock=clock, warn_percent=80)
    first = await watch.read()
    assert first.standing is not None and first.standing.percent == 84 and first.standing.warn
    assert (first.read_at, first.warn_percent, line.asks) == (T0, 80, 1)
    line.used = 500
    clock.now = T0 + timedelta(seconds=TTL_S - 1)
    assert await watch.read() is first and line.asks == 1  # the board pushed often: kept
    clock.now = T0 + timedelta(seconds=TTL_S)
    again = await watch.read()
    assert line.asks == 2 and again.read_at == clock.now
    assert again.standing is not None and again.standing.exhausted
    clock.now -= timedelta(hours=1)  # a clock set back asks no more than one moving forward
    assert await watch.read() is again and line.asks == 2


async def test_boards_built_together_ask_line_once() -> None:
    line = Line(delay_s=0.05)
    watch = LineQuotaWatch(line, clock=Clock(), warn_percent=80)
    readings = await asyncio.gather(*(watch.read() for _ in range(5)))
    assert line.asks == 1 and all(r is readings[0] for r in readings)


@pytest.mark.parametrize(
    "failure",
    [
        ChannelError(
            "line unreachable: ClientConnectorError", channel=ChannelKind.LINE, retryable=True
        ),
        ValueError("an answer the SDK cannot read"),
    ],
)
async def test_a_failure_is_unavailable_kept_like_an_answer_then_asked_again(
    failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    line, clock = Line(fail=failure), Clock()
    watch = LineQuotaWatch(line, clock=clock, warn_percent=80)
    failed = await watch.read()
    assert failed.standing is None and failed.read_at == T0
    assert str(failure) not in caplog.text  # the kind is logged, not what LINE said
    line.fail = None
    clock.now = T0 + timedelta(seconds=60)
    assert (await watch.read()).standing is None and line.asks == 1  # LINE is not hammered
    clock.now = T0 + timedelta(seconds=TTL_S)
    found = (await watch.read()).standing
    assert found is not None and found.used == 420 and line.asks == 2


async def test_a_line_that_does_not_answer_is_unavailable_after_the_timeout() -> None:
    line = Line(delay_s=5.0)
    watch = LineQuotaWatch(line, clock=Clock(), warn_percent=80, timeout_s=0.05)
    found = await asyncio.wait_for(watch.read(), 2)
    assert found.standing is None and line.asks == 1
