"""channels.mail_imap_wire: the response shapes aioimaplib hands back, without a server."""

from __future__ import annotations

import pytest

from channels import mail_imap_wire as wire


@pytest.mark.parametrize(
    ("uids", "expected"),
    [([1], "1"), ([3, 1, 2], "1:3"), ([1, 2, 3, 7, 9, 10], "1:3,7,9:10"), ([5, 5, 6], "5:6")],
)
def test_uid_set_uses_ranges(uids: list[int], expected: str) -> None:
    assert wire.uid_set(uids) == expected


@pytest.mark.parametrize("uids", [[], [0, 1]])
def test_uid_set_rejects_nothing_and_zero(uids: list[int]) -> None:
    with pytest.raises(ValueError):
        wire.uid_set(uids)


def test_search_uids() -> None:
    assert wire.search_uids([b"3 1 2", b"Search completed (0.001 secs)."]) == [1, 2, 3]
    assert wire.search_uids([b"", b"Search completed."]) == []


def test_fetch_bodies_many_messages_and_odd_shapes() -> None:
    lines: list[bytes | bytearray] = [
        b"1 FETCH (UID 10 BODY[] {5}",
        bytearray(b"a) {3"),
        b")",
        b"2 FETCH (FLAGS (\\Seen))",  # unsolicited flag change, no body
        b"3 FETCH (BODY[] {4}",  # UID after the literal
        bytearray(b"UID "),
        b" UID 12)",
        b"4 FETCH (UID 13 BODY[] NIL)",  # expunged meanwhile
        b"5 FETCH (UID 14 BODY[] {0}",
        bytearray(b""),
        b")",
        b"Fetch completed.",
    ]
    assert wire.fetch_bodies(lines) == {10: b"a) {3", 12: b"UID ", 14: b""}


def test_response_code_and_status_numbers() -> None:
    assert wire.response_code([b"[AUTHENTICATIONFAILED] Authentication failed."]) == (
        "AUTHENTICATIONFAILED"
    )
    assert wire.response_code([b"Logged in"]) is None
    select = [
        b"3 EXISTS",
        b"OK [UIDVALIDITY 1795325530] UIDs valid",
        b"OK [UIDNEXT 4] Predicted next UID",
        b"[READ-WRITE] Select completed.",
    ]
    assert wire.status_number(select, "UIDVALIDITY") == 1795325530
    assert wire.status_number(select, "UIDNEXT") == 4
    assert wire.status_number(select, "HIGHESTMODSEQ") is None


def test_has_exists() -> None:
    assert wire.has_exists([b"4 EXISTS", b"1 RECENT"])
    assert not wire.has_exists([b"OK Still here"])
    assert not wire.has_exists([b"3 EXPUNGE"])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'(\\Noselect) "." ""', "."),
        (b'LIST (\\Noselect) "/" ""', "/"),
        (b'(\\Noselect) "\\\\" ""', "\\"),
        (b'(\\Noselect) NIL ""', None),
    ],
)
def test_list_delimiter(line: bytes, expected: str | None) -> None:
    assert wire.list_delimiter([line, b"List completed."]) == expected


def test_mailbox_argument() -> None:
    assert wire.mailbox_argument("Tsunagu/Stored", ".") == '"Tsunagu.Stored"'
    assert wire.mailbox_argument("Tsunagu/Stored", "/") == '"Tsunagu/Stored"'
    assert wire.mailbox_argument("Single", None) == '"Single"'
    # RFC 3501 5.1.3's example, and "&" escaped as "&-"
    assert wire.quote_mailbox("~peter/mail/日本語/台北") == '"~peter/mail/&ZeVnLIqe-/&U,BTFw-"'
    assert wire.quote_mailbox('A&B "q"') == '"A&-B \\"q\\""'
    with pytest.raises(ValueError):
        wire.mailbox_argument("a/b", None)
    with pytest.raises(ValueError):
        wire.quote_mailbox("bad\r\nA1 LOGOUT")


@pytest.mark.parametrize("flag", ["$TsunaguStored", "\\Seen", "Junk"])
def test_check_keyword_accepts(flag: str) -> None:
    assert wire.check_keyword(flag) == flag


@pytest.mark.parametrize("flag", ["", "two words", "a)b", "相談", "x\r\ny"])
def test_check_keyword_rejects(flag: str) -> None:
    with pytest.raises(ValueError):
        wire.check_keyword(flag)
