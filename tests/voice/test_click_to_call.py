"""Click-to-call on a real server: Twilio (the local stand-in) is asked to ring the staff
member's own phone from the program's number; the bridge TwiML it then fetches holds her
number, while no answer to staff and no log line ever does. Her call window is honoured, and
the outcome form closes the callback by the retry rule."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from inbox.core.model import ConversationId, ConversationStatus
from routing.hours import TOKYO
from tests.sms.outbound import call, sms_conversation
from tests.voice.conftest import (
    BRIDGE_PATH,
    DIALED_PATH,
    HER,
    HER_NATIONAL,
    PROGRAM,
    PUBLIC_URL,
    SID,
    STATUS_PATH,
    VOICE_PATH,
    VoiceSite,
    dial_end,
    incoming,
    missed_call,
    private,
)
from tests.web.conftest import make_config, served_site, sign_in

HER_SID = "CA" + "b" * 32
STAFF_PHONE = "090-5555-6666"
STAFF_E164 = "+819055556666"
DESK_PHONE = 0  # the id of STAFF_PHONE in GET /api/phone/settings desk_phones
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@pytest.fixture
def voice_settings() -> dict[str, object]:
    """The desk's own phones click-to-call may ring: staff's, and the reception's."""
    return {"staff_phones": (f"携帯={STAFF_PHONE}", "+815099998888")}


async def dial(
    voice_site: VoiceSite, session: aiohttp.ClientSession, conv: int, number: object = DESK_PHONE
) -> tuple[int, str]:
    url = f"{voice_site.url}/api/conversations/{conv}/dial"
    async with session.post(url, json={"staff_number": number}) as r:
        return r.status, await r.text()


@pytest.mark.both_stores
async def test_click_to_call_rings_staff_then_bridges_her_without_showing_the_number(
    voice_site: VoiceSite, phone: aiohttp.ClientSession, captured_logs: io.StringIO
) -> None:
    conv = await missed_call(voice_site, HER_SID)
    code, answer = await dial(voice_site, phone, conv)
    assert code == 201, answer
    call_id = int(json.loads(answer)["call"])
    private(answer)

    (seen,) = voice_site.fake.requests
    assert seen.path == f"/2010-04-01/Accounts/{SID}/Calls.json"
    assert (seen.form["To"], seen.form["From"]) == (STAFF_E164, PROGRAM)
    bridge = urlsplit(seen.form["Url"])
    assert f"{bridge.scheme}://{bridge.netloc}{bridge.path}" == PUBLIC_URL + BRIDGE_PATH
    assert parse_qs(bridge.query) == {"call": [str(call_id)]}
    assert seen.form["StatusCallback"] == f"{PUBLIC_URL}{STATUS_PATH}?call={call_id}"
    events = ["initiated", "ringing", "answered", "completed"]
    assert seen.lists["StatusCallbackEvent"] == events
    assert HER not in str(seen.form)
    call_sid = voice_site.fake.sids[0]

    # staff picked up her own phone: Twilio fetches the bridge, which asks her to press 1
    staff_leg = [("CallSid", call_sid), ("From", PROGRAM), ("To", STAFF_E164)]
    code, twiml = await voice_site.post(f"{BRIDGE_PATH}?call={call_id}", staff_leg)
    assert code == 200 and HER not in twiml and "<Dial" not in twiml
    connect = f"{BRIDGE_PATH}?call={call_id}&step=connect"
    assert f'<Gather action="{PUBLIC_URL}{connect.replace("&", "&amp;")}"' in twiml
    assert 'numDigits="1"' in twiml and "1を押してください" in twiml
    # she pressed 1: now the bridge dials her
    code, twiml = await voice_site.post(connect, [*staff_leg, ("Digits", "1")])
    assert code == 200
    dialed = f"{PUBLIC_URL}{DIALED_PATH}?call={call_id}"
    assert f'<Dial action="{dialed}" callerId="{PROGRAM}" method="POST">' in twiml
    assert f"<Number>{HER}</Number>" in twiml

    # the phone screen polls the call until it ended
    async def shown() -> dict[str, object]:
        code, data = await call(phone, "GET", f"{voice_site.url}/api/calls/{call_id}")
        assert code == 200, data
        private(str(data))
        return dict(data["call"])

    assert (await shown())["ended"] is False
    await voice_site.post(STATUS_PATH, [*staff_leg, ("CallStatus", "in-progress")])
    await voice_site.post(
        f"{DIALED_PATH}?call={call_id}", [*staff_leg, ("DialCallStatus", "completed")]
    )
    await voice_site.post(
        STATUS_PATH, [*staff_leg, ("CallStatus", "completed"), ("CallDuration", "80")]
    )
    ended = await shown()
    assert (ended["ended"], ended["status"], ended["duration_s"], ended["outcome"]) == (
        True,
        "answered",
        80,
        None,
    )
    assert ended["conversation"] == conv and ended["direction"] == "outbound"

    # the outcome form: she was reached, the callback closes
    url = f"{voice_site.url}/api/calls/{call_id}"
    body = {"outcome": "reached", "note": "話せた", "referrals": ["police"], "follow_up": None}
    code, data = await call(phone, "PATCH", url, body)
    assert code == 200, data
    assert data["callback"] == {"status": "closed", "reason": "reached", "outcome": "reached"}
    closed = await voice_site.site.store.get_conversation(ConversationId(conv))
    assert closed.status is ConversationStatus.CLOSED
    code, again = await call(phone, "PATCH", url, body)
    assert code == 409, again
    private(captured_logs)
    assert "call_bridged" in captured_logs.getvalue()


async def test_outside_her_window_the_desk_does_not_call(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    conv = await missed_call(voice_site, HER_SID)
    # her window: one day that is not today (in Tokyo), so now is outside it
    tomorrow = DAYS[(datetime.now(TOKYO) + timedelta(days=1)).weekday()]
    url = f"{voice_site.url}/api/conversations/{conv}/callback"
    window = {tomorrow: ["12:00-13:00"]}
    code, data = await call(phone, "POST", url, {"number": HER_NATIONAL, "window": window})
    assert code == 201, data
    code, answer = await dial(voice_site, phone, conv)
    assert code == 409 and '"outside_call_window"' in answer
    assert voice_site.fake.requests == []


async def test_what_the_dial_api_refuses(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    conv = await missed_call(voice_site, HER_SID)
    # only the desk's own phones: never a number the request brings, nor an unknown id
    for wrong in ("12", "090-7777-8888", "+819012345678", 2, -1, True, None, "携"):
        code, answer = await dial(voice_site, phone, conv, number=wrong)
        assert code == 400 and '"field": "staff_number"' in answer, wrong
    sms = await sms_conversation(voice_site.site)
    async with await sign_in(voice_site.url, "boss") as boss:
        code, answer = await dial(voice_site, boss, sms)
        assert code == 409 and '"no_phone_number"' in answer
    async with await sign_in(voice_site.url, "sato") as counselor:
        code, _ = await dial(voice_site, counselor, conv)
        assert code in (403, 404)
    assert voice_site.fake.requests == []


async def test_twilio_refusing_the_call_is_logged_as_failed(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    conv = await missed_call(voice_site, HER_SID)
    voice_site.fake.fail_next(400, 21215)
    code, answer = await dial(voice_site, phone, conv)
    assert code == 502 and '"call_failed"' in answer
    (failed,) = [c for c in await voice_site.site.store.recent_calls(None) if c.staff_id]
    assert failed.call_status == "failed"


async def test_without_voice_the_dial_api_says_so(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    async with served_site(cfg) as site:
        conv = await sms_conversation(site)
        async with await sign_in(site.url, "boss") as boss:
            url = f"{site.url}/api/conversations/{conv}/dial"
            code, data = await call(boss, "POST", url, {"staff_number": STAFF_PHONE})
            assert code == 409 and data["error"]["code"] == "voice_not_configured"
            code, data = await call(boss, "GET", f"{site.url}/api/phone/settings")
            assert data["voice"] is False


@pytest.mark.both_stores
async def test_dialing_claims_the_callback_so_nobody_else_is_offered_it(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    site = voice_site.site
    async with await sign_in(site.url, "boss") as boss:  # off shift: the router offers her none
        url = f"{site.url}/api/counselors/{site.id('phone')}"
        code, data = await call(boss, "PATCH", url, {"presence": "offline"})
        assert code == 200, data
    conv = await missed_call(voice_site, HER_SID)
    store = site.store
    queued = await store.get_conversation(ConversationId(conv))
    assert (queued.status, queued.assignee_id) == (ConversationStatus.QUEUED, None)
    code, answer = await dial(voice_site, phone, conv)
    assert code == 201, answer
    claimed = await store.get_conversation(ConversationId(conv))
    staff = site.id("phone")
    assert (claimed.status, claimed.assignee_id) == (ConversationStatus.ASSIGNED, staff)
    (assigned,) = await voice_site.events("conversation_assigned")
    assert assigned.actor_id == staff and assigned.conversation_id == conv
    # hers now: her second call on it is fine, a supervisor's is refused with a clear code
    code, answer = await dial(voice_site, phone, conv)
    assert code == 201, answer
    async with await sign_in(voice_site.url, "boss") as boss:
        code, answer = await dial(voice_site, boss, conv)
    assert code == 409 and '"callback_taken"' in answer
    assert len(voice_site.fake.requests) == 2
    assert len(await voice_site.events("conversation_assigned")) == 1


@pytest.mark.both_stores
async def test_answered_calls_in_wait_for_an_outcome(
    voice_site: VoiceSite, phone: aiohttp.ClientSession
) -> None:
    await voice_site.post(VOICE_PATH, incoming(HER_SID))
    await voice_site.post(DIALED_PATH, dial_end(HER_SID, "completed", 95))
    missed_sid = "CA" + "c" * 32  # a missed one is not waiting: its callback is the work
    await voice_site.post(VOICE_PATH, incoming(missed_sid))
    await voice_site.post(DIALED_PATH, dial_end(missed_sid, "no-answer"))
    url = f"{voice_site.url}/api/calls?open=1"
    code, data = await call(phone, "GET", url)
    assert code == 200, data
    private(json.dumps(data))
    (waiting,) = data["calls"]
    assert (waiting["direction"], waiting["status"], waiting["ended"], waiting["outcome"]) == (
        "inbound",
        "answered",
        True,
        None,
    )
    assert waiting["staff"] is None and waiting["duration_s"] == 95
    async with await sign_in(voice_site.url, "boss") as boss:
        code, seen = await call(boss, "GET", url)
        assert code == 200 and [c["id"] for c in seen["calls"]] == [waiting["id"]]
    async with await sign_in(voice_site.url, "sato") as counselor:
        code, _ = await call(counselor, "GET", url)
        assert code == 403
    body: dict[str, object] = {"outcome": "reached", "note": "", "referrals": [], "follow_up": None}
    code, done = await call(phone, "PATCH", f"{voice_site.url}/api/calls/{waiting['id']}", body)
    assert code == 200, done
    assert done["call"]["staff"]["name"]
    code, data = await call(phone, "GET", url)
    assert code == 200 and data["calls"] == []
