"""The supervisor's board through the real server: GET /api/board (counselors, the queue, who
paused a channel, today's waits, the conversations to move, alerts), acknowledging an alert, and
the board pushed to supervisors' sockets alone after an event."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from inbox.core.model import ChannelKind, IntakeLabels
from tests.factories import inbound
from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, seed
from tests.web.test_webchat import chat, say


async def board(site: Site, session: aiohttp.ClientSession) -> dict[str, Any]:
    status, found = await call(session, "GET", f"{site.url}/api/board")
    assert status == 200, found
    return dict(found)


async def test_the_board_shows_who_works_what_waits_and_who_paused(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    urgent = now_inbound("urgent@example.jp", body="とても秘密の相談")
    urgent = type(urgent)(
        message=urgent.message,
        identity_hash=urgent.identity_hash,
        labels=IntakeLabels(priority=100, tags=frozenset({"suicide_risk"}), alert="suicide_risk"),
    )
    normal, urgent_id, hers = await seed(
        site, now_inbound("a@example.jp"), urgent, now_inbound("b@example.jp")
    )
    status, _ = await call(
        boss, "POST", f"{site.url}/api/conversations/{hers}/assign", {"user_id": site.id("sato")}
    )
    assert status == 200
    status, _ = await call(boss, "POST", f"{site.url}/api/channels/mail/pause")
    assert status == 200

    found = await board(site, boss)
    text = json.dumps(found, ensure_ascii=False)
    assert "秘密" not in text and "こんにちは" not in text and "@example.jp" not in text
    assert found["event_id"] > 0
    assert [c["id"] for c in found["waiting"]] == [urgent_id, normal]
    first = found["waiting"][0]
    assert first["urgent"] and first["urgency"] == "suicide_risk"
    assert first["contact_alias"].startswith("相談者-") and first["waiting_s"] >= 0
    assert found["waiting_total"] == 2
    assert [(q["channel"], q["priority"], q["count"]) for q in found["queue"]] == [
        ("webchat", 100, 1),
        ("webchat", 0, 1),
    ]
    counselors = {c["display_name"]: c for c in found["counselors"]}
    assert set(counselors) == {"Sato", "Suzuki"}  # away, yet on shift: on the board
    sato = counselors["Sato"]
    assert (sato["load"], sato["conversation_ids"], sato["connected"]) == (1, [hers], False)
    # the router's offers count as her last assignment (routing's fairness), not a supervisor's
    assert (sato["last_assigned_at"], sato["since_last_assignment_s"]) == (None, None)
    assert [c["id"] for c in found["assigned"]] == [hers]
    mail = next(c for c in found["channels"] if c["channel"] == "mail")
    assert mail["paused"] and mail["by_name"] == "Boss" and mail["since"] is not None
    webchat = next(c for c in found["channels"] if c["channel"] == "webchat")
    assert not webchat["paused"] and webchat["by_name"] is None
    waits = found["waits"]
    assert waits["count"] == 3 and waits["median_s"] is not None and waits["target_s"] == 3600
    (alert,) = found["alerts"]
    assert (alert["kind"], alert["reason"], alert["acknowledged"]) == (
        "supervisors_alerted",
        "suicide_risk",
        None,
    )


async def test_a_supervisor_acknowledges_an_alert_once(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    (conv,) = await seed(site, now_inbound("a@example.jp"))
    await site.store.record_event(
        "reply_failed",
        now=datetime.now(UTC),
        conversation_id=conv,
        data={"error": "refused a@example.jp"},
    )
    (alert,) = (await board(site, boss))["alerts"]
    assert "a@example.jp" not in json.dumps(alert)  # a provider's error text stays out
    status, acked = await call(boss, "POST", f"{site.url}/api/alerts/{alert['event_id']}/ack")
    assert status == 200, acked
    assert acked["acknowledged"]["by_name"] == "Boss"
    (shown,) = (await board(site, boss))["alerts"]
    assert shown["acknowledged"] == acked["acknowledged"]
    status, again = await call(boss, "POST", f"{site.url}/api/alerts/{alert['event_id']}/ack")
    assert (status, again) == (200, acked)
    kinds = [e.kind for e in await site.store.list_events()]
    assert kinds.count("alert_acknowledged") == 1
    status, _ = await call(boss, "POST", f"{site.url}/api/alerts/999999/ack")
    assert status == 404


async def next_board(ws: aiohttp.ClientWebSocketResponse, after: int) -> dict[str, Any]:
    """The first board frame reflecting the event `after` or a later one."""
    async with asyncio.timeout(10):
        while True:
            frame: dict[str, Any] = await ws.receive_json()
            if frame["type"] == "board" and frame["event_id"] >= after:
                return frame


async def test_a_message_reaches_the_supervisors_board_and_no_counselor_socket(
    site: Site, boss: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    async with await sign_in(site.url, "sato") as sato:
        hers = await sato.ws_connect(site.server.ws_url("/api/ws"))
        ours = await boss.ws_connect(site.server.ws_url("/api/ws"))
        chat_ws, _ = await chat(http, site.server)
        await say(chat_ws, "はじめまして")
        stored = next(e for e in await site.store.list_events() if e.kind == "message_received")
        frame = await next_board(ours, stored.id)
        assert [c["contact_alias"] for c in frame["waiting"]]
        assert "はじめまして" not in json.dumps(frame, ensure_ascii=False)
        # her socket hears of the message as an event, and is never sent the board
        async with asyncio.timeout(10):
            seen: list[str] = []
            while "message_received" not in seen:
                got = await hers.receive_json()
                assert got["type"] != "board"
                seen += [e["kind"] for e in got.get("events", [])]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(next_board(hers, 0), 0.5)
        await chat_ws.close()
        await hers.close()
        await ours.close()


@pytest.mark.both_stores
async def test_a_paused_channel_and_an_alert_on_both_stores(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    status, _ = await call(boss, "POST", f"{site.url}/api/channels/phone/pause")
    assert status == 200
    await seed(
        site,
        inbound("+81312345678", channel=ChannelKind.PHONE, received_at=datetime.now(UTC)),
    )
    found = await board(site, boss)
    phone = next(c for c in found["channels"] if c["channel"] == "phone")
    assert (phone["paused"], phone["by_id"]) == (True, site.id("boss"))
    assert [q["paused"] for q in found["queue"] if q["channel"] == "phone"] == [True]


async def test_a_socket_that_says_it_does_not_watch_gets_no_board(
    site: Site, boss: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    """The console says so when it connects: it shows none of the board."""
    await everyone_away(site, boss)
    console = await boss.ws_connect(site.server.ws_url("/api/ws"))
    board_page = await boss.ws_connect(site.server.ws_url("/api/ws"))
    await console.send_json({"type": "board", "watch": False})
    chat_ws, _ = await chat(http, site.server)
    await say(chat_ws, "はじめまして")
    stored = max(e.id for e in await site.store.list_events())
    first = await next_board(board_page, stored)  # a round pushes to every watcher at once
    await console.send_json({"type": "board", "watch": True})
    await say(chat_ws, "もう一度")
    later = max(e.id for e in await site.store.list_events())
    seen: list[int] = []
    async with asyncio.timeout(10):
        while not seen or seen[-1] < later:
            frame = await console.receive_json()
            if frame["type"] == "board":
                seen.append(frame["event_id"])
    assert first["event_id"] not in seen  # the round the console had left
    await chat_ws.close()
    await console.close()
    await board_page.close()
