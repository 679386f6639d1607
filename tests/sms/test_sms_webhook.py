"""Twilio's SMS webhooks on a real server: signatures (valid, forged, missing, behind a proxy),
a redelivered MessageSid, STOP / START / HELP, status callbacks out of order and a permanent
error; nothing of her number, her words or the signature reaches the log."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import aiohttp
import pytest

from inbox.app import build_store
from inbox.core.model import (
    ConversationId,
    DeliveryStatus,
    Direction,
    MessageId,
    OutboxId,
    UserId,
)
from inbox.sms_config import DEFAULT_HELP_REPLY
from tests.factories import T0, new_user
from tests.sms.conftest import (
    PUBLIC_URL,
    SMS,
    SMS_PATH,
    STATUS_PATH,
    TOKEN,
    SmsSite,
    sms_config,
)
from tests.sms.signing import Fields, twilio_signature
from tests.web.conftest import make_config, running

NATIONAL = "090-1234-5678"
E164 = "+819012345678"
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
BODY = "相談したいことがあります MARK-7f3a"


def text(body: str = BODY, sid: str = "SM" + "a" * 32, sender: str = NATIONAL) -> Fields:
    return [
        ("MessageSid", sid),
        ("AccountSid", "AC" + "0" * 32),
        ("From", sender),
        ("To", "+815012345678"),
        ("Body", body),
        ("NumMedia", "0"),
    ]


async def _messages(site: SmsSite) -> list[tuple[str, str]]:
    """(body, external id) of every message she sent that is stored (the server's automatic
    replies aside)."""
    found = []
    for conv in await site.conversations():
        found += [
            (m.body, m.external_id or "")
            for m in await site.store.list_messages(conv)
            if m.direction is Direction.INBOUND
        ]
    return found


@pytest.mark.both_stores
async def test_a_signed_text_is_stored_before_it_is_answered(sms_site: SmsSite) -> None:
    status, content_type, answer = await sms_site.post(SMS_PATH, text())

    assert (status, content_type, answer) == (200, "text/xml", EMPTY)
    assert await _messages(sms_site) == [(BODY, "SM" + "a" * 32)]
    (conv,) = await sms_site.conversations()
    address = await sms_site.store.contact_address(conv)
    assert (address.channel, address.address) == (SMS, E164)  # normalized to E.164


@pytest.mark.parametrize(
    ("how", "kwargs"),
    [
        ("forged", {"token": "f" * 32}),
        ("missing", {"signature": ""}),
        ("for another path", {"signed_url": PUBLIC_URL + STATUS_PATH}),
        ("for the server's own URL", {"signed_url": "<server>" + SMS_PATH}),
    ],
)
async def test_a_bad_signature_is_refused_and_nothing_stored(
    sms_site: SmsSite, captured_logs: io.StringIO, how: str, kwargs: dict[str, str]
) -> None:
    if kwargs.get("signed_url", "").startswith("<server>"):
        # behind the proxy Twilio never calls the server directly: that URL is not the one
        kwargs = {"signed_url": kwargs["signed_url"].replace("<server>", sms_site.url)}
    status, _, answer = await sms_site.post(SMS_PATH, text(), **kwargs)

    assert status == 403, how
    assert '"code": "twilio_signature"' in answer
    assert await sms_site.events("message_received") == []
    logged = captured_logs.getvalue()
    assert "twilio_signature_refused" in logged
    _assert_private(logged)


async def test_a_tampered_body_is_refused(sms_site: SmsSite) -> None:
    signed = text()
    signature = twilio_signature(TOKEN, PUBLIC_URL + SMS_PATH, signed)
    tampered = [(k, "changed" if k == "Body" else v) for k, v in signed]
    status, _, _ = await sms_site.post(SMS_PATH, tampered, signature=signature)
    assert status == 403
    assert await _messages(sms_site) == []


@pytest.mark.parametrize("called", ["https://example.org", "https://example.org:443"])
async def test_behind_a_tls_proxy_with_or_without_the_port(sms_site: SmsSite, called: str) -> None:
    """The server listens on http://127.0.0.1:port; Twilio called public_url, with the default
    port written or not (it signs either way)."""
    status, _, _ = await sms_site.post(SMS_PATH, text(), signed_url=called + SMS_PATH)
    assert status == 200
    assert len(await _messages(sms_site)) == 1


async def test_a_public_url_written_with_its_port(tmp_path: Path) -> None:
    cfg = sms_config(tmp_path, public_url="https://example.org:443/")
    async with (
        running(cfg) as url,
        aiohttp.ClientSession() as http,
        build_store(cfg.database) as store,
    ):
        site = SmsSite(url, cfg, store, http)
        for signed_url in ("https://example.org", "https://example.org:443"):
            fields = text(sid=f"SM{len(signed_url)}")
            status, _, _ = await site.post(SMS_PATH, fields, signed_url=signed_url + SMS_PATH)
            assert status == 200, signed_url
        assert len(await _messages(site)) == 2


@pytest.mark.both_stores
async def test_a_redelivered_message_sid_is_stored_once(sms_site: SmsSite) -> None:
    first = await sms_site.post(SMS_PATH, text())
    again = await sms_site.post(SMS_PATH, text())

    assert first == again == (200, "text/xml", EMPTY)
    assert await _messages(sms_site) == [(BODY, "SM" + "a" * 32)]
    assert len(await sms_site.events("message_received")) == 1


@pytest.mark.both_stores
async def test_text_neither_database_takes_is_made_storable(sms_site: SmsSite) -> None:
    status, _, _ = await sms_site.post(SMS_PATH, text("a\x00b c"))
    assert status == 200  # not a 503 that Twilio would retry for ever
    assert await _messages(sms_site) == [("ab c", "SM" + "a" * 32)]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ([("From", NATIONAL), ("Body", "x")], "MessageSid"),
        ([("MessageSid", "SM1"), ("Body", "x")], "From"),
        ([("MessageSid", "SM1"), ("From", NATIONAL)], "Body"),
        ([("MessageSid", "SM1"), ("From", "12"), ("Body", "x")], "From"),
    ],
)
async def test_a_missing_or_bad_field_is_named(
    sms_site: SmsSite, fields: Fields, field: str
) -> None:
    status, _, answer = await sms_site.post(SMS_PATH, fields)
    assert status == 400
    assert f'"field": "{field}"' in answer
    assert NATIONAL not in answer
    assert await _messages(sms_site) == []


@pytest.mark.both_stores
@pytest.mark.parametrize(
    ("stop", "start"), [("STOP", "START"), ("停止", "再開"), (" ｓｔｏｐ ", "さいかい")]
)
async def test_stop_and_start_are_honoured_and_stored(
    sms_site: SmsSite, stop: str, start: str
) -> None:
    identity_of = sms_site.identity(E164)

    status, _, answer = await sms_site.post(SMS_PATH, text(stop, sid="SM1"))
    assert (status, answer) == (200, EMPTY)
    assert await sms_site.store.is_opted_out(identity_of)
    (conv,) = await sms_site.conversations()
    (out,) = await sms_site.events("sms_opted_out")
    assert out.conversation_id == conv and E164 not in str(out.data)

    await sms_site.post(SMS_PATH, text(start, sid="SM2"))
    assert not await sms_site.store.is_opted_out(identity_of)
    (back,) = await sms_site.events("sms_opted_in")
    assert back.conversation_id == conv
    # her counselor sees both messages, and why
    assert [body for body, _ in await _messages(sms_site)] == [stop, start]


async def test_help_is_answered_in_the_twiml_unless_she_opted_out(sms_site: SmsSite) -> None:
    status, content_type, answer = await sms_site.post(SMS_PATH, text("ヘルプ", sid="SM1"))
    assert (status, content_type) == (200, "text/xml")
    assert answer == (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{DEFAULT_HELP_REPLY}</Message></Response>"
    )
    await sms_site.post(SMS_PATH, text("STOP", sid="SM2"))
    _, _, answer = await sms_site.post(SMS_PATH, text("help", sid="SM3"))
    assert answer == EMPTY  # nothing is ever sent to a number that opted out
    assert len(await _messages(sms_site)) == 3


async def test_help_sends_nothing_when_she_asked_for_discretion(sms_site: SmsSite) -> None:
    await sms_site.post(SMS_PATH, text("こんにちは", sid="SM1"))
    (conv,) = await sms_site.conversations()
    boss = await sms_site.store.create_user(new_user("boss2"), now=T0)
    await sms_site.store.set_discretion(conv, True, actor_id=boss.id, now=T0)
    _, _, answer = await sms_site.post(SMS_PATH, text("HELP", sid="SM2"))
    assert answer == EMPTY


FUTURE = T0.replace(year=2100)  # the server's own outbox never finds these replies due


async def _sent_reply(site: SmsSite, provider_id: str) -> tuple[ConversationId, MessageId]:
    """A reply to her text that Twilio accepted as `provider_id` (claimed and marked here)."""
    await site.post(SMS_PATH, text("こんにちは", sid="SM-in-" + provider_id))
    (conv,) = await site.conversations()
    author = UserId((await site.store.create_user(new_user("u" + provider_id), now=T0)).id)
    reply = await site.store.add_reply(conv, author_id=author, body="お返事", now=FUTURE)
    claimed = await site.store.claim_outbox(now=FUTURE, limit=10, lease_s=30)
    # an automatic reply to her first text may be pending too: only ours is marked
    (item,) = [i for i in claimed if i.message.message_id == reply.id]
    await site.store.mark_sent(item.outbox_id, provider_id=provider_id, now=FUTURE)
    return conv, reply.id


def _status(sid: str, status: str, error_code: str | None = None) -> Fields:
    fields = [("MessageSid", sid), ("MessageStatus", status), ("AccountSid", "AC" + "0" * 32)]
    return fields + ([("ErrorCode", error_code)] if error_code is not None else [])


async def _delivery(site: SmsSite, conv: ConversationId, message_id: MessageId) -> DeliveryStatus:
    (found,) = [m for m in await site.store.list_messages(conv) if m.id == message_id]
    return found.delivery_status


@pytest.mark.both_stores
async def test_status_callbacks_out_of_order_keep_the_later_state(sms_site: SmsSite) -> None:
    conv, reply = await _sent_reply(sms_site, "SMout1")
    for status in ("delivered", "sent", "queued"):
        answer = await sms_site.post(STATUS_PATH, _status("SMout1", status))
        assert answer[0] == 200, status
    assert await _delivery(sms_site, conv, reply) is DeliveryStatus.DELIVERED
    assert len(await sms_site.events("reply_delivered")) == 1


@pytest.mark.both_stores
async def test_a_permanent_error_fails_the_reply_with_its_reason(
    sms_site: SmsSite, captured_logs: io.StringIO
) -> None:
    conv, reply = await _sent_reply(sms_site, "SMout2")
    assert (await sms_site.post(STATUS_PATH, _status("SMout2", "sent")))[0] == 200
    status, _, _ = await sms_site.post(STATUS_PATH, _status("SMout2", "undelivered", "30006"))
    assert status == 200

    assert await _delivery(sms_site, conv, reply) is DeliveryStatus.FAILED
    (failed,) = await sms_site.events("reply_failed")
    assert (failed.conversation_id, failed.message_id) == (conv, reply)
    assert failed.data == {"error": "twilio 30006: landline or unreachable carrier"}
    _assert_private(captured_logs.getvalue())


async def test_status_callbacks_unknown_or_untracked_are_answered(
    sms_site: SmsSite, captured_logs: io.StringIO
) -> None:
    assert (await sms_site.post(STATUS_PATH, _status("SMnobody", "failed", "21610")))[0] == 200
    assert (await sms_site.post(STATUS_PATH, _status("SMnobody", "read")))[0] == 200
    assert await sms_site.events("reply_failed") == []
    assert "SMnobody" not in captured_logs.getvalue()
    status, _, answer = await sms_site.post(STATUS_PATH, _status("SM1", "failed", "x1"))
    assert status == 400 and '"field": "ErrorCode"' in answer
    status, _, _ = await sms_site.post(STATUS_PATH, _status("SM1", "failed"), token="f" * 32)
    assert status == 403


async def test_the_log_holds_no_number_body_or_signature(
    sms_site: SmsSite, captured_logs: io.StringIO
) -> None:
    await sms_site.post(SMS_PATH, text(sid="SM1"))
    await sms_site.post(SMS_PATH, text("STOP", sid="SM2"))
    await sms_site.post(SMS_PATH, text(sid="SM3"), token="f" * 32)
    await sms_site.post(SMS_PATH, [("MessageSid", "SM4"), ("From", NATIONAL)])
    logged = captured_logs.getvalue()
    assert "sms_opted_out" in logged and "twilio_signature_refused" in logged
    _assert_private(logged)


def _assert_private(logged: str) -> None:
    for secret in ("MARK-7f3a", "1234-5678", "12345678", TOKEN):
        assert secret not in logged, secret


async def test_without_an_auth_token_nothing_is_accepted(tmp_path: Path) -> None:
    """The config refuses [sms] on without its token; were it to start anyway, an empty key
    must not make every signature made with an empty key valid."""
    cfg = sms_config(tmp_path)
    cfg = dataclasses.replace(cfg, sms=dataclasses.replace(cfg.sms, auth_token=""))
    async with (
        running(cfg) as url,
        aiohttp.ClientSession() as http,
        build_store(cfg.database) as store,
    ):
        site = SmsSite(url, cfg, store, http)
        status, _, _ = await site.post(SMS_PATH, text(), token="")
        assert status == 403
        assert await _messages(site) == []


async def test_webhooks_are_absent_unless_sms_is_enabled(tmp_path: Path) -> None:
    async with (
        running(make_config(tmp_path)) as url,
        aiohttp.ClientSession() as http,
        http.post(url + SMS_PATH, data={"Body": "x"}) as r,
    ):
        assert r.status == 404


async def _claimed_reply(site: SmsSite) -> tuple[ConversationId, MessageId, int]:
    """A reply claimed for sending whose create has not been answered yet (no SID stored)."""
    await site.post(SMS_PATH, text("こんにちは", sid="SM-in-race"))
    (conv,) = await site.conversations()
    author = UserId((await site.store.create_user(new_user("u-race"), now=T0)).id)
    reply = await site.store.add_reply(conv, author_id=author, body="お返事", now=FUTURE)
    claimed = await site.store.claim_outbox(now=FUTURE, limit=10, lease_s=30)
    (item,) = [i for i in claimed if i.message.message_id == reply.id]
    return conv, reply.id, int(item.outbox_id)


@pytest.mark.both_stores
async def test_a_failure_callback_before_mark_sent_is_kept_by_outbox_id(
    sms_site: SmsSite,
) -> None:
    conv, reply, outbox_id = await _claimed_reply(sms_site)
    path = f"{STATUS_PATH}?outbox={outbox_id}"
    status, _, _ = await sms_site.post(path, _status("SMrace1", "undelivered", "30005"))
    assert status == 200
    assert await _delivery(sms_site, conv, reply) is DeliveryStatus.FAILED
    # create's answer is recorded only now: the reply stays failed, with Twilio's reason
    await sms_site.store.mark_sent(OutboxId(outbox_id), provider_id="SMrace1", now=FUTURE)
    (found,) = [m for m in await sms_site.store.list_messages(conv) if m.id == reply]
    assert found.delivery_status is DeliveryStatus.FAILED
    assert (found.failure_reason or "").startswith("twilio 30005:")


async def test_the_signature_covers_the_callback_query(sms_site: SmsSite) -> None:
    conv, reply, outbox_id = await _claimed_reply(sms_site)
    fields = _status("SMrace2", "failed", "30003")
    # signed for the URL without ?outbox (or with another id): refused, nothing recorded
    for signed in (STATUS_PATH, f"{STATUS_PATH}?outbox={outbox_id + 1}"):
        status, _, _ = await sms_site.post(
            f"{STATUS_PATH}?outbox={outbox_id}", fields, signed_url=PUBLIC_URL + signed
        )
        assert status == 403
    assert await _delivery(sms_site, conv, reply) is DeliveryStatus.PENDING
    status, _, answer = await sms_site.post(f"{STATUS_PATH}?outbox=x1", fields)
    assert status == 400 and '"field": "outbox"' in answer


async def test_twilio_signs_the_url_without_its_fragment(sms_site: SmsSite) -> None:
    """The README recommends `#rc=3&rp=5xx,ct,rt` on the webhook URL (Twilio's connection
    overrides). A fragment is never sent over HTTP, so the server checks the signature over
    the URL without it, which is the URL Twilio signs: the text is accepted."""
    fields = text("こんにちは", sid="SMfragment")
    signed = PUBLIC_URL + SMS_PATH
    status, _, _ = await sms_site.post(SMS_PATH + "#rc=3&rp=5xx,ct,rt", fields, signed_url=signed)
    assert status == 200
    assert [body for body, _ in await _messages(sms_site)] == ["こんにちは"]


async def test_a_possible_number_unknown_to_phonenumbers_is_accepted(sms_site: SmsSite) -> None:
    # +1 555 000 1234: E.164 of the right length, but no valid range in the metadata
    fields = text("こんにちは", sid="SMforeign", sender="+15550001234")
    status, _, _ = await sms_site.post(SMS_PATH, fields)
    assert status == 200
    assert [body for body, _ in await _messages(sms_site)] == ["こんにちは"]
    status, _, answer = await sms_site.post(SMS_PATH, text(sid="SMbad", sender="+1555"))
    assert status == 400 and '"field": "From"' in answer
