"""The satisfaction survey on LINE, against the local stand-in: closing her conversation pushes
the question with a quick reply of four postbacks whose data hides the conversation (a signed
token); her postback is counted once, a redelivery or a second tap counts nothing, a forged
token nothing; neither the token nor her answer reaches the logs or her counselor's events."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any

from tests.line.conftest import (
    body,
    captured_logs,
    event,
    events_of,
    logged,
    message,
    post,
    redelivered,
)
from tests.line_fake import LineFake
from tests.web.conftest import Site, sign_in

__all__ = ["captured_logs"]


async def _asked(fake: LineFake) -> dict[str, Any]:
    """The text message that carried the quick reply, once the outbox sent it."""
    for _ in range(200):
        for seen in fake.requests:
            messages = (seen.json or {}).get("messages") or []
            if messages and "quickReply" in messages[-1]:
                return dict(messages[-1])
        await asyncio.sleep(0.05)
    raise AssertionError("no survey question was sent")


async def _counts(site: Site) -> dict[int, int]:
    today = datetime.now(UTC).astimezone(site.server.cfg.routing.timezone).date()
    return await site.store.survey_counts(today, today)


async def test_the_survey_is_answered_by_a_postback_once(
    line_site: Site, fake: LineFake, captured_logs: io.StringIO
) -> None:
    assert (await post(line_site, body(message(text="相談したいです"))))[0] == 200
    conv_id = None
    for _ in range(100):
        found = await events_of(line_site, "conversation_opened")
        if found:
            conv_id = found[0].conversation_id
            break
        await asyncio.sleep(0.05)
    assert conv_id is not None
    async with await sign_in(line_site.url, "boss") as boss:
        url = f"{line_site.url}/api/conversations/{conv_id}/close"
        async with boss.post(url, json={"outcome": "listened"}) as r:
            assert r.status == 200, await r.text()
    asked = await _asked(fake)
    assert asked["text"] == "今回の相談はいかがでしたか？"
    items = asked["quickReply"]["items"]
    assert [i["action"]["label"] for i in items] == ["満足", "やや満足", "やや不満", "不満"]
    datas = [i["action"]["data"] for i in items]
    assert all(d.startswith("survey=") and d.endswith(f"&a={n}") for n, d in enumerate(datas, 1))
    token = datas[0].removeprefix("survey=").removesuffix("&a=1")
    assert len(token) == 24 and token.isascii()  # an HMAC: nothing of the conversation in it

    forged = event("postback", postback={"data": datas[1].replace(token[:4], "AAAA")})
    assert (await post(line_site, body(forged)))[0] == 200
    assert await _counts(line_site) == {1: 0, 2: 0, 3: 0, 4: 0}

    tapped = event("postback", postback={"data": datas[1]})
    assert (await post(line_site, body(tapped)))[0] == 200
    assert await _counts(line_site) == {1: 0, 2: 1, 3: 0, 4: 0}
    assert (await post(line_site, body(redelivered(tapped))))[0] == 200
    again = event("postback", postback={"data": datas[0]})  # a second tap, another answer
    assert (await post(line_site, body(again)))[0] == 200
    assert await _counts(line_site) == {1: 0, 2: 1, 3: 0, 4: 0}

    # her counselor sees that the survey went out, never her answer nor the token
    assert len(await events_of(line_site, "survey_sent")) == 1
    assert await events_of(line_site, "line_postback") == []
    assert token not in logged(captured_logs)
