"""Follow-ups over HTTP on a running server: the form checked field by field, and one set for
today is queued at once (the command wakes the server's follow-up watcher), marked in the queue
and in the conversation, offered to nobody else while her counselor holds it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiohttp

from routing.hours import TOKYO
from tests.sms.outbound import until
from tests.web.conftest import Site, sign_in
from tests.web.test_callback_request_browser import sato_chat
from tests.web.test_supervision import call, everyone_away


def day(offset: int) -> str:
    return (datetime.now(TOKYO) + timedelta(days=offset)).date().isoformat()


async def queue_marks(session: aiohttp.ClientSession, url: str) -> dict[int, Any]:
    status, found = await call(session, "GET", f"{url}/api/conversations")
    assert status == 200, found
    return {c["id"]: c["follow_up"] for c in found["conversations"]}


async def marked(session: aiohttp.ClientSession, url: str, chat: int) -> Any:
    return (await queue_marks(session, url))[chat]


async def test_the_form_is_checked_and_one_for_today_is_queued_at_once(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    chat = await sato_chat(site, "また連絡します")
    url = f"{site.url}/api/conversations/{chat}/follow-ups"
    async with await sign_in(site.url, "sato") as sato:
        for body, field in [
            ({}, "due_on"),
            ({"due_on": day(-1)}, "due_on"),  # the past
            ({"due_on": day(400)}, "due_on"),
            ({"due_on": "2026-02-30"}, "due_on"),
            ({"due_on": day(7), "note": "x" * 501}, "note"),
            ({"due_on": day(7), "identity": 10**9}, "identity"),  # not one of hers
            ({"due_on": day(7), "identity": "1"}, "identity"),
        ]:
            status, answer = await call(sato, "POST", url, body)
            assert (status, answer["error"]["field"]) == (400, field), (body, answer)
        status, listed = await call(sato, "GET", url)
        assert status == 200 and listed["follow_ups"] == []
        assert listed["default_due_on"] == day(7) and listed["today"] == day(0)
        assert [o["id"] for o in listed["outcomes"]] == ["done", "skipped", "unreachable"]
        assert [i["channel"] for i in listed["identities"]] == ["webchat"]
        assert (await queue_marks(sato, site.url))[chat] is None

        status, made = await call(sato, "POST", url, {"due_on": day(0), "note": "様子"})
        assert status == 201, made
        follow_up = made["follow_up"]
        assert (follow_up["counselor"]["id"], follow_up["note"]) == (site.id("sato"), "様子")
        # the watcher was woken: her open chat becomes the task at once
        mark = await until(lambda: marked(sato, site.url, chat), timeout_s=5)
        assert mark == {"id": follow_up["id"], "due_on": day(0), "counselor_id": site.id("sato")}
        status, opened = await call(sato, "GET", f"{site.url}/api/conversations/{chat}")
        assert opened["conversation"]["follow_up"] == mark
        status, answer = await call(sato, "POST", f"{site.url}/api/follow-ups/{mark['id']}/cancel")
        assert (status, answer["error"]["code"]) == (
            409,
            "conflict",
        )  # due: resolved, not cancelled
        resolve = f"{site.url}/api/follow-ups/{mark['id']}/resolve"
        status, answer = await call(sato, "POST", resolve, {"outcome": "cancelled"})
        assert (status, answer["error"]["field"]) == (400, "outcome")
        status, answer = await call(sato, "POST", resolve, {"outcome": "skipped"})
        assert status == 200 and answer["follow_up"]["status"] == "skipped"
        assert answer["follow_up"]["resolved_by"]["id"] == site.id("sato")
        assert (await queue_marks(sato, site.url))[chat] is None
