"""compose_reply and the threading helpers, checked on the bytes that go out and, for the
round trip, through parse_mail again."""

from __future__ import annotations

import email
import email.utils
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.mail_compose import (
    MAX_REFERENCES,
    compose_reply,
    make_message_id,
    our_tokens,
    reply_subject,
)
from channels.mail_parse import LOOP_HEADER, AutoKind, parse_mail

NOW = datetime(2026, 11, 20, 1, 2, 3, tzinfo=UTC)
OUR_ID = "tsunagu.c0nv-42.m-7@soudan.example.jp"
Charset = Literal["utf-8", "iso-2022-jp"]


def reply(
    *,
    body: str = "ご連絡ありがとうございます。\n明日お電話します。\n",
    subject: str = "ご相談",
    from_name: str = "DV相談ホットライン 佐藤",
    charset: Charset = "iso-2022-jp",
    discretion: bool = False,
    in_reply_to: str | None = "<their.1@example.com>",
    references: Sequence[str] = ("<root@example.com>",),
    auto_submitted: bool = False,
    to_addr: str = "consulter@example.com",
    now: datetime | None = NOW,
) -> EmailMessage:
    return compose_reply(
        from_addr="soudan@soudan.example.jp",
        from_name=from_name,
        to_addr=to_addr,
        subject=subject,
        body=body,
        message_id=OUR_ID,
        in_reply_to=in_reply_to,
        references=references,
        charset=charset,
        discretion=discretion,
        neutral_name="事務局",
        neutral_subject="ご連絡",
        auto_submitted=auto_submitted,
        loop_token="loop-abc",
        now=now,
    )


def conversation_token_from(message_ids: Sequence[str], domain: str) -> str | None:
    """The token of the first of our own ids: the closest in the thread wins."""
    return next(our_tokens(message_ids, domain), None)


def header_lines(data: bytes) -> dict[str, str]:
    """Raw header lines as sent (unfolded), to check what is on the wire, not what a parser
    makes of it."""
    head = data.split(b"\n\n", 1)[0].decode("ascii")
    out: dict[str, str] = {}
    for line in head.replace("\n ", " ").replace("\n\t", " ").split("\n"):
        name, _, value = line.partition(":")
        out[name] = value.strip()
    return out


def reparse(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- ids and subjects --------------------------------------------------------------------------


def test_make_message_id() -> None:
    assert make_message_id("c0nv-42", "m-7", "Soudan.Example.JP") == OUR_ID


@pytest.mark.parametrize(
    ("token", "unique", "domain"),
    [
        ("has.dot", "u", "example.jp"),
        ("", "u", "example.jp"),
        ("tok", "u@x", "example.jp"),
        ("tok", "u", "exa mple.jp"),
        ("tok", "u", "例え.jp"),
        ("tok\r\nBcc: x", "u", "example.jp"),
    ],
)
def test_make_message_id_rejects_what_would_break_the_header(
    token: str, unique: str, domain: str
) -> None:
    with pytest.raises(ValueError):
        make_message_id(token, unique, domain)


def test_conversation_token_from() -> None:
    domain = "soudan.example.jp"
    assert conversation_token_from([f"<{OUR_ID}>"], domain) == "c0nv-42"
    assert conversation_token_from([OUR_ID], domain.upper()) == "c0nv-42"
    assert conversation_token_from(
        ["<a@b>", "tsunagu.first.x@soudan.example.jp", OUR_ID], domain
    ) == ("first")
    assert conversation_token_from(["<tsunagu.c0nv-42.m-7@other.example>"], domain) is None
    assert conversation_token_from(["<tsunagu.c0nv-42.m-7@evil.soudan.example.jp>"], domain) is None
    assert conversation_token_from(["<nottsunagu.c0nv-42.m-7@soudan.example.jp>"], domain) is None
    assert conversation_token_from([], domain) is None


def test_token_survives_a_parsed_reply() -> None:
    """The way the inbox uses it: the consulter answers our mail, we find the conversation."""
    ours = reply()
    answer = EmailMessage()
    answer["Message-ID"] = "<answer@example.com>"
    answer["In-Reply-To"] = ours["Message-ID"]
    answer["References"] = f"{ours['References']} {ours['Message-ID']}"
    answer.set_content("ありがとうございました")
    parsed = parse_mail(answer.as_bytes(), max_attachment_bytes=1024)
    ids = [parsed.in_reply_to or "", *reversed(parsed.references)]
    assert conversation_token_from(ids, "soudan.example.jp") == "c0nv-42"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("ご相談", "Re: ご相談"),
        ("Re: ご相談", "Re: ご相談"),
        ("RE: Re: re: ご相談", "Re: ご相談"),
        ("Re[2]: ご相談", "Re: ご相談"),
        ("Re(3): ご相談", "Re: ご相談"),
        ("Re^2: ご相談", "Re: ご相談"),
        ("Ｒｅ：ご相談", "Re: ご相談"),
        ("ＲＥ： Ｒｅ［２］：ご相談", "Re: ご相談"),
        ("返信: RE: 返信：ご相談", "Re: ご相談"),
        ("  Re:   ご相談  の件 ", "Re: ご相談 の件"),
        ("Fwd: ご相談", "Re: Fwd: ご相談"),
        ("Re:\u3000ご相談\u3000です", "Re: ご相談\u3000です"),  # U+3000 inside the text stays
        ("Regarding: ご相談", "Re: Regarding: ご相談"),
        ("Re:", "Re:"),
        ("", "Re:"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected
    assert reply_subject(reply_subject(subject)) == expected


# --- the message --------------------------------------------------------------------------------


def test_iso2022jp_reply_on_the_wire() -> None:
    data = reply().as_bytes()
    assert data.isascii()  # 7bit all the way: headers as encoded-words, body as JIS
    headers = header_lines(data)
    assert headers["Subject"].startswith("=?iso-2022-jp?b?")
    assert headers["From"].startswith("=?iso-2022-jp?b?")
    assert headers["From"].endswith("<soudan@soudan.example.jp>")
    assert headers["Content-Type"] == 'text/plain; charset="iso-2022-jp"'
    assert headers["Content-Transfer-Encoding"] == "7bit"
    assert headers["Date"] == "Fri, 20 Nov 2026 01:02:03 +0000"
    assert headers["Message-ID"] == f"<{OUR_ID}>"
    assert headers["In-Reply-To"] == "<their.1@example.com>"
    assert headers["References"] == "<root@example.com> <their.1@example.com>"
    assert headers["MIME-Version"] == "1.0"
    assert headers[LOOP_HEADER] == "loop-abc"
    assert "Auto-Submitted" not in headers
    body = data.split(b"\n\n", 1)[1]
    assert body.decode("iso-2022-jp") == "ご連絡ありがとうございます。\n明日お電話します。\n"


def test_iso2022jp_headers_decode_with_the_strict_codec() -> None:
    msg = reparse(reply())
    assert str(msg["Subject"]) == "Re: ご相談"
    assert msg["From"].addresses[0].display_name == "DV相談ホットライン 佐藤"
    assert msg.get_content() == "ご連絡ありがとうございます。\n明日お電話します。\n"


@pytest.mark.parametrize(
    "body",
    ["絵文字です🙏", "①の件", "㈱つなぐ", "ﾊﾝｶｸ", "髙橋", "全角チルダ～"],
)
def test_iso2022jp_falls_back_to_utf8_for_the_whole_mail(body: str) -> None:
    data = reply(body=body).as_bytes()
    headers = header_lines(data)
    assert headers["Content-Type"] == 'text/plain; charset="utf-8"'
    assert "iso-2022-jp" not in data.decode("ascii", errors="replace")
    parsed = parse_mail(data, max_attachment_bytes=0)
    assert (parsed.body, parsed.subject) == (body, "Re: ご相談")


def test_subject_alone_can_force_utf8() -> None:
    data = reply(subject="①の件").as_bytes()
    assert 'charset="utf-8"' in data.decode()
    assert parse_mail(data, max_attachment_bytes=0).subject == "Re: ①の件"


def test_utf8_reply() -> None:
    msg = reply(charset="utf-8")
    assert msg.get_content_charset() == "utf-8"
    assert header_lines(msg.as_bytes())["Subject"].startswith("=?utf-8?")
    again = reparse(msg)
    assert str(again["Subject"]) == "Re: ご相談"
    assert again.get_content() == "ご連絡ありがとうございます。\n明日お電話します。\n"


def test_long_jis_paragraph_goes_base64() -> None:
    body = "長い段落です。" * 200
    data = reply(body=body).as_bytes()
    assert header_lines(data)["Content-Transfer-Encoding"] == "base64"
    assert max(len(line) for line in data.split(b"\n")) <= 78
    assert parse_mail(data, max_attachment_bytes=0).body == body


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_discretion_hides_the_program(charset: Charset) -> None:
    msg = reply(discretion=True, charset=charset, subject="DV相談の予約")
    parsed = parse_mail(msg.as_bytes(), max_attachment_bytes=0)
    assert parsed.sender_name == "事務局"
    assert parsed.subject == "ご連絡"
    decoded_headers = " ".join(f"{k}: {v}" for k, v in reparse(msg).items())
    for secret in ("DV", "相談", "ホットライン", "予約"):
        assert secret not in decoded_headers
    assert "X-Mailer" not in msg
    assert "Organization" not in msg


def test_auto_submitted() -> None:
    msg = reply(auto_submitted=True)
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    # our own mail coming back is a loop whatever else it says
    assert parse_mail(msg.as_bytes(), max_attachment_bytes=0).auto is AutoKind.LOOP


def test_no_parent() -> None:
    msg = reply(in_reply_to=None, references=())
    assert "In-Reply-To" not in msg
    assert "References" not in msg


def test_references_deduplicated_and_capped() -> None:
    refs = [f"<r{i}@example.com>" for i in range(30)]
    msg = reply(
        references=[*refs, "r5@example.com", " <r29@example.com> "], in_reply_to="<r29@example.com>"
    )
    sent = str(msg["References"]).split()
    assert len(sent) == MAX_REFERENCES
    assert sent[0] == "<r0@example.com>"  # the thread root stays: clients thread on it
    assert sent[1:] == [f"<r{i}@example.com>" for i in range(11, 30)]
    assert msg["In-Reply-To"] == "<r29@example.com>"


def test_in_reply_to_is_appended_to_references() -> None:
    msg = reply(references=["a@x", "<b@x>"], in_reply_to="c@x")
    assert str(msg["References"]) == "<a@x> <b@x> <c@x>"


def test_garbage_ids_are_left_out() -> None:
    msg = reply(references=["<ok@x>", "has space@x", "日本@x", "", "<>"], in_reply_to="<ok2@x>")
    assert str(msg["References"]) == "<ok@x> <ok2@x>"


def test_header_injection_is_impossible() -> None:
    msg = reply(subject="件名\r\nBcc: victim@example.com", charset="utf-8")
    assert "Bcc" not in reparse(msg)
    assert str(reparse(msg)["Subject"]) == "Re: 件名 Bcc: victim@example.com"
    with pytest.raises(ValueError):
        reply(to_addr="b@x\r\nBcc: victim@example.com", charset="utf-8")


def test_date_defaults_to_now_and_must_be_aware() -> None:
    sent = email.utils.parsedate_to_datetime(str(reply(now=None)["Date"]))
    assert abs(sent - datetime.now(UTC)) < timedelta(minutes=1)
    jst = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=9)))
    assert str(reply(now=jst)["Date"]) == "Fri, 20 Nov 2026 10:00:00 +0900"
    with pytest.raises(ValueError):
        reply(now=datetime(2026, 1, 1))


# --- round trip ---------------------------------------------------------------------------------

_JAPANESE = st.one_of(
    st.characters(min_codepoint=0x3041, max_codepoint=0x3096),  # hiragana
    st.characters(min_codepoint=0x30A1, max_codepoint=0x30FA),  # katakana
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),  # kanji, JIS and beyond
    st.sampled_from("相談窓口日本語東京都髙①㈱ﾃｽﾄ～〜ー、。！？「」（）・…\u3000"),
    st.sampled_from("abcXYZ019 .,!?@#%&*()[]{}=+_/\\'\""),
    st.sampled_from("🙏🍣😀"),
)
_LINE = st.text(_JAPANESE, min_size=1, max_size=60).map(str.strip).filter(bool)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(_LINE, min_size=1, max_size=8),
    subject=st.lists(_LINE, min_size=1, max_size=4).map(" ".join),
    name=_LINE,
    charset=st.sampled_from(["utf-8", "iso-2022-jp"]),
    discretion=st.booleans(),
)
def test_round_trip(
    lines: list[str], subject: str, name: str, charset: Charset, discretion: bool
) -> None:
    body = "\n".join(lines)
    msg = reply(body=body, subject=subject, charset=charset, discretion=discretion, from_name=name)
    parsed = parse_mail(msg.as_bytes(), max_attachment_bytes=0)
    assert parsed.body == body
    assert parsed.quoted == ""
    assert parsed.subject == ("ご連絡" if discretion else reply_subject(subject))
    assert parsed.sender_name == ("事務局" if discretion else name)
    assert parsed.sender == "soudan@soudan.example.jp"
    assert parsed.message_id == OUR_ID
    assert parsed.in_reply_to == "their.1@example.com"
    assert parsed.references == ("root@example.com", "their.1@example.com")
    assert parsed.date == NOW
    assert parsed.warnings == ()
    assert parsed.auto is AutoKind.LOOP
