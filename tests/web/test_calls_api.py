"""The phone desk over HTTP: a call logged by hand, callbacks worked by the retry rule,
callback requests from a web chat, who may do what, 400s naming the field, and never the
number in an answer or a log line."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from inbox.core.model import ChannelKind, Role
from tests.factories import new_user
from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, sato, seed

__all__ = ["sato"]  # the fixture, used by name

TOKYO = ZoneInfo("Asia/Tokyo")
NUMBER = "090-1234-5678"
E164 = "+819012345678"
DIGITS = "9012345678"  # the number in any format: none of them may show


@pytest.fixture
async def phone(site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(site.url, "phone") as session:
        yield session


def no_number(value: object) -> None:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    assert DIGITS not in text and "1234-5678" not in text and "1234" + "5678" not in text


def form(**kw: Any) -> dict[str, Any]:
    return {
        "direction": "inbound",
        "started_at": datetime.now(TOKYO).replace(microsecond=0).isoformat(),
        "duration_s": 300,
        "number": NUMBER,
        "withheld": False,
        "outcome": "reached",
        "note": "落ち着いて話せた",
        "referrals": [],
        "follow_up": None,
        "conversation": None,
    } | kw


async def log(site: Site, who: aiohttp.ClientSession, **kw: Any) -> tuple[int, Any]:
    status, body = await call(who, "POST", f"{site.url}/api/calls", form(**kw))
    no_number(body)
    return status, body


@pytest.mark.both_stores
async def test_a_call_logged_by_hand_with_a_referral_and_a_follow_up_becomes_a_callback(
    site: Site, phone: aiohttp.ClientSession, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    tomorrow = (datetime.now(TOKYO) + timedelta(days=1)).date()
    status, body = await log(
        site, phone, referrals=["dv_center", "police"], follow_up=tomorrow.isoformat()
    )
    assert status == 201, body
    c = body["call"]
    assert (c["direction"], c["outcome"], c["referrals"], c["follow_up"]) == (
        "inbound",
        "reached",
        ["dv_center", "police"],
        tomorrow.isoformat(),
    )
    assert (c["withheld"], c["call_sid"], c["staff"]["id"]) == (False, False, site.id("phone"))
    assert c["note"] == "落ち着いて話せた" and c["contact_alias"].startswith("相談者-")
    due = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, tzinfo=TOKYO)
    assert body["callback"]["status"] == "retry"
    assert datetime.fromisoformat(body["callback"]["at"]) == due
    status, listed = await call(phone, "GET", f"{site.url}/api/callbacks")
    assert status == 200
    (cb,) = listed["callbacks"]
    assert (cb["conversation"], cb["status"], cb["tries"], cb["callable_now"]) == (
        c["conversation"],
        "queued",
        0,
        False,
    )
    assert datetime.fromisoformat(cb["due_at"]) == due
    assert datetime.fromisoformat(cb["next_allowed"]) == due
    assert cb["window"] is None and cb["discretion"] is False and cb["assignee"] is None
    status, mine = await call(phone, "GET", f"{site.url}/api/calls?mine=1")
    assert status == 200 and [m["id"] for m in mine["calls"]] == [c["id"]]
    no_number(listed)


@pytest.mark.both_stores
async def test_a_callback_worked_retries_in_her_window_then_closes(
    site: Site, phone: aiohttp.ClientSession, boss: aiohttp.ClientSession, sato: Any
) -> None:
    await everyone_away(site, boss)
    (chat,) = await seed(site, now_inbound("a@example.jp", body="電話してほしいです"))
    window = {"everyday": ["12:00-13:00"]}
    status, asked = await call(
        boss,
        "POST",
        f"{site.url}/api/conversations/{chat}/callback",
        {"number": NUMBER, "window": window, "note": "昼休みなら話せる"},
    )
    assert status == 201, asked
    no_number(asked)
    conv = asked["conversation"]
    assert asked["created"] is True and "other_contact" not in asked
    (cb,) = (await call(phone, "GET", f"{site.url}/api/callbacks"))[1]["callbacks"]
    assert cb["window"] == window and cb["conversation"] == conv and cb["tries"] == 0
    allowed = datetime.fromisoformat(cb["next_allowed"]).astimezone(TOKYO)
    assert 12 <= allowed.hour < 13
    now = datetime.now(UTC)
    for n in (1, 2):
        status, body = await log(
            site,
            phone,
            direction="outbound",
            number=None,
            outcome="no_answer",
            conversation=conv,
            started_at=(now + timedelta(minutes=n)).isoformat(),
            note="",
        )
        assert status == 201, body
        assert body["callback"]["status"] == "retry"
        at = datetime.fromisoformat(body["callback"]["at"]).astimezone(TOKYO)
        assert 12 <= at.hour < 13 and at > now  # only inside the window she allowed
        (cb,) = (await call(phone, "GET", f"{site.url}/api/callbacks"))[1]["callbacks"]
        assert (cb["tries"], cb["status"]) == (n, "queued")
        assert datetime.fromisoformat(cb["due_at"]) == datetime.fromisoformat(
            body["callback"]["at"]
        )
    status, body = await log(
        site,
        phone,
        direction="outbound",
        number=None,
        outcome="no_answer",
        conversation=conv,
        started_at=(now + timedelta(minutes=3)).isoformat(),
    )
    assert status == 201
    assert body["callback"] == {"status": "closed", "reason": "tries_used", "outcome": None}
    assert (await call(phone, "GET", f"{site.url}/api/callbacks"))[1]["callbacks"] == []
    closed = await site.store.get_conversation(conv)
    assert closed.outcome == "callback_tries_used"
    # her timeline, from the web chat: the phone conversation with its calls, no notes
    status, timeline = await call(boss, "GET", f"{site.url}/api/conversations/{chat}/timeline")
    assert status == 200
    (phone_conv,) = [t for t in timeline["conversations"] if t["channel"] == "phone"]
    assert [c["outcome"] for c in phone_conv["calls"]] == ["no_answer"] * 3
    assert all("note" not in c for c in phone_conv["calls"])
    no_number(timeline)
    url = f"{site.url}/api/conversations/{chat}/timeline/{conv}/messages"
    status, read = await call(boss, "GET", url)
    assert status == 200 and [c["direction"] for c in read["calls"]] == ["outbound"] * 3
    assert [m["body"] for m in read["messages"]] == ["昼休みなら話せる"]


async def test_reaching_her_closes_the_callback(
    site: Site, phone: aiohttp.ClientSession, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (chat,) = await seed(site, now_inbound("b@example.jp"))
    status, asked = await call(
        boss, "POST", f"{site.url}/api/conversations/{chat}/callback", {"number": NUMBER}
    )
    assert status == 201
    status, body = await log(
        site, phone, direction="outbound", number=None, conversation=asked["conversation"]
    )
    assert status == 201
    assert body["callback"] == {"status": "closed", "reason": "reached", "outcome": "reached"}
    conv = await site.store.get_conversation(asked["conversation"])
    assert (conv.channel, conv.status.value, conv.outcome) == (
        ChannelKind.PHONE,
        "closed",
        "reached",
    )


async def test_who_may_do_what(
    site: Site, phone: aiohttp.ClientSession, boss: aiohttp.ClientSession, sato: Any
) -> None:
    await everyone_away(site, boss)
    assert (await log(site, sato))[0] == 403
    assert (await call(sato, "GET", f"{site.url}/api/calls"))[0] == 403
    assert (await call(sato, "GET", f"{site.url}/api/callbacks"))[0] == 403
    status, settings = await call(sato, "GET", f"{site.url}/api/phone/settings")
    assert status == 200 and settings["voice"] is False
    assert {"id": "police", "ja": "警察", "en": "Police"} in settings["referrals"]
    assert {"id": "no_answer", "ja": "応答なし", "en": "No answer", "reached": False} in settings[
        "outcomes"
    ]
    async with await sign_in(site.url, "admin") as admin:
        assert (await call(admin, "GET", f"{site.url}/api/phone/settings"))[0] == 403
        assert (await log(site, admin))[0] == 403
    # supervisors log calls too, and read everyone's
    assert (await log(site, boss, withheld=True, number=None))[0] == 201
    assert (await log(site, phone, withheld=True, number=None))[0] == 201
    _, mine = await call(phone, "GET", f"{site.url}/api/calls?mine=1")
    _, every = await call(boss, "GET", f"{site.url}/api/calls")
    _, bosses = await call(boss, "GET", f"{site.url}/api/calls?mine=1")
    assert (len(mine["calls"]), len(every["calls"]), len(bosses["calls"])) == (1, 2, 1)
    # a callback request: a counselor only on her own conversation
    (chat,) = await seed(site, now_inbound("c@example.jp"))
    url = f"{site.url}/api/conversations/{chat}/callback"
    assert (await call(sato, "POST", url, {"number": NUMBER}))[0] == 403
    assign = f"{site.url}/api/conversations/{chat}/assign"
    assert (await call(boss, "POST", assign, {"user_id": site.id("sato")}))[0] == 200
    status, asked = await call(sato, "POST", url, {"number": NUMBER, "window": None})
    assert status == 201, asked
    # phone staff see phone conversations only: the chat is not theirs to see
    assert (await call(phone, "POST", url, {"number": NUMBER}))[0] == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"started_at": "2026-12-01T10:00:00"}, "started_at"),  # no offset
        ({"started_at": "yesterday"}, "started_at"),
        ({"duration_s": -1}, "duration_s"),
        ({"duration_s": 86401}, "duration_s"),
        ({"duration_s": "60"}, "duration_s"),
        ({"outcome": "great"}, "outcome"),
        ({"note": "あ" * 2001}, "note"),
        ({"referrals": ["nowhere"]}, "referrals"),
        ({"referrals": "police"}, "referrals"),
        ({"follow_up": "2026-13-01"}, "follow_up"),
        ({"follow_up": "2001-01-01"}, "follow_up"),
        ({"number": "090-1234"}, "number"),
        ({"number": None}, "number"),
        ({"withheld": True}, "withheld"),  # and a number: not both
        ({"withheld": "yes"}, "withheld"),
        ({"conversation": "x"}, "conversation"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    site: Site, phone: aiohttp.ClientSession, change: dict[str, Any], field: str
) -> None:
    status, body = await log(site, phone, **change)
    assert (status, body["error"]["field"]) == (400, field), body


async def test_a_bad_callback_request_names_the_field(
    site: Site, boss: aiohttp.ClientSession
) -> None:
    (chat,) = await seed(site, now_inbound("d@example.jp"))
    url = f"{site.url}/api/conversations/{chat}/callback"
    for body, field in [
        ({}, "number"),
        ({"number": "12"}, "number"),
        ({"number": NUMBER, "window": {"weekdays": ["25:00-26:00"]}}, "window"),
        ({"number": NUMBER, "window": {"someday": ["12:00-13:00"]}}, "window"),
        ({"number": NUMBER, "window": "noon"}, "window"),
        ({"number": NUMBER, "note": "x" * 2001}, "note"),
    ]:
        status, answer = await call(boss, "POST", url, body)
        assert (status, answer["error"]["field"]) == (400, field), answer
        no_number(answer)


async def test_the_number_is_in_no_answer_and_no_log_line(
    site: Site,
    phone: aiohttp.ClientSession,
    boss: aiohttp.ClientSession,
    captured_logs: io.StringIO,
) -> None:
    await everyone_away(site, boss)
    (chat,) = await seed(site, now_inbound("e@example.jp"))
    url = f"{site.url}/api/conversations/{chat}/callback"
    status, asked = await call(boss, "POST", url, {"number": NUMBER})
    assert status == 201
    status, _ = await log(site, phone, conversation=asked["conversation"], number=NUMBER)
    assert status == 201
    status, _ = await log(site, phone, number="+81 90 1234 5678", outcome="busy")
    assert status == 201
    await log(site, phone, number=NUMBER + "0000000")  # a 400, without the number
    for path in ("/api/calls", "/api/callbacks", f"/api/conversations/{chat}/timeline"):
        no_number((await call(boss, "GET", site.url + path))[1])
    logged = captured_logs.getvalue()
    assert "call_logged" in logged  # the log does hear of calls, by id
    no_number(logged)
    assert E164 not in logged


async def test_the_list_puts_who_may_be_called_now_first_and_shows_her_discretion(
    site: Site, phone: aiohttp.ClientSession, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    later, now_ok = await seed(site, now_inbound("f@example.jp"), now_inbound("g@example.jp"))
    hour = datetime.now(TOKYO).hour
    start, end = (hour + 2) % 24, (hour + 3) % 24 or 24  # a window ends at 24:00, not 00:00
    closed_now = {"everyday": [f"{start:02d}:00-{end:02d}:00"]}
    discreet = f"{site.url}/api/conversations/{later}/discretion"
    assert (await call(boss, "POST", discreet, {"discretion": True}))[0] == 200
    first = f"{site.url}/api/conversations/{later}/callback"
    status, a = await call(boss, "POST", first, {"number": NUMBER, "window": closed_now})
    assert status == 201, a
    second = f"{site.url}/api/conversations/{now_ok}/callback"
    status, b = await call(boss, "POST", second, {"number": "03-1234-0000", "window": None})
    assert status == 201, b
    _, listed = await call(phone, "GET", f"{site.url}/api/callbacks")
    assert [c["conversation"] for c in listed["callbacks"]] == [
        b["conversation"],
        a["conversation"],
    ]
    ok, wait = listed["callbacks"]
    assert (ok["callable_now"], ok["discretion"], ok["window"]) == (True, False, None)
    assert (wait["callable_now"], wait["discretion"], wait["window"]) == (False, True, closed_now)
    assert datetime.fromisoformat(wait["next_allowed"]).astimezone(TOKYO).hour == (hour + 2) % 24


async def test_a_number_known_as_another_consulter_is_refused_and_not_merged(
    site: Site, phone: aiohttp.ClientSession, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    status, _ = await log(site, phone)  # a call by hand: her number, a contact of its own
    assert status == 201
    (chat,) = await seed(site, now_inbound("h@example.jp"))
    url = f"{site.url}/api/conversations/{chat}/callback"
    before = await site.store.last_event_id()
    status, body = await call(boss, "POST", url, {"number": NUMBER, "note": "メモ"})
    assert (status, body["error"]["code"]) == (409, "number_of_other_consulter")
    assert "supervisor" in body["error"]["message"]
    no_number(body)
    # nothing changed, nothing filed there (the chat's own auto-reply may be queued and sent
    # meanwhile: the intake's, not this request's)
    since = [e for e in await site.store.list_events() if e.id > before]
    assert [e.kind for e in since if not e.kind.startswith(("auto_reply", "reply_"))] == []
    assert await site.store.open_callbacks(None) == []


async def test_phone_staff_may_not_work_a_callback_assigned_to_someone_else(
    site: Site, phone: aiohttp.ClientSession, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (chat,) = await seed(site, now_inbound("k@example.jp"))
    url = f"{site.url}/api/conversations/{chat}/callback"
    status, asked = await call(boss, "POST", url, {"number": NUMBER})
    assert status == 201
    other = await site.store.create_user(
        new_user("phone2", roles=frozenset({Role.PHONE_STAFF})), now=datetime.now(UTC)
    )
    conv_id = asked["conversation"]
    await site.store.assign(
        conv_id, other.id, actor_id=other.id, now=datetime.now(UTC), capacity=None
    )
    status, body = await log(
        site, phone, number=None, conversation=conv_id, direction="outbound", outcome="no_answer"
    )
    assert (status, body["error"]["code"]) == (409, "callback_taken")
    assert await site.store.calls_of(conv_id) == []
    # a supervisor may log a try on it
    status, body = await log(
        site, boss, number=None, conversation=conv_id, direction="outbound", outcome="no_answer"
    )
    assert status == 201 and body["callback"]["status"] == "retry"


async def test_refusals_on_what_a_call_may_work(
    site: Site, phone: aiohttp.ClientSession, boss: aiohttp.ClientSession
) -> None:
    await everyone_away(site, boss)
    (chat,) = await seed(site, now_inbound("i@example.jp"))
    status, body = await log(site, boss, number=None, conversation=chat)
    assert (status, body["error"]["code"]) == (409, "conflict")  # not a phone conversation
    status, body = await log(site, phone, number=None, conversation=10**9)
    assert status == 404
    # withheld with a follow-up date: nothing to call back, the date is kept on the call
    day = (datetime.now(TOKYO) + timedelta(days=2)).date().isoformat()
    status, body = await log(site, phone, number=None, withheld=True, follow_up=day)
    assert status == 201 and body["callback"] is None
    assert (body["call"]["follow_up"], body["call"]["conversation"]) == (day, None)
    for bad in ("0", "101", "x"):
        status, body = await call(phone, "GET", f"{site.url}/api/calls?limit={bad}")
        assert (status, body["error"]["field"]) == (400, "limit")
