"""Through the real server and the LINE stand-in: a location kept as text where [line] allows
it (location = "text"), and the waiting-line message sent with her reply token, free of the
monthly quota, when no counselor can take her conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.line.conftest import USER, body, line_config, line_messages, message, post
from tests.line_fake import LineFake
from tests.sms.outbound import until
from tests.web.conftest import served_site, sign_in


@pytest.mark.both_stores
async def test_a_location_is_kept_as_text_where_the_program_allows_it(
    tmp_path: Path, fake: LineFake, store_kind: str, request: pytest.FixtureRequest
) -> None:
    cfg = line_config(tmp_path, fake, location="text")
    place = message(
        "location",
        title="東京タワー",
        address="東京都港区芝公園4-2-8",
        latitude=35.658581,
        longitude=139.745433,
    )
    async with served_site(cfg, store_kind=store_kind, request=request) as site:
        status, _ = await post(site, body(place))
        assert status == 200
        (stored,) = await line_messages(site)
    assert stored.body == "[位置情報] 東京タワー 東京都港区芝公園4-2-8 (35.658581, 139.745433)"


async def _delivered(fake: LineFake) -> bool | None:
    return True if fake.delivered else None


@pytest.mark.both_stores
async def test_the_waiting_line_message_uses_her_reply_token(
    tmp_path: Path, fake: LineFake, store_kind: str, request: pytest.FixtureRequest
) -> None:
    cfg = line_config(tmp_path, fake)
    async with served_site(cfg, store_kind=store_kind, request=request) as site:
        # open hours (the default), and both counselors away: her conversation waits in line
        async with await sign_in(site.url, "boss") as boss:
            for name in ("sato", "suzuki"):
                url = f"{site.url}/api/counselors/{site.id(name)}"
                async with boss.patch(url, json={"presence": "away"}) as r:
                    assert r.status == 200
        token = fake.issue_reply_token(to=USER)
        status, _ = await post(site, body(message(text="相談したいです", reply_token=token)))
        assert status == 200
        await until(lambda: _delivered(fake))
        (stored,) = await line_messages(site)
        assert stored.body == "相談したいです"
    ((to, texts, via),) = fake.delivered
    assert (to, via) == (USER, "reply")  # her token, not a push
    assert "あなたの順番は1番目" in texts[0] and "number 1 in line" in texts[0]
    assert fake.total_usage == 0  # nothing counted against the month's quota
