"""What the reviewer found in Twilio Voice, on a real server: staff are rung only on the desk's
own phones; the bridge waits for a key press and connects her once, for its own live call; the
desk's phones see the program's number; a hung Twilio fails the call in time; status callbacks
match the call out by id even before its sid is stored; an answered call whose end came first
is not left a callback; and a store failure still answers her call with TwiML."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import aiohttp
import pytest

from inbox.core.model import ConversationId, ConversationStatus
from inbox.core.phone import Call, CallDirection
from tests.sms.outbound import call
from tests.voice.conftest import (
    BRIDGE_PATH,
    DESK,
    DIALED_PATH,
    HER,
    MISSED,
    PROGRAM,
    STATUS_PATH,
    VOICE_PATH,
    VoiceSite,
    dial_end,
    incoming,
    missed_call,
    private,
    status,
)

HER_SID = "CA" + "d" * 32
STAFF_PHONES = {"staff_phones": ("携帯=090-5555-6666", "受付=+815099998888")}


async def dial(
    voice_site: VoiceSite, session: aiohttp.ClientSession, conv: int, staff_number: object = 0
) -> tuple[int, dict[str, Any]]:
    url = f"{voice_site.url}/api/conversations/{conv}/dial"
    return await call(session, "POST", url, {"staff_number": staff_number})


async def call_out(voice_site: VoiceSite) -> Call:
    (found,) = [
        c
        for c in await voice_site.site.store.recent_calls(None)
        if c.direction is CallDirection.OUTBOUND
    ]
    return found


@pytest.mark.parametrize("voice_settings", [STAFF_PHONES])
async def test_staff_are_rung_only_on_the_desk_phones_the_settings_list(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    code, settings = await call(phone, "GET", f"{voice_site.url}/api/phone/settings")
    assert code == 200
    assert settings["desk_phones"] == [
        {"id": 0, "label": "携帯", "number": "\u2022" * 4 + "6666"},
        {"id": 1, "label": "受付", "number": "\u2022" * 4 + "8888"},
    ]
    assert "5555" not in json.dumps(settings) and "9999" not in json.dumps(settings)
    conv = await missed_call(voice_site, HER_SID)
    code, answer = await dial(voice_site, phone, conv, 1)
    assert code == 201, answer
    code, answer = await dial(voice_site, phone, conv, "携帯")
    assert code == 201, answer
    code, answer = await dial(voice_site, phone, conv, "+819055556666")
    assert code == 201, answer
    rung = [r.form["To"] for r in voice_site.fake.requests]
    assert rung == ["+815099998888", "+819055556666", "+819055556666"]
    code, answer = await dial(voice_site, phone, conv, "+819011112222")  # anyone else: no
    assert code == 400 and answer["error"]["field"] == "staff_number"
    assert len(voice_site.fake.requests) == 3


async def test_without_staff_phones_the_desk_phones_are_forward_to(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    code, settings = await call(phone, "GET", f"{voice_site.url}/api/phone/settings")
    assert code == 200
    assert [(p["id"], p["number"][-4:]) for p in settings["desk_phones"]] == [
        (0, DESK[0][-4:]),
        (1, DESK[1][-4:]),
    ]
    code, answer = await dial(voice_site, phone, await missed_call(voice_site, HER_SID), 1)
    assert code == 201, answer
    assert voice_site.fake.requests[0].form["To"] == DESK[1]


@pytest.mark.both_stores
async def test_the_bridge_asks_for_a_key_and_connects_her_once_for_its_own_call(
    voice_site: VoiceSite, phone: aiohttp.ClientSession, captured_logs: io.StringIO
) -> None:
    conv = await missed_call(voice_site, HER_SID)
    code, answer = await dial(voice_site, phone, conv)
    assert code == 201, answer
    call_id = answer["call"]
    sid = voice_site.fake.sids[0]
    leg = [("CallSid", sid), ("From", PROGRAM), ("To", DESK[0])]
    connect = f"{BRIDGE_PATH}?call={call_id}&step=connect"

    # a voicemail answered: nothing pressed, or another key: she is never dialed
    for fields in (leg, [*leg, ("Digits", "2")]):
        code, twiml = await voice_site.post(connect, fields)
        assert code == 200 and "<Dial" not in twiml and HER not in twiml
        assert twiml.endswith("<Hangup /></Response>")
    # another call's sid (a replayed request of another call): refused at both steps
    other = [("CallSid", "CA" + "e" * 32), ("From", PROGRAM), ("To", DESK[0])]
    for path, fields in (
        (f"{BRIDGE_PATH}?call={call_id}", other),
        (connect, [*other, ("Digits", "1")]),
    ):
        code, twiml = await voice_site.post(path, fields)
        assert code == 200 and "<Dial" not in twiml and "<Gather" not in twiml
        assert HER not in twiml
    code, twiml = await voice_site.post(connect, [*leg, ("Digits", "1")])
    assert code == 200 and f"<Number>{HER}</Number>" in twiml
    # the same signed request again: no second <Dial>, her number not given out again
    code, twiml = await voice_site.post(connect, [*leg, ("Digits", "1")])
    assert code == 200 and "<Dial" not in twiml and HER not in twiml
    code, twiml = await voice_site.post(f"{BRIDGE_PATH}?call={call_id}", leg)
    assert code == 200 and "<Gather" not in twiml
    private(captured_logs)


async def test_the_bridge_refuses_a_call_that_ended(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    code, answer = await dial(voice_site, phone, await missed_call(voice_site, HER_SID))
    assert code == 201, answer
    call_id, sid = answer["call"], voice_site.fake.sids[0]
    leg = [("CallSid", sid), ("From", PROGRAM), ("To", DESK[0])]
    await voice_site.post(f"{STATUS_PATH}?call={call_id}", [*leg, ("CallStatus", "completed")])
    code, twiml = await voice_site.post(f"{BRIDGE_PATH}?call={call_id}", leg)
    assert code == 200 and "<Gather" not in twiml
    connect = f"{BRIDGE_PATH}?call={call_id}&step=connect"
    code, twiml = await voice_site.post(connect, [*leg, ("Digits", "1")])
    assert code == 200 and "<Dial" not in twiml and HER not in twiml


@pytest.mark.parametrize("voice_settings", [{"show_caller_number": True}])
async def test_show_caller_number_passes_her_number_to_the_desk_phones(
    voice_site: VoiceSite,
) -> None:
    code, twiml = await voice_site.post(VOICE_PATH, incoming(HER_SID))
    assert code == 200 and "<Dial " in twiml and "callerId" not in twiml


@pytest.mark.parametrize("voice_settings", [{"api_timeout_s": 0.2}])
async def test_a_hung_twilio_fails_the_call_in_time(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    conv = await missed_call(voice_site, HER_SID)
    release = voice_site.fake.hold_calls()
    try:
        code, answer = await dial(voice_site, phone, conv)
    finally:
        release.set()
    assert code == 504 and answer["error"]["code"] == "call_timeout"
    failed = await call_out(voice_site)
    assert (failed.call_status, failed.call_sid) == ("failed", None)


@pytest.mark.both_stores
async def test_a_status_callback_before_the_sid_is_stored_finds_its_call(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    conv = await missed_call(voice_site, HER_SID)
    sid = "CA" + "f" * 32
    voice_site.fake.next_call_sid = sid
    release = voice_site.fake.hold_calls()
    dialing = asyncio.create_task(dial(voice_site, phone, conv))
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while not voice_site.fake.requests:  # Twilio has the request, not answered yet
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        started = await call_out(voice_site)
        assert started.call_sid is None
        leg = [("CallSid", sid), ("From", PROGRAM), ("To", DESK[0])]
        path = f"{STATUS_PATH}?call={started.id}"
        code, _ = await voice_site.post(path, [*leg, ("CallStatus", "ringing")])
        assert code == 200
    finally:
        release.set()
    code, answer = await dialing
    assert code == 201, answer
    placed = await call_out(voice_site)
    assert (placed.call_sid, placed.call_status) == (sid, "ringing")


@pytest.mark.both_stores
@pytest.mark.parametrize("end_first", [True, False])
async def test_an_answered_call_she_hung_up_first_is_no_callback(
    voice_site: VoiceSite, end_first: bool
) -> None:
    await voice_site.post(VOICE_PATH, incoming(HER_SID))
    end = (STATUS_PATH, status(HER_SID, "completed", 70))
    result = (DIALED_PATH, dial_end(HER_SID, "completed", 65))
    for path, fields in (end, result) if end_first else (result, end):
        code, twiml = await voice_site.post(path, fields)
        assert code == 200 and MISSED not in twiml
    (c,) = await voice_site.site.store.recent_calls(None)
    assert (c.call_status, c.duration_s) == ("answered", 70)
    assert await voice_site.site.store.open_callbacks(None) == []
    assert c.conversation_id is not None
    conv = await voice_site.site.store.get_conversation(ConversationId(c.conversation_id))
    assert conv.status is ConversationStatus.CLOSED
    withdrawn = await voice_site.events("callback_withdrawn")
    assert len(withdrawn) == (1 if end_first else 0)


@pytest.mark.parametrize("voice_settings", [{}, {"forward_to": ()}])
async def test_a_store_failure_still_answers_her_call(
    voice_site: VoiceSite,
    monkeypatch: pytest.MonkeyPatch,
    captured_logs: io.StringIO,
    voice_settings: dict[str, Any],
) -> None:
    async def call_arrived(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"database down while storing {HER}")

    async def advance_call(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"database down while storing {HER}")

    monkeypatch.setattr(type(voice_site.site.store), "call_arrived", call_arrived)
    code, twiml = await voice_site.post(VOICE_PATH, incoming(HER_SID))
    assert code == 200  # not 5xx: she would hear Twilio's English "application error"
    if voice_settings:
        assert f'<Say language="ja-JP">{MISSED}</Say><Hangup /></Response>' in twiml
    else:
        assert "<Dial " in twiml and f"<Number>{DESK[0]}</Number>" in twiml
    # nobody answered, and the dial result is not stored either: she hears the neutral words
    monkeypatch.setattr(type(voice_site.site.store), "advance_call", advance_call)
    code, twiml = await voice_site.post(DIALED_PATH, dial_end(HER_SID, "no-answer"))
    assert code == 200 and f'<Say language="ja-JP">{MISSED}</Say><Hangup /></Response>' in twiml
    logged = captured_logs.getvalue()
    assert "call_store_failed" in logged and "RuntimeError" in logged
    private(logged)
