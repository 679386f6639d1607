"""GET /api/messages/{id}/attachments/{position}: who may download, and what she gets.

The same rules as reading the conversation: its counselor and supervisors do; another counselor
and phone staff get 404 (they must not learn which messages exist); an admin, who sees no
conversations, gets 403; unknown, refused or malformed positions are 404."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from inbox.core.model import Attachment, ChannelKind, MessageId, UserId
from inbox.web.attachments import content_disposition, media_type
from storage.sqlite.store import SqliteStore
from tests.factories import at, inbound
from tests.web.conftest import add_staff, make_config, running, sign_in

CONTENT = b"<html><script>alert(1)</script></html>"  # served as a download, never rendered


@dataclass
class Seeded:
    url: str
    message_id: MessageId  # two attachments: 0 stored (HTML), 1 refused


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    """A server whose database holds a mail with attachments, assigned to sato (assigned, so the
    router leaves it where it is)."""
    cfg = make_config(tmp_path)
    ids = await add_staff(cfg)
    assert cfg.database.sqlite_path is not None
    files = (
        Attachment(
            filename="相談 メモ.html", content_type="text/html", size_bytes=38, content=CONTENT
        ),
        Attachment(filename="big.pdf", content_type="application/pdf", size_bytes=9_000_000),
    )
    async with SqliteStore(cfg.database.sqlite_path) as store:
        (stored,) = await store.save_inbound_batch(
            [inbound("hanako@example.jp", channel=ChannelKind.MAIL, attachments=files)]
        )
        sato = UserId(ids["sato"])
        await store.assign(stored.conversation_id, sato, actor_id=sato, now=at(1), capacity=None)
    async with running(cfg) as url:
        yield Seeded(url=url, message_id=stored.message_id)


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, bytes, dict[str, str]]:
    async with session.get(url) as r:
        return r.status, await r.read(), dict(r.headers)


@pytest.mark.parametrize("username", ["sato", "boss"])
async def test_her_counselor_and_supervisors_download(seeded: Seeded, username: str) -> None:
    async with await sign_in(seeded.url, username) as staff:
        status, body, headers = await _get(
            staff, f"{seeded.url}/api/messages/{seeded.message_id}/attachments/0"
        )
    assert (status, body) == (200, CONTENT)
    assert headers["Content-Type"] == "text/html"  # as stored, but ...
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"__ __.html\"; filename*=UTF-8''" + quote("相談 メモ.html", safe="")
    )
    assert headers["X-Content-Type-Options"] == "nosniff"  # ... never rendered or sniffed
    assert headers["Cache-Control"] == "no-store"
    assert "sandbox" in headers["Content-Security-Policy"]


async def test_each_download_is_in_the_audit_log(seeded: Seeded) -> None:
    url = f"{seeded.url}/api/messages/{seeded.message_id}/attachments"
    async with await sign_in(seeded.url, "sato") as sato:
        assert (await _get(sato, f"{url}/0"))[0] == 200
        assert (await _get(sato, f"{url}/1"))[0] == 404  # refused content: nothing served
    async with await sign_in(seeded.url, "boss") as boss, boss.get(f"{seeded.url}/api/events") as r:
        events = (await r.json())["events"]
    (audit,) = [e for e in events if e["kind"] == "attachment_downloaded"]
    assert audit["data"] == {"message_id": seeded.message_id, "position": 0}
    assert audit["actor_id"] is not None and "相談" not in json.dumps(audit, ensure_ascii=False)
    # An admin (not also a supervisor) manages accounts, not the work: no conversation's event.
    async with (
        await sign_in(seeded.url, "admin") as admin,
        admin.get(f"{seeded.url}/api/events") as r,
    ):
        assert r.status == 200
        events = (await r.json())["events"]
    assert events and all(e["conversation_id"] is None for e in events)
    assert "attachment_downloaded" not in {e["kind"] for e in events}


async def test_the_message_lists_which_attachments_can_be_downloaded(seeded: Seeded) -> None:
    async with await sign_in(seeded.url, "sato") as sato:
        async with sato.get(f"{seeded.url}/api/conversations") as r:
            (conv,) = (await r.json())["conversations"]
        async with sato.get(f"{seeded.url}/api/conversations/{conv['id']}") as r:
            (msg,) = (await r.json())["messages"]
    assert [(a["stored"], a["download_url"]) for a in msg["attachments"]] == [
        (True, f"/api/messages/{seeded.message_id}/attachments/0"),
        (False, None),
    ]


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("admin", (403, "forbidden")),  # admins manage accounts, see no conversations
        ("suzuki", (404, "not_found")),  # another counselor's conversation
        ("phone", (404, "not_found")),  # phone staff see phone conversations only
    ],
)
async def test_others_are_refused(seeded: Seeded, username: str, expected: tuple[int, str]) -> None:
    async with await sign_in(seeded.url, username) as staff:
        status, body, _ = await _get(
            staff, f"{seeded.url}/api/messages/{seeded.message_id}/attachments/0"
        )
    assert (status, json.loads(body)["error"]["code"]) == expected


async def test_admin_is_refused_before_anything_is_looked_up(seeded: Seeded) -> None:
    async with await sign_in(seeded.url, "admin") as admin:
        status, _, _ = await _get(admin, f"{seeded.url}/api/messages/999/attachments/0")
    assert status == 403


@pytest.mark.parametrize(
    "path",
    [
        "{m}/attachments/1",  # refused: listed, not stored
        "{m}/attachments/2",  # no such position
        "{m}/attachments/99999999999999999999",
        "{m}/attachments/x",
        "999/attachments/0",  # no such message
        "99999999999999999999999/attachments/0",
        "abc/attachments/0",
    ],
)
async def test_unknown_or_refused_is_404(seeded: Seeded, path: str) -> None:
    async with await sign_in(seeded.url, "boss") as boss:
        url = f"{seeded.url}/api/messages/" + path.format(m=seeded.message_id)
        status, body, _ = await _get(boss, url)
    assert status == 404, body


async def test_signed_out_is_401(seeded: Seeded) -> None:
    async with aiohttp.ClientSession() as anonymous:
        status, _, _ = await _get(
            anonymous, f"{seeded.url}/api/messages/{seeded.message_id}/attachments/0"
        )
    assert status == 401


def test_names_and_types_become_safe_headers() -> None:
    assert content_disposition('a"b\\c/d\r\n.pdf') == (
        "attachment; filename=\"a_b_c_d__.pdf\"; filename*=UTF-8''a%22b%5Cc%2Fd%0D%0A.pdf"
    )
    assert (
        content_disposition("  ")
        == "attachment; filename=\"attachment\"; filename*=UTF-8''attachment"
    )
    assert media_type("application/pdf") == "application/pdf"
    assert media_type("text/html\r\nSet-Cookie: x") == "application/octet-stream"
    assert media_type("") == "application/octet-stream"
