"""A consulter's call through Twilio Voice on a real server: the desk's phones ring, an answered
call is logged in her timeline with its duration, a missed one becomes a callback (never for a
withheld number), a forged request stores nothing, a redelivered CallSid one row, and status
callbacks out of order change nothing. No number in the log."""

from __future__ import annotations

import io
from typing import Any

import pytest

from inbox.core.model import ChannelKind, ConversationId, ConversationStatus
from inbox.core.phone import Call, CallDirection
from tests.voice.conftest import (
    DESK,
    DIALED_PATH,
    MISSED,
    PROGRAM,
    PUBLIC_URL,
    STATUS_PATH,
    VOICE_PATH,
    VoiceSite,
    dial_end,
    incoming,
    private,
    status,
)

SID = "CA" + "a" * 32
HANGUP = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup /></Response>'


async def only_call(voice_site: VoiceSite) -> Call:
    (found,) = await voice_site.site.store.recent_calls(None)
    return found


def says_missed(twiml: str) -> bool:
    return f'<Say language="ja-JP">{MISSED}</Say><Hangup /></Response>' in twiml


@pytest.mark.both_stores
async def test_an_answered_call_rings_the_desk_and_is_logged_in_her_timeline(
    voice_site: VoiceSite, captured_logs: io.StringIO
) -> None:
    code, twiml = await voice_site.post(VOICE_PATH, incoming(SID))
    assert code == 200
    dial = f'<Dial action="{PUBLIC_URL}{DIALED_PATH}" callerId="{PROGRAM}" method="POST" timeout'
    assert dial + '="25">' in twiml  # the desk's phones see the program's number, not hers
    assert "".join(f"<Number>{n}</Number>" for n in DESK) in twiml
    ringing = await only_call(voice_site)
    assert (ringing.direction, ringing.call_status, ringing.call_sid) == (
        CallDirection.INBOUND,
        "ringing",
        SID,
    )

    assert await voice_site.post(DIALED_PATH, dial_end(SID, "completed", 95)) == (200, HANGUP)
    assert (await voice_site.post(STATUS_PATH, status(SID, "completed", 104)))[0] == 200

    c = await only_call(voice_site)
    assert (c.call_status, c.duration_s, c.withheld) == ("answered", 104, False)
    assert c.conversation_id is not None
    conv = await voice_site.site.store.get_conversation(c.conversation_id)
    assert (conv.channel, conv.status) == (ChannelKind.PHONE, ConversationStatus.CLOSED)
    (logged,) = await voice_site.events("call_logged")
    assert logged.conversation_id == conv.id and logged.data["direction"] == "inbound"
    assert await voice_site.events("callback_requested") == []
    address = await voice_site.site.store.contact_address(ConversationId(conv.id))
    assert address.channel is ChannelKind.PHONE  # her number: on her phone identity alone
    logged_lines = captured_logs.getvalue()
    assert "call_arrived" in logged_lines and "call_status" in logged_lines
    private(logged_lines)


@pytest.mark.both_stores
async def test_a_missed_call_becomes_a_callback_and_she_hears_the_neutral_message(
    voice_site: VoiceSite, captured_logs: io.StringIO
) -> None:
    await voice_site.post(VOICE_PATH, incoming(SID))
    code, twiml = await voice_site.post(DIALED_PATH, dial_end(SID, "no-answer"))
    assert code == 200 and says_missed(twiml)
    await voice_site.post(STATUS_PATH, status(SID, "completed", 40))

    c = await only_call(voice_site)
    assert (c.call_status, c.duration_s) == ("missed", 40)
    (asked,) = await voice_site.events("callback_requested")
    assert asked.data["by"] == "missed_call" and asked.conversation_id == c.conversation_id
    conv = await voice_site.site.store.get_conversation(ConversationId(asked.conversation_id or 0))
    assert conv.channel is ChannelKind.PHONE and conv.status is not ConversationStatus.CLOSED
    assert len(await voice_site.events("call_logged")) == 1
    private(captured_logs)


@pytest.mark.parametrize("sender", ["anonymous", "Anonymous", "+266696687", "", "not a number"])
async def test_a_withheld_caller_is_logged_and_cannot_be_called_back(
    voice_site: VoiceSite, sender: str
) -> None:
    await voice_site.post(VOICE_PATH, incoming(SID, sender))
    code, twiml = await voice_site.post(DIALED_PATH, dial_end(SID, "busy", sender=sender))
    assert code == 200 and says_missed(twiml)
    c = await only_call(voice_site)
    assert (c.withheld, c.contact_id, c.conversation_id, c.call_status) == (
        True,
        None,
        None,
        "missed",
    )
    assert await voice_site.events("callback_requested") == []
    assert await voice_site.site.store.open_callbacks(None) == []


@pytest.mark.parametrize("path", [VOICE_PATH, DIALED_PATH, STATUS_PATH])
@pytest.mark.parametrize("how", [{"token": "f" * 32}, {"signature": ""}])
async def test_a_forged_request_is_refused_and_stores_nothing(
    voice_site: VoiceSite, captured_logs: io.StringIO, path: str, how: dict[str, Any]
) -> None:
    code, answer = await voice_site.post(path, dial_end(SID, "no-answer"), **how)
    assert code == 403 and '"code": "twilio_signature"' in answer
    assert await voice_site.site.store.recent_calls(None) == []
    assert await voice_site.events("call_started", "call_updated", "call_logged") == []
    assert "twilio_signature_refused" in captured_logs.getvalue()
    private(captured_logs)


@pytest.mark.both_stores
async def test_a_redelivered_call_sid_stores_one_call(voice_site: VoiceSite) -> None:
    first = await voice_site.post(VOICE_PATH, incoming(SID))
    again = await voice_site.post(VOICE_PATH, incoming(SID))
    assert first == again and first[0] == 200
    assert len(await voice_site.site.store.recent_calls(None)) == 1
    assert len(await voice_site.events("call_started")) == 1


@pytest.mark.both_stores
async def test_status_callbacks_out_of_order_never_go_back(voice_site: VoiceSite) -> None:
    await voice_site.post(VOICE_PATH, incoming(SID))
    await voice_site.post(STATUS_PATH, status(SID, "in-progress"))
    await voice_site.post(DIALED_PATH, dial_end(SID, "completed", 60))
    for late in ("ringing", "in-progress", "queued"):
        assert (await voice_site.post(STATUS_PATH, status(SID, late)))[0] == 200
    c = await only_call(voice_site)
    assert (c.call_status, c.duration_s) == ("answered", 60)
    # a status for a call that is not ours: answered 200, nothing stored
    assert (await voice_site.post(STATUS_PATH, status("CA" + "f" * 32, "completed", 3)))[0] == 200
    assert len(await voice_site.site.store.recent_calls(None)) == 1


async def test_a_call_that_ends_with_no_dial_result_counts_as_missed_once(
    voice_site: VoiceSite,
) -> None:
    """She hung up while the desk's phones rang: the status callback says so first."""
    await voice_site.post(VOICE_PATH, incoming(SID))
    await voice_site.post(STATUS_PATH, status(SID, "completed", 12))
    await voice_site.post(STATUS_PATH, status(SID, "completed", 12))  # Twilio's retry
    await voice_site.post(DIALED_PATH, dial_end(SID, "canceled"))
    c = await only_call(voice_site)
    assert (c.call_status, c.duration_s) == ("missed", 12)
    assert len(await voice_site.events("callback_requested")) == 1
    assert len(await voice_site.events("call_logged")) == 1


@pytest.mark.parametrize("voice_settings", [{"forward_to": ()}])
async def test_with_no_desk_phone_every_call_is_missed_at_once(voice_site: VoiceSite) -> None:
    code, twiml = await voice_site.post(VOICE_PATH, incoming(SID))
    assert code == 200 and says_missed(twiml) and "<Dial" not in twiml
    assert (await only_call(voice_site)).call_status == "missed"
    assert len(await voice_site.events("callback_requested")) == 1
