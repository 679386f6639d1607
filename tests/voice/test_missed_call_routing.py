"""A missed call becomes a callback in the one queue: phone staff's callback list shows it,
callable now, and the running router offers it to phone staff on shift (never to a counselor):
the server and router as in production."""

from __future__ import annotations

import pytest

from inbox.core.model import ConversationId
from tests.sms.outbound import call, until
from tests.voice.conftest import DIALED_PATH, VOICE_PATH, VoiceSite, dial_end, incoming
from tests.web.conftest import sign_in

SID = "CA" + "c" * 32


@pytest.mark.both_stores
async def test_a_missed_call_is_routed_to_phone_staff_on_shift(voice_site: VoiceSite) -> None:
    site = voice_site.site
    async with await sign_in(site.url, "boss") as boss:
        for name in ("sato", "suzuki"):  # no counselor on shift: none may take it anyway
            url = f"{site.url}/api/counselors/{site.id(name)}"
            code, data = await call(boss, "PATCH", url, {"presence": "offline"})
            assert code == 200, data
        async with await sign_in(site.url, "phone") as phone:
            await voice_site.post(VOICE_PATH, incoming(SID))
            await voice_site.post(DIALED_PATH, dial_end(SID, "no-answer"))
            (asked,) = await voice_site.events("callback_requested")
            conv_id = ConversationId(asked.conversation_id or 0)
            code, data = await call(phone, "GET", f"{site.url}/api/callbacks")
            assert code == 200, data
            (listed,) = data["callbacks"]
            assert listed["conversation"] == conv_id and listed["callable_now"] is True

            socket = await phone.ws_connect(site.url.replace("http", "ws", 1) + "/api/ws")
            try:
                url = f"{site.url}/api/counselors/{site.id('phone')}"
                code, data = await call(boss, "PATCH", url, {"presence": "available"})
                assert code == 200, data

                async def offered() -> int | None:
                    conv = await site.store.get_conversation(conv_id)
                    return conv.assignee_id

                assert await until(offered) == site.id("phone")
            finally:
                await socket.close()
