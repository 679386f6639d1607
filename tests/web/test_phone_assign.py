"""A supervisor's hand keeps the desks apart too: a call goes only to phone staff and a chat
only to counselors, through the real server, with a 409 that says why."""

from __future__ import annotations

from inbox.core.model import ChannelKind
from tests.web.conftest import Site, sign_in
from tests.web.test_supervision import call, everyone_away, now_inbound, seed


async def test_a_supervisor_assigns_calls_to_phone_staff_only(site: Site) -> None:
    async with await sign_in(site.url, "boss") as boss:
        await everyone_away(site, boss)  # the router leaves the queue as it is
        (p,) = await seed(site, now_inbound("+81312345678", channel=ChannelKind.PHONE))
        (q,) = await seed(site, now_inbound("a@example.jp"))

        def assign(conv: int, to: str) -> tuple[str, str, dict[str, int]]:
            url = f"{site.url}/api/conversations/{conv}/assign"
            return "POST", url, {"user_id": site.id(to)}

        status, body = await call(boss, *assign(p, "sato"))
        assert status == 409, body
        assert body["error"]["code"] == "conflict"
        assert "not phone staff" in body["error"]["message"]
        status, body = await call(boss, *assign(q, "phone"))
        assert status == 409 and "not a counselor" in body["error"]["message"]
        status, body = await call(boss, *assign(p, "phone"))
        assert status == 200 and body["conversation"]["assignee_id"] == site.id("phone"), body

        # moving work: each conversation that is not hers to take is reported, the rest move
        (p2,) = await seed(site, now_inbound("+81398765432", channel=ChannelKind.PHONE))
        move = {"conversation_ids": [q, p2], "to_user_id": site.id("phone")}
        status, body = await call(boss, "POST", f"{site.url}/api/conversations/move", move)
        assert status == 200, body
        assert body["moved"] == [p2]
        assert [(f["id"], f["error"]) for f in body["failed"]] == [(q, "conflict")]


async def test_phone_staff_take_a_call_from_the_queue_themselves(site: Site) -> None:
    async with (
        await sign_in(site.url, "boss") as boss,
        await sign_in(site.url, "phone") as phone,
        await sign_in(site.url, "sato") as sato,
    ):
        await everyone_away(site, boss)
        (p,) = await seed(site, now_inbound("+81312345678", channel=ChannelKind.PHONE))
        url = f"{site.url}/api/conversations/{p}/assign"
        status, body = await call(sato, "POST", url, {"user_id": site.id("sato")})
        assert status == 409 and "not phone staff" in body["error"]["message"], body
        status, body = await call(phone, "POST", url, {"user_id": site.id("phone")})
        assert status == 200 and body["conversation"]["assignee_id"] == site.id("phone"), body
