"""Supervisor actions through the real server: counselor profiles and presence, moving and
draining work, pausing channels, the live view and opened offers. On SQLite, and on PostgreSQL
too where what a test asserts could differ there (marked both_stores)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import aiosqlite
import asyncpg
import pytest

from inbox.core.model import (
    ChannelKind,
    ClosedDays,
    ConversationId,
    ConversationStatus,
    Direction,
    IntakeLabels,
    Presence,
)
from inbox.router import Router
from storage.base import KeyedInbound
from tests.factories import inbound
from tests.staff_frames import next_staff_event
from tests.web.conftest import Site, sign_in
from tests.web.test_webchat import chat, next_event, next_frame, say


@pytest.fixture
async def sato(site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(site.url, "sato") as session:
        yield session


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: object = None
) -> tuple[int, Any]:
    async with session.request(method, url, json=body) as r:
        return r.status, None if r.status == 204 else await r.json()


async def seed(site: Site, *items: KeyedInbound) -> list[ConversationId]:
    """Queued conversations stored behind the server's back: nothing wakes the router."""
    stored = await site.store.save_inbound_batch(items)
    return [s.conversation_id for s in stored]


def now_inbound(sender: str, **kwargs: Any) -> KeyedInbound:
    return inbound(sender, received_at=datetime.now(UTC), **kwargs)


async def everyone_away(site: Site, boss: aiohttp.ClientSession) -> None:
    """No counselor takes new work, nor phone staff a call, so the router leaves the queue
    alone."""
    for name in ("sato", "suzuki", "phone"):
        status, _ = await call(
            boss, "PATCH", f"{site.url}/api/counselors/{site.id(name)}", {"presence": "away"}
        )
        assert status == 200


async def set_first_response_due(site: Site, conv_id: int, due: datetime) -> None:
    """Deadlines are not set by intake yet, so the test writes one straight into the table."""
    sql = "UPDATE conversations SET first_response_due = {} WHERE id = {}"
    await write_instant(site, sql, due, conv_id)


async def write_instant(site: Site, sql: str, at: datetime, row_id: int) -> None:
    """Run `sql` (two {} slots: the instant, then the row's id) straight on the server's
    database, either kind: for what no API sets."""
    db = site.server.cfg.database
    if db.backend == "postgres":
        conn = await asyncpg.connect(db.url)
        try:
            await conn.execute(sql.format("$1", "$2"), at, row_id)
        finally:
            await conn.close()
        return
    assert db.sqlite_path is not None
    async with aiosqlite.connect(db.sqlite_path) as conn:
        stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
        await conn.execute(sql.format("?", "?"), (stamp, row_id))
        await conn.commit()


async def notes(site: Site, conv_id: int) -> list[str]:
    messages = await site.store.list_messages(ConversationId(conv_id))
    return [m.body for m in messages if m.direction is Direction.NOTE]


# ---- counselor profile ------------------------------------------------------------------------
async def test_counselor_sets_only_her_own_presence(
    site: Site, sato: aiohttp.ClientSession
) -> None:
    own = f"{site.url}/api/counselors/{site.id('sato')}"
    status, body = await call(sato, "PATCH", own, {"presence": "away"})
    assert status == 200, body
    assert body["counselor"]["presence"] == "away"
    assert (await site.store.get_user(site.id("sato"))).presence is Presence.AWAY
    events = [e for e in await site.store.list_events() if e.kind == "counselor_updated"]
    assert events[-1].actor_id == site.id("sato")
    assert events[-1].data == {"user_id": site.id("sato"), "fields": ["presence"]}

    status, body = await call(sato, "PATCH", own, {"presence": "offline", "capacity": 9})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    other = f"{site.url}/api/counselors/{site.id('suzuki')}"
    assert (await call(sato, "PATCH", other, {"presence": "away"}))[0] == 403
    status, body = await call(sato, "PATCH", own, {"mood": "tired"})
    assert (status, body["error"]["field"]) == (400, "mood")
    status, body = await call(sato, "PATCH", own, {"presence": "asleep"})
    assert (status, body["error"]["field"]) == (400, "presence")
    user = await site.store.get_user(site.id("sato"))
    assert (user.presence, user.capacity) == (Presence.AWAY, 3)  # nothing refused was applied
    assert (await site.store.get_user(site.id("suzuki"))).presence is Presence.AVAILABLE


async def test_supervisor_updates_the_whole_profile(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    url = f"{site.url}/api/counselors/{site.id('suzuki')}"
    shift = {
        "timezone": "Asia/Tokyo",
        "weekly": {"monday": ["09:00-17:30"], "friday": ["18:00-24:00"]},
        "exceptions": {"2026-12-24": ["13:00-17:00"], "2026-12-25": []},
        "closed_days": "work",  # she works public holidays and the year-end closure
    }
    change = {
        "presence": "away",
        "capacity": 5,
        "channel_capacity": {"webchat": 3, "phone": 1},
        "skills": ["dv", "legal"],
        "languages": ["ja", "en"],
        "teams": ["night"],
        "shift": shift,
    }
    status, body = await call(boss, "PATCH", url, change)
    assert status == 200, body
    counselor = body["counselor"]
    assert counselor["id"] == site.id("suzuki")
    assert counselor["capacity"] == 5
    assert counselor["channel_capacity"] == {"webchat": 3, "phone": 1}
    assert (counselor["skills"], counselor["languages"]) == (["dv", "legal"], ["en", "ja"])
    assert (counselor["teams"], counselor["presence"]) == (["night"], "away")
    assert counselor["shift"] == shift
    assert isinstance(counselor["on_shift"], bool)
    stored = await site.store.get_user(site.id("suzuki"))
    assert stored.capacity == 5 and stored.teams == frozenset({"night"})
    assert stored.shift is not None and stored.shift.tz == "Asia/Tokyo"
    assert stored.shift.closed_days is ClosedDays.WORK

    status, body = await call(boss, "PATCH", url, {"shift": None})
    assert status == 200 and body["counselor"]["shift"] is None
    assert body["counselor"]["on_shift"] is True  # no schedule: always on shift
    assert (await site.store.get_user(site.id("suzuki"))).shift is None

    status, body = await call(
        boss, "PATCH", f"{site.url}/api/counselors/{site.id('boss')}", {"capacity": 2}
    )
    assert status == 409  # not a counselor
    assert (await call(boss, "PATCH", f"{site.url}/api/counselors/99999", {"capacity": 2}))[
        0
    ] == 404
    status, body = await call(boss, "PATCH", url, {})
    assert (status, body["error"]["field"]) == (400, "body")
    async with await sign_in(site.url, "admin") as admin:
        assert (await call(admin, "PATCH", url, {"capacity": 2}))[0] == 403  # accounts only


BAD_CHANGES: list[tuple[dict[str, Any], str, str]] = [
    ({"shift": {"weekly": {"monday": ["9-17"]}}}, "shift.weekly.monday[0]", "HH:MM"),
    ({"shift": {"weekly": {"funday": []}}}, "shift.weekly.funday", "monday"),
    ({"shift": {"timezone": "Mars/Olympus"}}, "shift.timezone", "time zone"),
    ({"shift": {"hours": {}}}, "shift.hours", "unknown key"),
    ({"shift": "9-17"}, "shift", "object"),
    ({"shift": {"closed_days": "sometimes"}}, "shift.closed_days", '"follow" or "work"'),
    ({"capacity": 51}, "capacity", "0 to 50"),
    ({"capacity": True}, "capacity", "integer"),
    ({"channel_capacity": {"fax": 1}}, "channel_capacity.fax", "not a channel"),
    ({"channel_capacity": {"sms": -1}}, "channel_capacity.sms", "0 to 50"),
    ({"channel_capacity": [1]}, "channel_capacity", "object"),
    ({"skills": ["dv", ""]}, "skills[1]", "non-empty"),
    ({"teams": ["x" * 41]}, "teams[0]", "40"),
    ({"languages": "ja"}, "languages", "list"),
    ({"presence": "away", "mood": "tired"}, "mood", "unknown field"),
]


async def test_bad_profile_changes_name_the_field(site: Site, boss: aiohttp.ClientSession) -> None:
    url = f"{site.url}/api/counselors/{site.id('suzuki')}"
    for change, field, words in BAD_CHANGES:
        status, body = await call(boss, "PATCH", url, change)
        assert status == 400, body
        assert body["error"]["field"] == field
        assert body["error"]["message"].startswith(f"{field}: ")
        assert words in body["error"]["message"], body
    before = await site.store.get_user(site.id("suzuki"))
    assert (before.presence, before.capacity, before.shift) == (Presence.AVAILABLE, 3, None)


# ---- moving work ------------------------------------------------------------------------------
async def test_move_many_reports_each_failure_and_moves_the_rest(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    suzuki = site.id("suzuki")
    status, _ = await call(boss, "PATCH", f"{site.url}/api/counselors/{suzuki}", {"capacity": 1})
    assert status == 200
    convs = await seed(site, *(now_inbound(f"move{i}@example.jp") for i in range(4)))
    closed = convs.pop()
    await site.store.close(closed, actor_id=site.id("boss"), now=datetime.now(UTC))
    body = {
        "conversation_ids": [convs[0], 999999, convs[1], closed, convs[2], convs[0]],
        "to_user_id": suzuki,
        "note": "夜勤の鈴木さんへ / to the night shift",
    }
    status, answer = await call(boss, "POST", f"{site.url}/api/conversations/move", body)
    assert status == 200, answer
    assert answer["moved"] == convs  # over her capacity of 1: a supervisor's decision
    assert [(f["id"], f["error"]) for f in answer["failed"]] == [
        (999999, "not_found"),
        (closed, "conflict"),
    ]
    for conv_id in convs:
        conv = await site.store.get_conversation(conv_id)
        assert (conv.assignee_id, conv.status) == (suzuki, ConversationStatus.ASSIGNED)
        assert await notes(site, conv_id) == ["夜勤の鈴木さんへ / to the night shift"]
    assert await notes(site, closed) == []


# assigning to a disabled counselor is refused in each dialect's SQL; no contract test
@pytest.mark.both_stores
async def test_move_to_someone_who_is_not_a_counselor_moves_nothing(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (conv,) = await seed(site, now_inbound("nobody-takes-me@example.jp"))
    url = f"{site.url}/api/conversations/move"
    for target in (site.id("boss"), 99999):
        status, body = await call(
            boss, "POST", url, {"conversation_ids": [conv], "to_user_id": target}
        )
        assert (status, body["error"]["code"]) == (409, "conflict")
    async with await sign_in(site.url, "admin") as admin:
        assert (await call(admin, "POST", f"{site.url}/api/users/suzuki/disable"))[0] == 200
    status, _ = await call(
        boss, "POST", url, {"conversation_ids": [conv], "to_user_id": site.id("suzuki")}
    )
    assert status == 409
    stored = await site.store.get_conversation(conv)
    assert (stored.assignee_id, stored.status) == (None, ConversationStatus.QUEUED)
    assert await notes(site, conv) == []

    own = {"conversation_ids": [conv], "to_user_id": site.id("sato")}
    assert (await call(sato, "POST", url, own))[0] == 403
    for bad, field in [
        ({"conversation_ids": [], "to_user_id": 1}, "conversation_ids"),
        ({"conversation_ids": list(range(1, 202)), "to_user_id": 1}, "conversation_ids"),
        ({"conversation_ids": ["7"], "to_user_id": 1}, "conversation_ids"),
        ({"conversation_ids": [conv]}, "to_user_id"),
    ]:
        status, body = await call(boss, "POST", url, bad)
        assert (status, body["error"]["field"]) == (400, field)


# ---- draining ---------------------------------------------------------------------------------
async def _give(site: Site, boss: aiohttp.ClientSession, user: str, count: int) -> list[int]:
    convs = await seed(site, *(now_inbound(f"{user}-{i}@example.jp") for i in range(count)))
    body = {"conversation_ids": convs, "to_user_id": site.id(user)}
    status, answer = await call(boss, "POST", f"{site.url}/api/conversations/move", body)
    assert status == 200 and answer["moved"] == convs, answer
    return list(convs)


async def test_drain_requeues_her_work_with_handover_notes(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    mine = await _give(site, boss, "sato", 2)
    theirs = await _give(site, boss, "suzuki", 1)
    url = f"{site.url}/api/counselors/{site.id('sato')}/drain"
    status, body = await call(boss, "POST", url, {})
    assert status == 200, body
    assert (sorted(body["requeued"]), body["kept"]) == (sorted(mine), [])
    assert body["counselor"]["presence"] == "offline"
    assert (await site.store.get_user(site.id("sato"))).presence is Presence.OFFLINE
    for conv_id in mine:
        conv = await site.store.get_conversation(ConversationId(conv_id))
        assert (conv.assignee_id, conv.status) == (None, ConversationStatus.QUEUED)
        (handover,) = await notes(site, conv_id)
        assert handover.startswith("引き継ぎ") and "Handover: Sato" in handover
    assert (await site.store.get_conversation(ConversationId(theirs[0]))).assignee_id == site.id(
        "suzuki"
    )
    requeued = [e for e in await site.store.list_events() if e.kind == "conversation_requeued"]
    assert sorted(e.conversation_id or 0 for e in requeued) == sorted(mine)

    suzuki_url = f"{site.url}/api/counselors/{site.id('suzuki')}/drain"
    status, body = await call(
        boss, "POST", suzuki_url, {"note": "明日の朝に続きを / resume tomorrow"}
    )
    assert status == 200 and body["requeued"] == theirs
    assert await notes(site, theirs[0]) == ["明日の朝に続きを / resume tomorrow"]
    assert (await call(sato, "POST", suzuki_url, {}))[0] == 403
    status, body = await call(boss, "POST", url, {"keep": "yes"})
    assert (status, body["error"]["field"]) == (400, "keep")


async def test_drain_with_keep_only_changes_her_presence(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    mine = await _give(site, boss, "sato", 2)
    url = f"{site.url}/api/counselors/{site.id('sato')}/drain"
    status, body = await call(sato, "POST", url, {"keep": True, "presence": "away"})
    assert status == 200, body
    assert (body["requeued"], sorted(body["kept"])) == ([], sorted(mine))
    assert (await site.store.get_user(site.id("sato"))).presence is Presence.AWAY
    for conv_id in mine:
        conv = await site.store.get_conversation(ConversationId(conv_id))
        assert (conv.assignee_id, conv.status) == (site.id("sato"), ConversationStatus.ASSIGNED)
        assert await notes(site, conv_id) == []


# ---- channels ---------------------------------------------------------------------------------
@pytest.mark.both_stores  # the staff feed: PostgreSQL's commit-order tail and LISTEN/NOTIFY
async def test_a_paused_channel_takes_messages_but_routes_none_until_resumed(
    site: Site, boss: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    events = await boss.ws_connect(site.server.ws_url("/api/ws"))
    status, body = await call(boss, "POST", f"{site.url}/api/channels/webchat/pause")
    assert (status, body) == (200, {"channel": "webchat", "paused": True})
    status, body = await call(boss, "GET", f"{site.url}/api/channels")
    assert {c["channel"]: c["paused"] for c in body["channels"]} == {
        kind.value: kind is ChannelKind.WEBCHAT for kind in ChannelKind
    }
    ws, _ = await chat(http, site.server)
    # (the pause's nudge may reach her chat first: PostgreSQL's feed hears it after she came)
    client_id = str(uuid.uuid4())
    await ws.send_json({"type": "message", "client_id": client_id, "body": "今、話せますか"})
    assert (await next_frame(ws, "ack"))["client_id"] == client_id
    conv_id = (await next_event(events, "message_received"))["conversation_id"]
    # Where she stands is answered after a round of the server's router that began after she
    # asked, so one that saw her message; and a round run here, now, routes nothing either.
    await ws.send_json({"type": "queue_status"})
    await next_frame(ws, "queue_status")
    assert await Router(site.store, clock=lambda: datetime.now(UTC)).route_once() == []
    conv = await site.store.get_conversation(conv_id)
    assert (conv.assignee_id, conv.status) == (None, ConversationStatus.QUEUED)
    status, view = await call(boss, "GET", f"{site.url}/api/supervision")
    assert view["paused_channels"] == ["webchat"]
    assert [(q["channel"], q["count"], q["paused"]) for q in view["queue"]] == [
        ("webchat", 1, True)
    ]

    status, body = await call(boss, "POST", f"{site.url}/api/channels/webchat/resume")
    assert (status, body) == (200, {"channel": "webchat", "paused": False})
    kinds = []
    async with asyncio.timeout(10):
        while "conversation_assigned" not in kinds:
            kinds.append((await next_staff_event(events))["kind"])
    assert kinds.index("channel_resumed") < kinds.index("conversation_assigned")
    assert (await site.store.get_conversation(conv_id)).assignee_id is not None
    await ws.close()
    await events.close()
    assert (await call(boss, "POST", f"{site.url}/api/channels/fax/pause"))[0] == 404


# ---- the live view ----------------------------------------------------------------------------
@pytest.mark.both_stores  # deadlines written by raw SQL per dialect, read back as UTC
async def test_supervision_shows_loads_queue_and_time_to_breach(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    url = f"{site.url}/api/counselors/{site.id('sato')}"
    await call(boss, "PATCH", url, {"channel_capacity": {"webchat": 2, "mail": 1}})
    mine = await _give(site, boss, "sato", 2)
    urgent = KeyedInbound(
        message=now_inbound("urgent@example.jp", channel=ChannelKind.MAIL).message,
        identity_hash="urgent",
        labels=IntakeLabels(priority=2),
    )
    (queued,) = await seed(site, urgent)
    now = datetime.now(UTC)
    await set_first_response_due(site, mine[0], now + timedelta(minutes=30))
    await set_first_response_due(site, queued, now - timedelta(minutes=5))

    status, view = await call(boss, "GET", f"{site.url}/api/supervision")
    assert status == 200, view
    by_name = {c["display_name"]: c for c in view["counselors"]}
    assert set(by_name) == {"Sato", "Suzuki"}
    sato = by_name["Sato"]
    assert (sato["id"], sato["presence"], sato["on_shift"]) == (site.id("sato"), "away", True)
    assert (sato["load"], sato["capacity"]) == (2, 3)
    assert sato["channel_load"] == {"webchat": 2}
    assert sato["channel_capacity"] == {"webchat": 2, "mail": 1}
    assert by_name["Suzuki"]["load"] == 0
    (depth,) = view["queue"]
    assert (depth["channel"], depth["priority"], depth["count"]) == ("mail", 2, 1)
    assert depth["oldest_waiting_s"] >= 0 and depth["paused"] is False
    assert view["paused_channels"] == []
    breach = view["time_to_breach"]
    assert [b["conversation_id"] for b in breach] == [queued, mine[0]]
    assert breach[0]["seconds_left"] < -250 and 1700 < breach[1]["seconds_left"] <= 1800
    assert breach[1]["assignee_id"] == site.id("sato") and breach[0]["assignee_id"] is None
    assert (breach[0]["channel"], breach[0]["priority"]) == ("mail", 2)
    assert datetime.fromisoformat(breach[0]["due"]).utcoffset() == timedelta(0)
    assert "相談者" not in str(view) and "example.jp" not in str(view)


async def test_supervision_endpoints_need_a_supervisor(
    site: Site, sato: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    suzuki = site.id("suzuki")
    requests = [
        ("GET", "/api/supervision", None),
        ("GET", "/api/channels", None),
        ("POST", "/api/channels/webchat/pause", None),
        ("POST", "/api/channels/webchat/resume", None),
        ("POST", "/api/conversations/move", {"conversation_ids": [1], "to_user_id": suzuki}),
        ("POST", f"/api/counselors/{suzuki}/drain", {}),
        ("PATCH", f"/api/counselors/{suzuki}", {"presence": "away"}),
    ]
    for method, path, body in requests:
        status, answer = await call(sato, method, site.url + path, body)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), path
        status, answer = await call(http, method, site.url + path, body)
        assert (status, answer["error"]["code"]) == (401, "unauthenticated"), path
    assert await site.store.paused_channels() == frozenset()
    assert (await site.store.get_user(suzuki)).presence is Presence.AVAILABLE


# ---- opening an offer -------------------------------------------------------------------------
@pytest.mark.both_stores  # the staff feed: PostgreSQL's commit-order tail and LISTEN/NOTIFY
async def test_the_assignee_opening_her_offer_marks_it_opened(
    site: Site, boss: aiohttp.ClientSession, http: aiohttp.ClientSession
) -> None:
    events = await boss.ws_connect(site.server.ws_url("/api/ws"))
    ws, _ = await chat(http, site.server)
    await say(ws, "聞いてほしいことがあります")
    assigned = await next_event(events, "conversation_assigned")
    conv_id = ConversationId(assigned["conversation_id"])
    offer = await site.store.get_conversation(conv_id)
    assert offer.offered_at is not None and offer.opened_at is None
    status, _ = await call(boss, "GET", f"{site.url}/api/conversations/{conv_id}")
    assert status == 200
    assert (await site.store.get_conversation(conv_id)).opened_at is None  # not hers to open

    name = next(n for n, i in site.server.ids.items() if i == offer.assignee_id)
    async with await sign_in(site.url, name) as assignee:
        status, body = await call(assignee, "GET", f"{site.url}/api/conversations/{conv_id}")
        assert status == 200 and body["conversation"]["opened_at"] is not None
        opened = await next_event(events, "offer_opened")
        assert opened["conversation_id"] == conv_id
        assert (await site.store.get_conversation(conv_id)).opened_at is not None
        await call(assignee, "GET", f"{site.url}/api/conversations/{conv_id}")
    kinds = [e.kind for e in await site.store.list_events() if e.conversation_id == conv_id]
    assert kinds.count("offer_opened") == 1
    await ws.close()
    await events.close()


async def test_discretion_is_set_by_the_assignee_and_changes_auto_replies(
    site: Site, boss: aiohttp.ClientSession, sato: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (conv_id,) = await seed(site, now_inbound("U-discreet"))
    url = f"{site.url}/api/conversations/{conv_id}/discretion"
    status, body = await call(sato, "POST", url, {"discretion": True})
    assert status == 403  # not hers
    status, body = await call(boss, "POST", url, {"discretion": "yes"})
    assert (status, body["error"]["field"]) == (400, "discretion")
    status, body = await call(boss, "POST", url, {"discretion": True})
    assert (status, body) == (200, {"conversation_id": conv_id, "discretion": True})
    reply = await site.store.claim_auto_reply(
        conv_id, "test", body="プログラム名入り", discreet_body="中立", now=datetime.now(UTC)
    )
    assert reply is not None and reply.body == "中立"
    status, _ = await call(boss, "POST", f"{site.url}/api/conversations/999999/discretion", {})
    assert status == 404
