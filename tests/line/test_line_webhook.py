"""LINE's webhook on a real server: signatures (valid, forged, missing), the console's
verification request, a redelivery, each kind of event, and what reaches the log."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from channels.line_signature import line_signature
from inbox.core.model import ChannelKind, ConversationId, Direction
from routing.hours import TOKYO
from tests.line.conftest import (
    OTHER,
    SECRET,
    USER,
    body,
    event,
    events_of,
    identity,
    line_messages,
    message,
    post,
    redelivered,
)
from tests.line_fake import LineFake
from tests.web.conftest import Site

WORDS = "夜遅くにすみません。相談してもいいですか 😊🙏 MARK-91c"
LINE = ChannelKind.LINE


@pytest.mark.both_stores
async def test_a_text_is_stored_once_in_her_own_words(line_site: Site) -> None:
    first = message(text=WORDS)
    status, _ = await post(line_site, body(first))
    assert status == 200
    # LINE redelivers the same event (same webhookEventId and message id) when our answer
    # did not reach it: stored once
    status, _ = await post(line_site, body(redelivered(first)))
    assert status == 200
    (stored,) = await line_messages(line_site)
    assert stored.body == WORDS  # the Japanese and the emoji, byte for byte
    assert stored.direction is Direction.INBOUND
    assert stored.external_id == first["message"]["id"]
    conv = await line_site.store.get_conversation(stored.conversation_id)
    assert conv.channel is LINE


async def test_the_signature_covers_the_raw_bytes(line_site: Site) -> None:
    raw = body(message(text=WORDS))
    # the same JSON re-serialized with ASCII escapes is a different body: its signature
    # does not match the bytes LINE sent
    ascii_raw = json.dumps(json.loads(raw)).encode()
    assert ascii_raw != raw
    status, answer = await post(line_site, raw, signature=line_signature(SECRET, ascii_raw))
    assert status == 403 and answer["error"]["code"] == "line_signature"
    assert await line_messages(line_site) == []


@pytest.mark.parametrize(
    ("signature", "secret"),
    [("", SECRET), (None, "another-secret"), ("bm90IGEgc2lnbmF0dXJl", SECRET)],
)
async def test_forged_or_missing_signatures_store_nothing(
    line_site: Site, captured_logs: io.StringIO, signature: str | None, secret: str
) -> None:
    status, answer = await post(
        line_site, body(message(text=WORDS), event("follow")), signature=signature, secret=secret
    )
    assert status == 403
    assert answer["error"]["code"] == "line_signature"
    assert await line_messages(line_site) == []
    assert await events_of(line_site, "line_blocked", "line_unblocked") == []
    log = captured_logs.getvalue()
    assert "line_signature_refused" in log
    assert USER not in log and "MARK-91c" not in log


async def test_the_consoles_verification_request_gets_200(line_site: Site) -> None:
    status, _ = await post(line_site, body())
    assert status == 200
    assert await line_messages(line_site) == []


async def test_a_malformed_body_names_the_field(line_site: Site) -> None:
    bad = message(text=WORDS)
    del bad["source"]["userId"]
    status, answer = await post(line_site, body(bad))
    assert status == 400
    assert answer["error"]["field"] == "events[0].source.userId"
    status, answer = await post(line_site, b"{not json")
    assert status == 400 and answer["error"]["field"] == "body"


@pytest.mark.both_stores
async def test_stickers_files_and_locations(line_site: Site, fake: LineFake) -> None:
    image, big = message("image"), message("file", fileName="診断書.pdf", fileSize=11 * 2**20)
    fake.contents[image["message"]["id"]] = ("image/png", b"\x89PNG" + b"x" * 2000)
    spot = message(
        "location", title="自宅", address="東京都某区1-2-3", latitude=35.6, longitude=139.7
    )
    external = message(
        "video", contentProvider={"type": "external", "originalContentUrl": "https://e"}
    )
    status, _ = await post(
        line_site,
        body(message("sticker", packageId="1", stickerId="2"), image, big, spot, external),
    )
    assert status == 200
    sticker, img, pdf, place, video = await line_messages(line_site)
    assert sticker.body == "[スタンプ]"
    assert img.body == "[画像]"
    (kept,) = img.attachments
    assert kept.stored and kept.content_type == "image/png" and kept.size_bytes == 2004
    _, content = await line_site.store.attachment(img.id, 0)
    assert content == b"\x89PNG" + b"x" * 2000
    # larger than max_content_bytes (10 MiB): listed, not fetched, not kept
    assert pdf.body == "[ファイル] 診断書.pdf"
    (listed,) = pdf.attachments
    assert not listed.stored and listed.filename == "診断書.pdf"
    assert not any(r.path.endswith(f"/{big['message']['id']}/content") for r in fake.requests)
    # the program's default: where she is is not kept
    assert place.body == "[位置情報]"
    assert "東京都" not in place.body and "35.6" not in place.body
    assert video.body == "[動画]" and not video.attachments[0].stored


async def test_a_file_that_turns_out_too_large_while_streaming_is_not_kept(
    line_site: Site, fake: LineFake
) -> None:
    clip = message("audio")
    fake.contents[clip["message"]["id"]] = ("audio/m4a", b"a" * (10 * 2**20 + 1))
    fake.chunked.add(clip["message"]["id"])  # no Content-Length: found out while reading
    status, _ = await post(line_site, body(clip))
    assert status == 200
    (stored,) = await line_messages(line_site)
    assert stored.body == "[音声]" and not stored.attachments[0].stored


@pytest.mark.both_stores
async def test_unfollow_blocks_her_and_follow_unblocks(line_site: Site) -> None:
    await post(line_site, body(message(text="こんにちは")))
    (first,) = await line_messages(line_site)
    conv = ConversationId(first.conversation_id)
    unfollow = event("unfollow")
    assert (await post(line_site, body(unfollow)))[0] == 200
    assert await line_site.store.recipient_opted_out(conv)
    assert await line_site.store.is_opted_out(identity(line_site), LINE)
    (blocked,) = await events_of(line_site, "line_blocked")
    assert blocked.conversation_id == conv
    # redelivered: nothing happens twice
    assert (await post(line_site, body(redelivered(unfollow))))[0] == 200
    assert len(await events_of(line_site, "line_blocked")) == 1
    assert (await post(line_site, body(event("follow"))))[0] == 200
    assert not await line_site.store.recipient_opted_out(conv)
    assert len(await events_of(line_site, "line_unblocked")) == 1


async def test_friends_added_and_lost_are_counted_even_for_strangers(line_site: Site) -> None:
    await post(
        line_site, body(event("follow", user=OTHER), event("follow"), event("unfollow", user=OTHER))
    )
    now = datetime.now(UTC)
    days = await line_site.store.friends_by_day(
        LINE, now - timedelta(days=1), now + timedelta(days=1), TOKYO
    )
    assert [(d.added, d.lost) for d in days] == [(2, 1)]


async def test_a_postback_is_kept_on_her_conversation(line_site: Site) -> None:
    await post(line_site, body(message(text="ありがとうございました")))
    answer = event("postback", postback={"data": "survey=5"})
    assert (await post(line_site, body(answer, redelivered(answer))))[0] == 200
    (kept,) = await events_of(line_site, "line_postback")
    assert kept.data == {"data": "survey=5"}


async def test_nothing_of_her_id_words_or_tokens_is_logged(
    line_site: Site, fake: LineFake, captured_logs: io.StringIO
) -> None:
    token = "replyTOKEN-3f9a8b7c"
    image = message("image", reply_token=token)
    fake.contents[image["message"]["id"]] = ("image/jpeg", b"JPEGDATA-0c1d")
    await post(line_site, body(message(text=WORDS, reply_token=token), image, event("unfollow")))
    log = captured_logs.getvalue()
    assert "line_webhook" in log  # the request was logged, by counts
    for secret in (USER, "MARK-91c", token, SECRET, fake.token, "JPEGDATA", identity(line_site)):
        assert secret not in log
