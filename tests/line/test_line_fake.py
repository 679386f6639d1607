"""The LINE stand-in (tests/line_fake.py) driven by LINE's own async SDK: each route, the 409 on
an accepted retry key, single-use reply tokens, and scripted errors as the SDK's ApiException."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)

from tests.line_fake import LineFake, line_fake

USER = "U4af4980629" + "a" * 22
KEY = "123e4567-e89b-12d3-a456-426614174000"


@pytest.fixture
async def fake() -> AsyncIterator[LineFake]:
    async with line_fake() as f:
        yield f


@pytest.fixture
async def client(fake: LineFake) -> AsyncIterator[AsyncApiClient]:
    async with AsyncApiClient(Configuration(host=fake.url, access_token=fake.token)) as c:
        yield c


def push(*texts: str) -> PushMessageRequest:
    return PushMessageRequest(to=USER, messages=[TextMessage(text=t) for t in texts])


async def test_a_push_is_sent_once_per_retry_key_and_a_repeat_gets_409_with_its_ids(
    fake: LineFake, client: AsyncApiClient
) -> None:
    api = AsyncMessagingApi(client)
    first = await api.push_message_with_http_info(
        push("ご予約を承りました。"), x_line_retry_key=KEY
    )
    assert first.status_code == 200
    ids = [m.id for m in first.data.sent_messages]
    assert len(ids) == 1 and ids[0].isdigit()
    with pytest.raises(ApiException) as repeat:
        await api.push_message_with_http_info(push("ご予約を承りました。"), x_line_retry_key=KEY)
    assert repeat.value.status == 409
    body = json.loads(repeat.value.body)
    assert body["message"] == "The retry key is already accepted"
    assert [m["id"] for m in body["sentMessages"]] == ids
    accepted = repeat.value.headers["x-line-accepted-request-id"]
    assert accepted == first.headers["x-line-request-id"]
    assert fake.delivered == [(USER, ("ご予約を承りました。",), "push")]
    assert fake.retry_key_requests[KEY] == 2
    seen = fake.requests[0]
    assert (seen.method, seen.path, seen.authorization) == (
        "POST",
        "/v2/bot/message/push",
        f"Bearer {fake.token}",
    )
    assert seen.retry_key == KEY and seen.content_type == "application/json"
    assert seen.json["messages"] == [{"type": "text", "text": "ご予約を承りました。"}]
    # another key is another send
    await api.push_message(push("b"), x_line_retry_key="00000000-0000-4000-8000-000000000001")
    assert len(fake.delivered) == 2


async def test_a_lost_answer_is_retried_into_a_409_and_a_refused_push_into_a_send(
    fake: LineFake, client: AsyncApiClient
) -> None:
    api = AsyncMessagingApi(client)
    fake.fail_next("/push", 500, deliver=True)  # LINE sent it; the answer never came back
    with pytest.raises(ApiException) as lost:
        await api.push_message(push("x"), x_line_retry_key=KEY)
    assert lost.value.status == 500
    with pytest.raises(ApiException) as retried:
        await api.push_message(push("x"), x_line_retry_key=KEY)
    assert retried.value.status == 409
    other = "00000000-0000-4000-8000-000000000002"
    fake.fail_next("/push", 500)  # refused: the key is not accepted, the retry sends
    with pytest.raises(ApiException):
        await api.push_message(push("y"), x_line_retry_key=other)
    await api.push_message(push("y"), x_line_retry_key=other)
    assert fake.delivered == [(USER, ("x",), "push"), (USER, ("y",), "push")]
    with pytest.raises(ApiException) as bad_key:
        await api.push_message(push("z"), x_line_retry_key="not-a-uuid")
    assert bad_key.value.status == 400


async def test_reply_tokens_are_single_use_and_expire_and_replies_cost_no_quota(
    fake: LineFake, client: AsyncApiClient
) -> None:
    now = [100.0]
    fake.clock = lambda: now[0]
    api = AsyncMessagingApi(client)
    token = fake.issue_reply_token(to=USER)
    reply = ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="返信です")])
    answered = await api.reply_message_with_http_info(reply)
    assert answered.status_code == 200 and answered.data.sent_messages[0].id.isdigit()
    assert fake.delivered == [(USER, ("返信です",), "reply")]
    expired = fake.issue_reply_token(ttl_s=30)
    now[0] += 30
    for used in (token, expired, "never-issued"):
        with pytest.raises(ApiException) as refused:
            await api.reply_message(
                ReplyMessageRequest(reply_token=used, messages=[TextMessage(text="a")])
            )
        assert refused.value.status == 400
        assert json.loads(refused.value.body) == {"message": "Invalid reply token"}
    assert len(fake.delivered) == 1
    assert (await api.get_message_quota_consumption()).total_usage == 0
    # a push of three message objects to one user counts one message
    await api.push_message(push("1", "2", "3"))
    assert (await api.get_message_quota_consumption()).total_usage == 1


async def test_quota_is_none_or_limited_and_a_full_month_refuses_pushes(
    fake: LineFake, client: AsyncApiClient
) -> None:
    api = AsyncMessagingApi(client)
    quota = await api.get_message_quota()
    assert quota.type == "none" and quota.value is None
    fake.quota, fake.total_usage = 200, 199
    quota = await api.get_message_quota()
    assert (quota.type, quota.value) == ("limited", 200)
    await api.push_message(push("last one"))
    with pytest.raises(ApiException) as full:
        await api.push_message(push("one too many"))
    assert full.value.status == 429
    assert (await api.get_message_quota_consumption()).total_usage == 200


async def test_loading_seconds_are_checked_and_profiles_known_or_404(
    fake: LineFake, client: AsyncApiClient
) -> None:
    api = AsyncMessagingApi(client)
    started = await api.show_loading_animation_with_http_info(
        ShowLoadingAnimationRequest(chat_id=USER, loading_seconds=10)
    )
    assert started.status_code == 202 and fake.loading == [(USER, 10)]
    with pytest.raises(ApiException) as odd:  # the SDK checks 5..60, LINE the multiple of 5
        await api.show_loading_animation(
            ShowLoadingAnimationRequest(chat_id=USER, loading_seconds=7)
        )
    assert odd.value.status == 400
    assert json.loads(odd.value.body)["details"][0]["property"] == "loadingSeconds"
    fake.profiles[USER] = "山田 花子"
    profile = await api.get_profile(USER)
    assert (profile.user_id, profile.display_name) == (USER, "山田 花子")
    with pytest.raises(ApiException) as unknown:
        await api.get_profile("U" + "0" * 32)
    assert unknown.value.status == 404


async def test_content_comes_whole_missing_slow_or_chunked_for_a_size_limited_reader(
    fake: LineFake, client: AsyncApiClient
) -> None:
    blob = AsyncMessagingApiBlob(client)
    fake.contents["1001"] = ("image/jpeg", b"\xff\xd8jpeg")
    whole = await blob.get_message_content_with_http_info("1001")
    assert whole.data == b"\xff\xd8jpeg"
    assert whole.headers["Content-Type"] == "image/jpeg" and whole.headers["Content-Length"] == "6"
    assert fake.requests[-1].path == "/v2/bot/message/1001/content"
    with pytest.raises(ApiException) as missing:
        await blob.get_message_content("1002")
    assert missing.value.status == 404
    fake.slow["1001"] = 5.0
    with pytest.raises(asyncio.TimeoutError):
        await blob.get_message_content_with_http_info("1001", _request_timeout=0.2)
    fake.contents["1003"] = ("video/mp4", b"v" * 200_000)
    fake.chunked.add("1003")
    # SDK 3.27's async client cannot stream: with _preload_content=False it fails on the raw
    # aiohttp response (no getheaders). Streaming goes through its REST client instead.
    with pytest.raises(AttributeError):
        await blob.get_message_content_with_http_info("1003", _preload_content=False)
    raw = await client.request(
        "GET",
        f"{fake.url}/v2/bot/message/1003/content",
        headers={"Authorization": f"Bearer {fake.token}"},
        _preload_content=False,
    )
    assert raw.status == 200 and "Content-Length" not in raw.headers
    limit, read = 50_000, 0
    async for chunk in raw.content.iter_chunked(8192):
        read += len(chunk)
        if read > limit:
            break
    raw.close()
    assert limit < read < 200_000  # stopped while streaming, not after the whole body


async def test_scripted_errors_and_a_wrong_token_surface_as_api_exceptions(
    fake: LineFake, client: AsyncApiClient
) -> None:
    api = AsyncMessagingApi(client)
    fake.fail_next("/push", 429, headers={"Retry-After": "3"})
    quota = await api.get_message_quota()  # the 429 waits for a push
    assert quota.type == "none"
    with pytest.raises(ApiException) as busy:
        await api.push_message(push("a"))
    assert busy.value.status == 429 and busy.value.headers["Retry-After"] == "3"
    assert json.loads(busy.value.body) == {"message": "Too Many Requests"}
    fake.fail_next(None, 500, times=2)  # any path, twice
    for _ in range(2):
        with pytest.raises(ApiException) as down:
            await api.get_message_quota()
        assert down.value.status == 500
    assert (await api.get_message_quota()).type == "none"
    too_long = {"message": "Length must be between 0 and 5000", "property": "messages[0].text"}
    fake.fail_next(
        "/reply", 400, {"message": "The request body has 1 error(s)", "details": [too_long]}
    )
    token = fake.issue_reply_token()
    with pytest.raises(ApiException) as invalid:
        await api.reply_message(
            ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="a")])
        )
    assert json.loads(invalid.value.body)["details"] == [too_long]
    await api.reply_message(
        ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="a")])
    )
    with pytest.raises(ApiException) as real_limit:  # the fake checks LINE's own text limit too
        await api.push_message(push("あ" * 5001))
    assert json.loads(real_limit.value.body)["details"] == [too_long]
    assert fake.delivered == [("", ("a",), "reply")]
    wrong = Configuration(host=fake.url, access_token="another-token")
    async with AsyncApiClient(wrong) as other:
        with pytest.raises(ApiException) as refused:
            await AsyncMessagingApi(other).get_message_quota()
    assert refused.value.status == 401
    assert fake.requests[-1].authorization == "Bearer another-token"
