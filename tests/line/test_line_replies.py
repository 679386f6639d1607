"""Replies to LINE: the reply token while it is valid (free of the quota), else a push with a
retry key that LINE accepts once; 429 and 5xx retried, a 400's details kept for the counselor,
nothing sent to a consulter who blocked the account. The channel alone against the stand-in,
then through the real server and outbox."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from channels.line import MAX_TEXT, LineChannel, LineSettings, retry_key
from inbox.core.errors import ChannelError
from inbox.core.model import (
    ChannelKind,
    ConversationId,
    DeliveryStatus,
    MessageId,
    OutboundMessage,
)
from inbox.outbox import BLOCKED_ERROR
from routing.hours import TOKYO, parse_service_hours
from tests.line.conftest import (
    OTHER,
    USER,
    body,
    event,
    identity,
    line_config,
    line_messages,
    message,
    post,
    read_value,
)
from tests.line_fake import LineFake
from tests.sms.outbound import call, until
from tests.web.conftest import Site, served_site, sign_in

REPLY = "ご連絡ありがとうございます。担当の者からお返事します。"
BAD_REQUEST = {
    "message": "The request body has 1 error(s)",
    "details": [{"message": "Length must be between 0 and 5000", "property": "messages[0].text"}],
}


def outbound(text: str = REPLY, *, message_id: int = 7, discreet: bool = False) -> OutboundMessage:
    return OutboundMessage(
        message_id=MessageId(message_id),
        conversation_id=ConversationId(1),
        channel=ChannelKind.LINE,
        recipient=USER,
        body=text,
        discreet=discreet,
        created_at=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
    )


class Tokens:
    """Her kept reply tokens, as the store hands them out: each once."""

    def __init__(self, *tokens: str) -> None:
        self.kept = list(tokens)

    async def take(self, recipient: str) -> str | None:
        assert recipient == USER
        return self.kept.pop(0) if self.kept else None


@pytest.fixture
async def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
async def channel(fake: LineFake, tokens: Tokens) -> AsyncIterator[LineChannel]:
    settings = LineSettings(access_token=fake.token, api_url=fake.url, data_api_url=fake.url)
    async with LineChannel(settings, tokens.take) as line:
        yield line


async def test_the_reply_token_is_used_once_then_a_push(
    channel: LineChannel, fake: LineFake, tokens: Tokens
) -> None:
    tokens.kept.append(fake.issue_reply_token(to=USER))
    first = await channel.send(outbound(message_id=1))
    second = await channel.send(outbound(message_id=2))
    assert first != second
    assert [d.via for d in fake.delivered] == ["reply", "push"]
    assert fake.total_usage == 1  # only the push counts against the monthly quota
    (push,) = [r for r in fake.requests if r.path.endswith("/push")]
    assert push.retry_key == retry_key(outbound(message_id=2))
    assert push.json is not None and push.json["to"] == USER


async def test_an_expired_token_falls_back_to_a_push(
    channel: LineChannel, fake: LineFake, tokens: Tokens
) -> None:
    tokens.kept.append("expired-or-used-token")  # LINE answers 400 Invalid reply token
    await channel.send(outbound())
    assert [d.via for d in fake.delivered] == ["push"]


async def test_a_push_retried_after_a_lost_answer_is_delivered_once(
    channel: LineChannel, fake: LineFake
) -> None:
    fake.fail_next("/push", 500, deliver=True)  # LINE sent it, but its answer was lost
    with pytest.raises(ChannelError) as lost:
        await channel.send(outbound())
    assert lost.value.retryable
    sent = await channel.send(outbound())  # the outbox's retry: same message, same key
    assert sent.isdigit()
    assert len(fake.delivered) == 1
    assert fake.retry_key_requests[retry_key(outbound())] == 2


@pytest.mark.parametrize(
    ("status", "payload", "retryable", "words"),
    [
        (429, None, True, "line 429: rate limited"),
        (500, None, True, "line 500: server error"),
        (400, BAD_REQUEST, False, "messages[0].text: Length must be between 0 and 5000"),
        (401, None, False, "access token was refused"),
    ],
)
async def test_refusals(
    channel: LineChannel,
    fake: LineFake,
    status: int,
    payload: object,
    retryable: bool,
    words: str,
) -> None:
    fake.fail_next("/push", status, payload)
    with pytest.raises(ChannelError) as refused:
        await channel.send(outbound())
    assert refused.value.retryable is retryable
    assert words in str(refused.value)
    assert USER not in str(refused.value)


async def test_discretion_sends_silently_and_long_replies_are_split(
    channel: LineChannel, fake: LineFake
) -> None:
    await channel.send(outbound("あ" * (MAX_TEXT + 10), discreet=True))
    (push,) = fake.requests
    assert push.json is not None
    assert push.json["notificationDisabled"] is True
    assert [len(m["text"]) for m in push.json["messages"]] == [MAX_TEXT, 10]


# --- through the server and its outbox


@pytest.fixture
async def boss(line_site: Site) -> AsyncIterator[aiohttp.ClientSession]:
    async with await sign_in(line_site.url, "boss") as session:
        yield session


async def her_conversation(site: Site, *, reply_token: str | None, age_s: float = 0) -> int:
    found = message(text="相談したいです", reply_token=reply_token)
    found["timestamp"] -= int(age_s * 1000)
    status, _ = await post(site, body(found))
    assert status == 200
    (stored,) = await line_messages(site)
    return int(stored.conversation_id)


async def reply(site: Site, boss: aiohttp.ClientSession, conv: int, text: str = REPLY) -> int:
    status, data = await call(
        boss, "POST", f"{site.url}/api/conversations/{conv}/replies", {"body": text}
    )
    assert status == 201, data
    return int(data["message"]["id"])


async def settled(site: Site, message_id: int) -> DeliveryStatus | None:
    msg = await site.store.get_message(MessageId(message_id))
    return None if msg.delivery_status is DeliveryStatus.PENDING else msg.delivery_status


@pytest.mark.both_stores
async def test_a_counselors_replies_use_her_token_then_push(
    line_site: Site, fake: LineFake, boss: aiohttp.ClientSession, captured_logs: io.StringIO
) -> None:
    token = fake.issue_reply_token(to=USER)
    conv = await her_conversation(line_site, reply_token=token)
    first = await reply(line_site, boss, conv)
    assert await until(lambda: settled(line_site, first)) is DeliveryStatus.SENT
    second = await reply(line_site, boss, conv, "もう一通です")
    assert await until(lambda: settled(line_site, second)) is DeliveryStatus.SENT
    assert [(d.via, d.texts) for d in fake.delivered] == [
        ("reply", (REPLY,)),
        ("push", ("もう一通です",)),
    ]
    assert fake.total_usage == 1
    log = captured_logs.getvalue()
    assert USER not in log and token not in log and REPLY not in log


async def test_an_old_messages_token_is_not_used(
    line_site: Site, fake: LineFake, boss: aiohttp.ClientSession
) -> None:
    token = fake.issue_reply_token(to=USER)
    conv = await her_conversation(line_site, reply_token=token, age_s=120)  # redelivered late
    sent = await reply(line_site, boss, conv)
    assert await until(lambda: settled(line_site, sent)) is DeliveryStatus.SENT
    assert [d.via for d in fake.delivered] == ["push"]
    assert not any(r.path.endswith("/reply") for r in fake.requests)


async def test_a_rate_limit_is_retried_with_the_same_key(
    line_site: Site, fake: LineFake, boss: aiohttp.ClientSession
) -> None:
    conv = await her_conversation(line_site, reply_token=None)
    fake.fail_next("/push", 429)
    sent = await reply(line_site, boss, conv)
    assert await until(lambda: settled(line_site, sent)) is DeliveryStatus.SENT
    pushes = [r for r in fake.requests if r.path.endswith("/push")]
    assert len(pushes) == 2 and pushes[0].retry_key == pushes[1].retry_key
    assert len(fake.delivered) == 1


@pytest.mark.both_stores
async def test_a_400_is_recorded_and_shown_to_the_counselor(
    line_site: Site, fake: LineFake, boss: aiohttp.ClientSession
) -> None:
    conv = await her_conversation(line_site, reply_token=None)
    fake.fail_next("/push", 400, BAD_REQUEST)
    sent = await reply(line_site, boss, conv)
    assert await until(lambda: settled(line_site, sent)) is DeliveryStatus.FAILED
    status, data = await call(boss, "GET", f"{line_site.url}/api/conversations/{conv}")
    assert status == 200
    (failed,) = [m for m in data["messages"] if m["id"] == sent]
    assert "line 400" in failed["failure_reason"]
    assert "messages[0].text: Length must be between 0 and 5000" in failed["failure_reason"]
    assert len([r for r in fake.requests if r.path.endswith("/push")]) == 1  # not retried


@pytest.mark.both_stores
async def test_nothing_is_sent_to_a_consulter_who_blocked_the_account(
    line_site: Site, fake: LineFake, boss: aiohttp.ClientSession
) -> None:
    conv = await her_conversation(line_site, reply_token=fake.issue_reply_token(to=USER))
    assert (await post(line_site, body(event("unfollow"))))[0] == 200
    _, data = await call(boss, "GET", f"{line_site.url}/api/conversations/{conv}")
    assert data["conversation"]["opted_out"] is True
    sent = await reply(line_site, boss, conv)
    assert await until(lambda: settled(line_site, sent)) is DeliveryStatus.FAILED
    _, data = await call(boss, "GET", f"{line_site.url}/api/conversations/{conv}")
    (failed,) = [m for m in data["messages"] if m["id"] == sent]
    assert failed["failure_reason"] == BLOCKED_ERROR
    assert fake.delivered == []
    # she adds the account again: replies go again
    assert (await post(line_site, body(event("follow"))))[0] == 200
    again = await reply(line_site, boss, conv)
    assert await until(lambda: settled(line_site, again)) is DeliveryStatus.SENT
    assert json.dumps([d.to for d in fake.delivered]) == json.dumps([USER])


async def test_a_late_token_is_never_kept(line_site: Site) -> None:
    found = message(text="x", reply_token="tok")
    found["timestamp"] = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp() * 1000)
    fresh = message(text="y", reply_token="tok2", user=OTHER)
    assert (await post(line_site, body(found, fresh)))[0] == 200
    # the webhook keeps only the token still worth using (the store would refuse the other
    # when asked, but it is not even written)
    kept = await line_site.store.take_reply_token(
        ChannelKind.LINE, identity(line_site, OTHER), now=datetime.now(UTC)
    )
    assert kept == "tok2"
    assert await read_value(line_site, "SELECT count(*) FROM reply_tokens") == 0


async def test_the_after_hours_reply_uses_her_reply_token(
    tmp_path: Path, fake: LineFake, store_kind: str, request: pytest.FixtureRequest
) -> None:
    today = datetime.now(TOKYO).date()
    closed = [str(today + timedelta(days=d)) for d in (-1, 0, 1)]
    hours = parse_service_hours(
        {"everyday": ["00:00-23:59"], "closed_dates": closed}, "routing.hours.line"
    )
    cfg = line_config(tmp_path, fake)
    cfg = dataclasses.replace(
        cfg, routing=dataclasses.replace(cfg.routing, hours=((ChannelKind.LINE, hours),))
    )
    async with served_site(cfg, store_kind=store_kind, request=request) as site:
        token = fake.issue_reply_token(to=USER)
        await her_conversation(site, reply_token=token)
        await until(lambda: _delivered(fake))
    ((via, texts),) = [(d.via, d.texts) for d in fake.delivered]
    assert via == "reply"  # free of the monthly quota
    assert "受付時間外" in texts[0]
    assert fake.total_usage == 0


async def _delivered(fake: LineFake) -> bool | None:
    return True if fake.delivered else None


async def test_a_reply_whose_answer_was_lost_is_not_pushed_again(
    channel: LineChannel, fake: LineFake, tokens: Tokens
) -> None:
    tokens.kept.append(fake.issue_reply_token(to=USER))
    fake.fail_next("/reply", 500, deliver=True)  # she has it; LINE's answer is lost
    with pytest.raises(ChannelError) as lost:
        await channel.send(outbound())
    assert not lost.value.retryable  # a retry would push it to her a second time
    assert "line reply: no answer" in str(lost.value)
    assert [d.via for d in fake.delivered] == ["reply"]


async def test_a_rate_limited_reply_is_retried_by_push(
    channel: LineChannel, fake: LineFake, tokens: Tokens
) -> None:
    tokens.kept.append(fake.issue_reply_token(to=USER))
    fake.fail_next("/reply", 429)  # refused: nothing was sent
    with pytest.raises(ChannelError) as limited:
        await channel.send(outbound())
    assert limited.value.retryable
    await channel.send(outbound())  # the outbox's retry: the token is spent, so a push
    assert [d.via for d in fake.delivered] == ["push"]


async def test_the_monthly_limit_is_not_retried(channel: LineChannel, fake: LineFake) -> None:
    fake.quota, fake.total_usage = 10, 10
    with pytest.raises(ChannelError) as full:
        await channel.send(outbound())
    assert not full.value.retryable
    assert "line quota: the account's monthly message limit is reached" in str(full.value)
