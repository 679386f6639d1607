"""The rota through the real server, as inbox.assembly wires it: a closed day of the desk turns
counselors' shifts off on the supervisor's screens (unless she works closed days), and an urgent
consulter at night whom nobody on duty can take is handed to the person on call and told that a
counselor is reading now, not that we reply from the next opening."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from inbox.config import Config
from inbox.core.model import ChannelKind, CounselorUpdate, Presence, UserId
from inbox.core.windows import DAY_NAMES
from routing.hours import parse_service_hours
from routing.rota import parse_rota
from storage.sqlite.store import SqliteStore
from tests.factories import T0
from tests.web.conftest import Server, add_staff, make_config, running, sign_in
from tests.web.test_safety import next_message
from tests.web.test_webchat import chat, say

ALL_DAY = {"weekly": {day: ["00:00-24:00"] for day in DAY_NAMES}}


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: object = None
) -> tuple[int, Any]:
    async with session.request(method, url, json=body) as r:
        return r.status, await r.json()


@pytest.fixture
async def closed_today(tmp_path: Path) -> AsyncIterator[Server]:
    """The server on a day the desk is closed: its one enabled channel, the web chat, is closed
    yesterday, today and tomorrow in Tokyo (so the test does not care when it runs). Without
    hours of its own the web chat would be open around the clock, and no day closed."""
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    days = [(today + timedelta(days=n)).isoformat() for n in (-1, 0, 1)]
    hours = parse_service_hours({"everyday": ["00:00-24:00"], "closed_dates": days}, "h")
    cfg = make_config(tmp_path, routing={"hours": ((ChannelKind.WEBCHAT, hours),)})
    ids = await add_staff(cfg)
    async with running(cfg) as url:
        yield Server(url=url, cfg=cfg, ids=ids)


async def test_a_closed_day_turns_a_shift_off_on_the_supervisors_screens(
    closed_today: Server,
) -> None:
    server = closed_today
    suzuki = f"{server.url}/api/counselors/{server.ids['suzuki']}"
    async with await sign_in(server.url, "boss") as boss:
        status, body = await call(boss, "PATCH", suzuki, {"shift": ALL_DAY})
        assert status == 200, body
        assert body["counselor"]["shift"]["closed_days"] == "follow"  # the default, shown
        assert body["counselor"]["on_shift"] is False  # her shift follows the desk's closure

        def shown(overview: Any) -> bool:
            (her,) = [c for c in overview["counselors"] if c["id"] == server.ids["suzuki"]]
            return bool(her["on_shift"])

        status, overview = await call(boss, "GET", f"{server.url}/api/supervision")
        assert status == 200 and shown(overview) is False
        status, body = await call(
            boss, "PATCH", suzuki, {"shift": ALL_DAY | {"closed_days": "work"}}
        )
        assert status == 200, body
        assert body["counselor"]["shift"]["closed_days"] == "work"
        assert body["counselor"]["on_shift"] is True
        status, overview = await call(boss, "GET", f"{server.url}/api/supervision")
        assert shown(overview) is True


async def test_an_always_open_web_chat_keeps_shifts_on_when_mail_is_closed(
    tmp_path: Path,
) -> None:
    """Only mail has hours, closed today; the web chat is enabled without hours, so it is open
    around the clock: the desk is not closed, and her shift stays on."""
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    days = [(today + timedelta(days=n)).isoformat() for n in (-1, 0, 1)]
    hours = parse_service_hours({"everyday": ["00:00-24:00"], "closed_dates": days}, "h")
    cfg = make_config(tmp_path, routing={"hours": ((ChannelKind.MAIL, hours),)})
    assert cfg.webchat.enabled and cfg.enabled_channels == (ChannelKind.WEBCHAT,)
    ids = await add_staff(cfg)
    async with running(cfg) as url, await sign_in(url, "boss") as boss:
        suzuki = f"{url}/api/counselors/{ids['suzuki']}"
        status, body = await call(boss, "PATCH", suzuki, {"shift": ALL_DAY})
        assert status == 200, body
        assert body["counselor"]["on_shift"] is True  # the web chat is open: so is her shift


@pytest.fixture
async def night_with_sato_on_call(tmp_path: Path) -> tuple[Config, dict[str, int]]:
    """The web chat outside its hours (no day has any), sato on call at every hour, and every
    counselor away: nobody on duty can take an urgent conversation. The test runs the server
    (twice: a restart)."""
    hours = parse_service_hours({}, "routing.hours.webchat")
    routing = {"hours": ((ChannelKind.WEBCHAT, hours),), "on_call": parse_rota("sato")}
    cfg = make_config(tmp_path, routing=routing)
    ids = await add_staff(cfg)
    assert cfg.database.sqlite_path is not None
    async with SqliteStore(cfg.database.sqlite_path) as store:
        for name in ("sato", "suzuki"):
            away = CounselorUpdate(presence=Presence.AWAY)
            await store.update_counselor(
                UserId(ids[name]), away, actor_id=UserId(ids[name]), now=T0
            )
    return cfg, ids


async def outbound_bodies(url: str, conv_id: int) -> list[str]:
    async with await sign_in(url, "boss") as boss:
        status, page = await call(boss, "GET", f"{url}/api/conversations/{conv_id}")
        assert status == 200, page
        return [m["body"] for m in page["messages"] if m["direction"] == "outbound"]


async def test_an_urgent_consulter_handed_to_the_person_on_call_is_told_someone_reads(
    night_with_sato_on_call: tuple[Config, dict[str, int]], http: aiohttp.ClientSession
) -> None:
    cfg, ids = night_with_sato_on_call
    async with running(cfg) as url:
        server = Server(url=url, cfg=cfg, ids=ids)
        ws, _ = await chat(http, server)
        await say(ws, "死にたい")
        first, second = await next_message(ws), await next_message(ws)
        assert "0120-279-338" in first["body"]  # the safety message first
        assert "いま相談員があなたのメッセージを読んでいます" in second["body"]
        assert "受付時間外" not in second["body"] and "This is" not in second["body"]
        # Her chat's standing agrees: a counselor is with her, not "closed, we answer from ...".
        await ws.send_json({"type": "queue_status"})
        async with asyncio.timeout(10):
            while (frame := await ws.receive_json())["type"] != "queue_status":
                pass
        assert frame["state"] == "with_counselor"
        async with await sign_in(url, "boss") as boss:
            status, page = await call(boss, "GET", f"{url}/api/conversations")
            assert status == 200
            (conv,) = page["conversations"]
            assert conv["assignee_id"] == ids["sato"]  # over her presence: she is on call
        await ws.close()
        sent = await outbound_bodies(url, conv["id"])
        assert sent == [first["body"], second["body"]]
    # ... and never the after-hours reply after it: it is claimed spent in the database (a held
    # reply released later is refused by its claim), so the next start's recovery, which runs
    # at once, finds nothing due for her either.
    assert cfg.database.sqlite_path is not None
    async with SqliteStore(cfg.database.sqlite_path) as store:
        yesterday = datetime.now(UTC) - timedelta(days=1)
        due = await store.unreplied_arrivals("after_hours", since=yesterday)
        assert conv["id"] not in [a.conversation_id for a in due]
    async with running(cfg) as url:
        await asyncio.sleep(1.0)
        assert await outbound_bodies(url, conv["id"]) == sent
