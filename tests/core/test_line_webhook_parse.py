"""LINE's webhook read without I/O (inbox.core.line): every event kind of a real-shaped body,
what is left out (groups, standby), malformed bodies named by field, the text each message is
stored as under both location policies, and friends counted by Tokyo day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.core.errors import ValidationError
from inbox.core.line import (
    MAX_EVENTS,
    STICKER,
    Follow,
    FriendsDay,
    LineMessage,
    LocationPolicy,
    attachment_name,
    friends_by_day,
    message_text,
    parse_webhook,
)

USER = "U4af4980629e0f0a0b1c2d3e4f5a6b7c8"  # 33 characters, as LINE's are
TS = 1764981000123  # 2025-12-06 00:30:00.123 UTC
TOKYO = ZoneInfo("Asia/Tokyo")
ADDRESS = "東京都千代田区丸の内1-1"


def _event(n: int, kind: str = "message", **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": TS + n,
        "source": {"type": "user", "userId": USER},
        "webhookEventId": f"01HZ{n:022d}",
        "deliveryContext": {"isRedelivery": False},
    }
    if kind not in ("unfollow",):
        event["replyToken"] = f"rt{n:030d}"
    event.update(fields)
    return event


def _msg(n: int, message: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return _event(n, "message", message={"id": f"5{n:017d}", **message}, **fields)


def _body(*events: dict[str, Any]) -> bytes:
    # ensure_ascii=False: the emoji and Japanese as UTF-8, as LINE writes them
    return json.dumps(
        {"destination": "Uxxxxxxxx", "events": list(events)}, ensure_ascii=False
    ).encode()


LOCATION = {
    "type": "location",
    "title": "相談室",
    "address": ADDRESS,
    "latitude": 35.681236,
    "longitude": 139.767125,
}
FULL = _body(
    _msg(1, {"type": "text", "text": "こんにちは😊 たすけて", "quoteToken": "q1"}),
    _msg(2, {"type": "sticker", "packageId": "446", "stickerId": "1988"}),
    _msg(3, {"type": "image", "contentProvider": {"type": "line"}}),
    _msg(
        4,
        {
            "type": "video",
            "duration": 60000,
            "contentProvider": {"type": "external", "originalContentUrl": "https://x.example"},
        },
    ),
    _msg(5, {"type": "audio", "duration": 6000, "contentProvider": {"type": "line"}}),
    _msg(6, {"type": "file", "fileName": "診断書.pdf", "fileSize": 2138}),
    _msg(7, LOCATION),
    _event(8, "follow", follow={"isUnblocked": True}),
    _event(9, "unfollow"),
    _event(10, "postback", postback={"data": "survey=1&answer=yes", "params": {}}),
    _msg(
        11,
        {"type": "text", "text": "group"},
        source={"type": "group", "groupId": "C1", "userId": USER},
    ),
    _msg(12, {"type": "text", "text": "standby"}, mode="standby"),
    _msg(13, {"type": "hologram"}),
    _event(14, "beacon", beacon={"hwid": "d41d8cd98f", "type": "enter"}),
    _msg(15, {"type": "text", "text": "again"}, deliveryContext={"isRedelivery": True}),
)


def test_a_real_shaped_body_gives_each_message_and_other_event() -> None:
    hook = parse_webhook(FULL)
    by_kind = {m.kind: m for m in hook.messages}
    assert [m.kind for m in hook.messages] == [
        "text",
        "sticker",
        "image",
        "video",
        "audio",
        "file",
        "location",
        "hologram",
        "text",
    ]
    text = hook.messages[0]
    assert text.text == "こんにちは😊 たすけて"
    assert (text.event_id, text.message_id, text.user_id) == (
        f"01HZ{1:022d}",
        f"5{1:017d}",
        USER,
    )
    assert text.at == datetime(2025, 12, 6, 0, 30, 0, 124000, tzinfo=UTC)
    assert text.reply_token == f"rt{1:030d}"
    assert not text.redelivery and hook.messages[-1].redelivery
    assert by_kind["video"].external_content and not by_kind["image"].external_content
    assert not by_kind["audio"].external_content
    assert (by_kind["file"].file_name, by_kind["file"].file_size) == ("診断書.pdf", 2138)
    assert by_kind["location"].location == ("相談室", ADDRESS, 35.681236, 139.767125)
    # group (11), standby (12) and beacon (14) are not one-on-one conversation events
    assert hook.ignored == 3
    assert [(o.kind, o.event_id, o.reply_token, o.data) for o in hook.others] == [
        (Follow.FOLLOW, f"01HZ{8:022d}", f"rt{8:030d}", None),
        (Follow.UNFOLLOW, f"01HZ{9:022d}", None, None),
        (Follow.POSTBACK, f"01HZ{10:022d}", f"rt{10:030d}", "survey=1&answer=yes"),
    ]
    assert all(o.user_id == USER for o in hook.others)


def test_the_console_verification_body_is_a_webhook_without_events() -> None:
    hook = parse_webhook(b'{"destination": "Uxxxxxxxx", "events": []}')
    assert (hook.messages, hook.others, hook.ignored) == ((), (), 0)


def test_a_file_without_a_name_or_a_good_size_gets_defaults() -> None:
    (msg,) = parse_webhook(
        _body(_msg(1, {"type": "file", "fileName": "", "fileSize": -1}))
    ).messages
    assert (msg.file_name, msg.file_size) == ("file", None)
    (msg,) = parse_webhook(
        _body(_msg(1, {"type": "file", "fileName": "a", "fileSize": True}))
    ).messages
    assert msg.file_size is None  # a JSON true is not a size


def test_a_bad_or_overlong_reply_token_is_dropped_not_fatal() -> None:
    (msg,) = parse_webhook(_body(_msg(1, {"type": "sticker"}, replyToken="x" * 257))).messages
    assert msg.reply_token is None
    (msg,) = parse_webhook(_body(_msg(1, {"type": "sticker"}, replyToken=5))).messages
    assert msg.reply_token is None


def _events(*events: Any) -> bytes:
    return json.dumps({"events": list(events)}).encode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"\xff\xfe\xfa", "body"),
        (b"1" * 5000, "body"),  # Python refuses so long an integer with ValueError
        (b"[" * 100_000, "body"),  # nested past the recursion limit
        (b"[]", "events"),
        (b'{"destination": "U"}', "events"),
        (b'{"events": {}}', "events"),
        (_events(*[_event(i) for i in range(MAX_EVENTS + 1)]), "events"),
        (_events("x"), "events[0]"),
        (_events(_event(0, source={"type": "user"})), "events[0].source.userId"),
        (_events(_event(0, source={"type": "user", "userId": ""})), "events[0].source.userId"),
        (
            _events(_event(0, source={"type": "user", "userId": "U" * 65})),
            "events[0].source.userId",
        ),
        (_events(_event(0, webhookEventId=None)), "events[0].webhookEventId"),
        (_events(_event(0, webhookEventId="E" * 65)), "events[0].webhookEventId"),
        (_events(_event(0, timestamp="1764981000123")), "events[0].timestamp"),
        (_events(_event(0, timestamp=True)), "events[0].timestamp"),
        (_events(_event(0, timestamp=-1)), "events[0].timestamp"),
        (_events(_event(0, timestamp=1.5)), "events[0].timestamp"),
        (_events(_event(0, timestamp=10**15)), "events[0].timestamp"),
        (_events(_event(0)), "events[0].message"),
        (_events(_msg(0, {"type": "text"})), "events[0].message.text"),
        (_events(_event(0, message={"type": "text", "text": "x"})), "events[0].message.id"),
        (_events(_msg(0, {"type": "text", "text": "x", "id": "9" * 65})), "events[0].message.id"),
        (_events(_msg(0, {**LOCATION, "latitude": "35.6"})), "events[0].message.latitude"),
        (_events(_msg(0, {**LOCATION, "longitude": None})), "events[0].message.longitude"),
        (_events(_event(0, "postback")), "events[0].postback"),
        (_events(_event(0, "postback", postback={"data": "d" * 301})), "events[0].postback.data"),
        (_events(_event(1, "follow"), _event(2, "unfollow", timestamp=0)), "events[1].timestamp"),
    ],
)
def test_a_malformed_body_is_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_webhook(body)
    assert caught.value.field == field


def test_a_non_finite_coordinate_is_refused() -> None:
    body = _body(_msg(0, LOCATION)).replace(b"35.681236", b"NaN")
    with pytest.raises(ValidationError, match="latitude"):
        parse_webhook(body)


def _one(message: dict[str, Any]) -> LineMessage:
    (msg,) = parse_webhook(_body(_msg(1, message))).messages
    return msg


@pytest.mark.parametrize("policy", list(LocationPolicy))
def test_each_kind_is_stored_as_her_words_or_a_placeholder(policy: LocationPolicy) -> None:
    cases: list[tuple[dict[str, Any], str, str | None]] = [
        ({"type": "text", "text": "死にたい😢"}, "死にたい😢", None),
        ({"type": "sticker", "packageId": "1", "stickerId": "2"}, STICKER, None),
        ({"type": "image"}, "[画像]", "image.jpg"),
        ({"type": "video"}, "[動画]", "video.mp4"),
        ({"type": "audio"}, "[音声]", "audio.m4a"),
        (
            {"type": "file", "fileName": "memo.txt", "fileSize": 3},
            "[ファイル] memo.txt",
            "memo.txt",
        ),
        ({"type": "hologram"}, "[hologram]", "content"),
    ]
    for message, stored, name in cases:
        msg = _one(message)
        assert message_text(msg, policy) == stored
        if name is not None:
            assert attachment_name(msg) == name


def test_a_location_is_a_placeholder_unless_the_program_keeps_it_as_text() -> None:
    msg = _one(LOCATION)
    hidden = message_text(msg, LocationPolicy.PLACEHOLDER)
    assert hidden == "[位置情報]"
    # where she is may put her in danger: nothing of the place leaks into the placeholder
    for part in ("相談室", ADDRESS, "35.68", "139.76"):
        assert part not in hidden
    assert message_text(msg, LocationPolicy.TEXT) == (
        f"[位置情報] 相談室 {ADDRESS} (35.681236, 139.767125)"
    )
    bare = _one({"type": "location", "latitude": 1, "longitude": -2.5})
    assert message_text(bare, LocationPolicy.TEXT) == "[位置情報] (1.000000, -2.500000)"
    assert message_text(bare, LocationPolicy.PLACEHOLDER) == "[位置情報]"


def test_friends_are_counted_by_tokyo_day() -> None:
    rows = [
        ("follow", datetime(2026, 12, 5, 14, 59, 59, tzinfo=UTC)),  # 23:59:59 on the 5th, Tokyo
        ("follow", datetime(2026, 12, 5, 15, 30, tzinfo=UTC)),  # 00:30 on the 6th, Tokyo
        ("unfollow", datetime(2026, 12, 6, 3, 0, tzinfo=UTC)),  # 12:00 on the 6th
        ("unfollow", datetime(2026, 12, 8, 1, 0, tzinfo=UTC)),  # the 7th has neither
        ("follow", datetime(2026, 12, 4, 16, 0, tzinfo=UTC)),  # out of order: 01:00 on the 5th
    ]
    assert friends_by_day(rows, TOKYO) == [
        FriendsDay(date(2026, 12, 5), 2, 0),
        FriendsDay(date(2026, 12, 6), 1, 1),
        FriendsDay(date(2026, 12, 8), 0, 1),
    ]
    # in UTC the 15:30 follow is still the 5th: the boundary is the zone's
    assert friends_by_day(rows[:2], ZoneInfo("UTC")) == [FriendsDay(date(2026, 12, 5), 2, 0)]
    assert friends_by_day([], TOKYO) == []


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=70),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
_keys = st.sampled_from(
    [
        "type",
        "mode",
        "timestamp",
        "source",
        "userId",
        "webhookEventId",
        "message",
        "id",
        "text",
        "fileName",
        "fileSize",
        "latitude",
        "longitude",
        "postback",
        "data",
        "replyToken",
        "deliveryContext",
        "isRedelivery",
        "contentProvider",
        "title",
        "address",
    ]
)
_values = st.one_of(
    _json,
    st.sampled_from(
        [
            "user",
            "group",
            "message",
            "follow",
            "unfollow",
            "postback",
            "text",
            "file",
            "location",
            "image",
            "active",
            "standby",
            "external",
        ]
    ),
    st.integers(min_value=-1, max_value=10**15),
)
# Shaped like LINE's: objects with LINE's keys, so the generator reaches the deep checks.
_line_ish = st.recursive(
    _values,
    lambda inner: st.dictionaries(_keys, inner, max_size=8) | st.lists(inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(_line_ish, max_size=4),
    raw=st.one_of(_json, st.binary(max_size=40)),
    wrap=st.booleans(),
)
def test_any_json_ish_input_is_read_or_refused_with_a_validation_error(
    events: list[Any], raw: Any, wrap: bool
) -> None:
    bodies = [
        json.dumps({"destination": "U", "events": events}).encode(),
        raw if isinstance(raw, bytes) else json.dumps(raw).encode(),
    ]
    if wrap:
        bodies.append(json.dumps({"events": [{"events": events}]}).encode())
    for body in bodies:
        try:
            hook = parse_webhook(body)
        except ValidationError as exc:
            assert exc.field  # it names what is wrong
            continue
        # what is read is typed as promised
        assert len(hook.messages) + len(hook.others) + hook.ignored == len(
            json.loads(body)["events"]
        )
        for msg in hook.messages:
            for policy in LocationPolicy:
                assert isinstance(message_text(msg, policy), str)
            assert msg.at.tzinfo is UTC


def test_a_long_type_or_file_name_is_cut_not_refused() -> None:
    """The body's other events would be refused with it (and LINE resends the same body)."""
    hook = parse_webhook(
        _events(
            _msg(0, {"type": "x" * 40}),
            _msg(1, {"type": "file", "fileName": "長" * 300 + ".pdf", "fileSize": 3}),
            _msg(2, {"type": "text", "text": "ほかの相談"}),
        )
    )
    odd, file, text = hook.messages
    assert odd.kind == "x" * 32
    assert file.file_name == "長" * 255
    assert text.text == "ほかの相談"


def test_runs_keep_the_body_order() -> None:
    hook = parse_webhook(
        _events(
            _event(0, "follow"),
            _msg(1, {"type": "text", "text": "a"}),
            _msg(2, {"type": "text", "text": "b"}),
            _event(3, "unfollow"),
        )
    )
    assert [[type(e).__name__ for e in run] for run in hook.runs()] == [
        ["LineOther"],
        ["LineMessage", "LineMessage"],
        ["LineOther"],
    ]
