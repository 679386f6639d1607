"""parse_mail on mails built the way real clients build them: Outlook's ISO-2022-JP with
Windows characters, Shift_JIS/EUC-JP/UTF-8, HTML-only, quoted replies, bounces, broken MIME."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage

import pytest

import channels.mail_parse
from channels.mail_parse import LOOP_HEADER, AutoKind, MailAttachment, ParsedMail, parse_mail

MB = 1024 * 1024
LIMIT = 5 * MB


def parse(data: bytes, limit: int = LIMIT) -> ParsedMail:
    parsed = parse_mail(data, max_attachment_bytes=limit)
    for text in (parsed.body, parsed.quoted, parsed.subject, parsed.sender_name):
        assert "\ufffd" not in text
        assert "\r" not in text
    return parsed


def raw(*headers: str | bytes, body: bytes | str = b"") -> bytes:
    """A message exactly as given: header lines, a blank line, the body (CRLF line ends)."""
    lines = [h if isinstance(h, bytes) else h.encode() for h in headers]
    data = body if isinstance(body, bytes) else body.encode()
    return b"\r\n".join(lines) + b"\r\n\r\n" + data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def cp50221(text: str) -> bytes:
    """ISO-2022-JP the way Outlook writes it (CP50221): cp932 mapped back to JIS, including
    NEC/IBM extension rows and half-width kana after ESC ( I."""
    out, mode = bytearray(), "ascii"

    def switch(new: str, escape: bytes) -> None:
        nonlocal mode
        if mode != new:
            out.extend(escape)
            mode = new

    for ch in text:
        code = ch.encode("cp932")
        if len(code) == 1 and code[0] < 0x80:
            switch("ascii", b"\x1b(B")
            out.extend(code)
        elif len(code) == 1:
            switch("kana", b"\x1b(I")
            out.append(code[0] - 0x80)
        else:
            switch("kanji", b"\x1b$B")
            s1, s2 = code
            s1 -= 0x40 if s1 >= 0xE0 else 0
            c1 = (s1 - 0x81) * 2 + 0x21
            if s2 >= 0x9F:
                c1, c2 = c1 + 1, s2 - 0x7E
            else:
                c2 = s2 - 0x1F - (1 if s2 >= 0x80 else 0)
            out.extend((c1, c2))
    switch("ascii", b"\x1b(B")
    return bytes(out)


def b_word(charset: str, data: bytes) -> str:
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


# --- Japanese encodings ------------------------------------------------------------------------

OUTLOOK_BODY = "髙橋です。\n①の件、㈱つなぐ様へ確認します～\nﾊﾝｶｸｶﾅも入ります。\n"


def outlook_mail() -> bytes:
    return raw(
        "From: " + b_word("ISO-2022-JP", cp50221("髙橋 ①子")) + " <Takahashi@Example.CO.JP>",
        "To: soudan@example.jp",
        "Subject: " + b_word("ISO-2022-JP", cp50221("㈱の件①ﾃｽﾄ～")),
        "Date: Fri, 20 Nov 2026 10:00:00 +0900",
        "Message-ID: <OUTLOOK.1234@example.co.jp>",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="iso-2022-jp"',
        "Content-Transfer-Encoding: 7bit",
        "X-Auto-Response-Suppress: All",  # Outlook sets it on every mail: not an auto-reply
        "X-Mailer: Microsoft Outlook 16.0",
        body=cp50221(OUTLOOK_BODY),
    )


def test_stdlib_really_loses_outlook_characters() -> None:
    """The reason for mail_jis: the email package alone turns these into U+FFFD."""
    import email
    from email import policy

    msg = email.message_from_bytes(outlook_mail(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    assert "\ufffd" in msg.get_content()


def test_outlook_iso2022jp_with_windows_characters() -> None:
    parsed = parse(outlook_mail())
    assert parsed.body == OUTLOOK_BODY.rstrip("\n")
    assert parsed.subject == "㈱の件①ﾃｽﾄ～"
    assert parsed.sender_name == "髙橋 ①子"
    assert parsed.sender == "takahashi@example.co.jp"
    assert parsed.message_id == "OUTLOOK.1234@example.co.jp"
    assert parsed.date == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert parsed.auto is AutoKind.NONE
    assert parsed.warnings == ()
    assert parsed.quoted == ""


def test_plain_iso2022jp_keeps_pythons_mapping() -> None:
    text = "お疲れ様です。〜明日は１０時から‖です。"
    parsed = parse(
        raw(
            "From: " + Header("山田太郎", "iso-2022-jp").encode() + " <yamada@example.jp>",
            "Subject: " + Header("会議の件（テスト）", "iso-2022-jp").encode(),
            "Message-ID: <a@b>",
            "Content-Type: text/plain; charset=ISO-2022-JP",
            body=text.encode("iso-2022-jp"),
        )
    )
    assert (parsed.body, parsed.subject, parsed.sender_name) == (
        text,
        "会議の件（テスト）",
        "山田太郎",
    )


def test_encoded_word_split_inside_a_character() -> None:
    """Some mailers cut a multi-byte character between two encoded-words."""
    data = cp50221("①②③の件")
    folded = b_word("iso-2022-jp", data[:6]) + "\r\n " + b_word("iso-2022-jp", data[6:])
    parsed = parse(raw("Subject: Re: " + folded, "From: a@example.jp", body="x"))
    assert parsed.subject == "Re: ①②③の件"


def test_q_encoded_and_mixed_charset_subject() -> None:
    subject = "Subject: =?UTF-8?Q?=E7=9B=B8=E8=AB=87_?= =?shift_jis?B?" + (
        base64.b64encode("①㈱".encode("cp932")).decode() + "?= (2)"
    )
    assert parse(raw(subject, body="x")).subject == "相談 ①㈱ (2)"


def test_shift_jis_body_and_header() -> None:
    parsed = parse(
        raw(
            "From: " + b_word("Shift_JIS", "佐藤".encode("cp932")) + " <sato@example.jp>",
            "Subject: " + b_word("SJIS", "①番の相談".encode("cp932")),
            "Message-ID: <sjis@example.jp>",
            "Content-Type: text/plain; charset=Shift_JIS",
            "Content-Transfer-Encoding: 8bit",
            body="㈱髙島屋の①について～\n".encode("cp932"),
        )
    )
    assert (parsed.sender_name, parsed.subject) == ("佐藤", "①番の相談")
    assert parsed.body == "㈱髙島屋の①について～"
    assert parsed.warnings == ()


def test_euc_jp_body_with_nec_characters() -> None:
    plain = "日本語のメール、半角ｶﾅ".encode("euc_jp")
    parsed = parse(
        raw(
            "Subject: " + b_word("EUC-JP", "件名".encode("euc_jp")),
            "Message-ID: <euc@example.jp>",
            "Content-Type: text/plain; charset=euc-jp",
            "Content-Transfer-Encoding: 8bit",
            body=plain + b"\n\xad\xa1\xad\xa2",  # eucJP-ms NEC row 13: ① ②
        )
    )
    assert parsed.subject == "件名"
    assert parsed.body == "日本語のメール、半角ｶﾅ\n①②"
    assert parsed.warnings == ()


def test_utf8_message_built_by_the_email_package() -> None:
    msg = EmailMessage()
    msg["From"] = "山田 太郎 <yamada@example.jp>"
    msg["To"] = "soudan@example.jp"
    msg["Subject"] = "相談したいことがあります 🙏"
    msg["Message-ID"] = "<u8@example.jp>"
    msg.set_content("はじめまして。\r\n絵文字も使います🍣\r\n")
    parsed = parse(msg.as_bytes())
    assert parsed.subject == "相談したいことがあります 🙏"
    assert parsed.sender_name == "山田 太郎"
    assert parsed.body == "はじめまして。\n絵文字も使います🍣"


def test_raw_8bit_headers() -> None:
    parsed = parse(
        raw(
            "From: 山田 花子 <Hanako@example.jp>".encode(),
            "Subject: 日本語の件名です".encode(),
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            body="本文".encode(),
        )
    )
    assert (parsed.sender_name, parsed.sender, parsed.subject) == (
        "山田 花子",
        "hanako@example.jp",
        "日本語の件名です",
    )


def test_raw_8bit_shift_jis_header_falls_back_to_cp932() -> None:
    parsed = parse(raw(b"Subject: " + "①の件".encode("cp932"), body="x"))
    assert parsed.subject == "①の件"


def test_missing_charset_is_guessed_with_a_warning() -> None:
    parsed = parse(raw("Subject: x", "Content-Type: text/plain", body="相談です".encode("cp932")))
    assert parsed.body == "相談です"
    assert "no charset declared; decoded as cp932" in parsed.warnings


def test_missing_charset_utf8_needs_no_warning() -> None:
    parsed = parse(raw("Subject: x", "Message-ID: <q@x>", body="相談です".encode()))
    assert (parsed.body, parsed.warnings) == ("相談です", ())


def test_unknown_charset_is_guessed_with_a_warning() -> None:
    parsed = parse(raw("Content-Type: text/plain; charset=x-klingon", body="こんにちは".encode()))
    assert parsed.body == "こんにちは"
    assert "could not decode part as charset x-klingon; decoded as utf-8" in parsed.warnings


def test_wrong_charset_label_falls_back() -> None:
    parsed = parse(raw("Content-Type: text/plain; charset=utf-8", body="①相談".encode("cp932")))
    assert parsed.body == "①相談"
    assert "could not decode part as charset utf-8; decoded as cp932" in parsed.warnings


# --- structure: HTML, alternatives, attachments -------------------------------------------------

HTML = """<html><head><title>件名</title><style>p { color: red }</style>
<script>alert("x")</script></head>
<body><p>こんにちは&amp;ありがとう&nbsp;ございます。</p>
<div>改行<br>しました &lt;b&gt;太字ではない&lt;/b&gt;</div>
<ul><li>一つ目</li><li>二つ目</li></ul>
<p>


</p><p>終わり</p></body></html>"""


def test_html_only_mail_becomes_plain_text() -> None:
    msg = EmailMessage()
    msg["Subject"] = "HTML"
    msg.set_content(HTML, subtype="html")
    parsed = parse(msg.as_bytes())
    assert parsed.body == (
        "こんにちは&ありがとう ございます。\n\n改行\nしました <b>太字ではない</b>\n\n"
        "一つ目\n\n二つ目\n\n終わり"
    )
    assert "alert" not in parsed.body
    assert "color" not in parsed.body


def test_truncated_html_leaves_no_markup() -> None:
    msg = EmailMessage()
    msg.set_content("<p>本文</p><p>続き<a href='https://exa", subtype="html")
    assert parse(msg.as_bytes()).body == "本文\n\n続き"


def test_alternative_prefers_plain() -> None:
    msg = EmailMessage()
    msg.set_content("プレーンテキスト版\n")
    msg.add_alternative("<p>HTML版</p>", subtype="html")
    parsed = parse(msg.as_bytes())
    assert parsed.body == "プレーンテキスト版"
    assert parsed.attachments == ()


def test_alternative_with_empty_plain_uses_html() -> None:
    msg = EmailMessage()
    msg.set_content("\n \n")
    msg.add_alternative("<p>本当の本文</p>", subtype="html")
    assert parse(msg.as_bytes()).body == "本当の本文"


def test_inline_image_of_the_html_alternative_is_kept() -> None:
    msg = EmailMessage()
    msg.set_content("写真を送ります")
    msg.add_alternative('<p>写真を送ります<img src="cid:p1"></p>', subtype="html")
    alternatives = msg.get_payload()
    assert isinstance(alternatives, list)
    html_part = alternatives[1]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(b"\x89PNG fake", maintype="image", subtype="png", cid="<p1>")
    parsed = parse(msg.as_bytes())
    assert parsed.body == "写真を送ります"
    assert [(a.content_type, a.content) for a in parsed.attachments] == [
        ("image/png", b"\x89PNG fake")
    ]
    assert parsed.attachments[0].filename == "attachment-1.png"


def test_attachments_kept_and_oversize_refused() -> None:
    msg = EmailMessage()
    msg["Message-ID"] = "<att@example.jp>"
    msg.set_content("資料を添付します。")
    msg.add_attachment(b"%PDF-1.7 small", maintype="application", subtype="pdf", filename="a.pdf")
    msg.add_attachment(b"x" * (12 * MB), maintype="application", subtype="pdf", filename="x.pdf")
    msg.add_attachment("メモ".encode(), maintype="text", subtype="plain", filename="相談メモ.txt")
    parsed = parse(msg.as_bytes())
    assert parsed.body == "資料を添付します。"
    assert parsed.attachments == (
        MailAttachment(
            filename="a.pdf",
            content_type="application/pdf",
            size_bytes=14,
            content=b"%PDF-1.7 small",
        ),
        MailAttachment(
            filename="x.pdf",
            content_type="application/pdf",
            size_bytes=12 * MB,
            content=None,
            refused=True,
        ),
        MailAttachment(
            filename="相談メモ.txt",
            content_type="text/plain",
            size_bytes=6,
            content="メモ".encode(),
        ),
    )
    assert parsed.warnings == (
        "attachment 'x.pdf' (12 MB) exceeds the 5 MB limit and was not kept",
    )


def test_attachment_exactly_at_the_limit_is_kept() -> None:
    msg = EmailMessage()
    msg["Message-ID"] = "<lim@x>"
    msg.set_content("x")
    msg.add_attachment(b"y" * 100, maintype="application", subtype="octet-stream", filename="b")
    assert parse(msg.as_bytes(), limit=100).attachments[0].content == b"y" * 100
    refused = parse(msg.as_bytes(), limit=99)
    assert refused.attachments[0].refused
    assert refused.warnings == (
        "attachment 'b' (100 bytes) exceeds the 99 bytes limit and was not kept",
    )


def test_outlook_encoded_word_filename_and_path_stripped() -> None:
    name = b_word("ISO-2022-JP", cp50221("①議事録㈱.pdf"))
    parsed = parse(
        raw(
            "Message-ID: <f@x>",
            'Content-Type: multipart/mixed; boundary="b1"',
            body=(
                "--b1\nContent-Type: text/plain; charset=us-ascii\n\nsee attached\n"
                f'--b1\nContent-Type: application/pdf; name="{name}"\n'
                f'Content-Disposition: attachment; filename="{name}"\n'
                "Content-Transfer-Encoding: base64\n\nJVBERi0=\n"
                "--b1\nContent-Type: application/octet-stream\nContent-Disposition: attachment;"
                ' filename="../../etc/passwd"\n\nroot\n'
                "--b1--\n"
            ),
        )
    )
    assert [a.filename for a in parsed.attachments] == ["①議事録㈱.pdf", "passwd"]
    assert parsed.attachments[0].content == b"%PDF-"
    assert parsed.body == "see attached"


def test_forwarded_message_is_an_attachment() -> None:
    inner = EmailMessage()
    inner["Subject"] = "転送元"
    inner.set_content("元のメール")
    msg = EmailMessage()
    msg.set_content("転送します")
    msg.add_attachment(inner)
    parsed = parse(msg.as_bytes())
    assert parsed.body == "転送します"
    (attached,) = parsed.attachments
    assert attached.content_type == "message/rfc822"
    assert attached.filename == "attachment-1.eml"
    assert attached.content is not None
    assert parse(attached.content).body == "元のメール"


# --- quoted replies -----------------------------------------------------------------------------


def text_mail(body: str) -> bytes:
    msg = EmailMessage()
    msg["Message-ID"] = "<q@example.jp>"
    msg.set_content(body)
    return msg.as_bytes()


@pytest.mark.parametrize(
    ("text", "body", "quoted"),
    [
        (
            "Thanks, see you then.\n\nOn Fri, Nov 20, 2026 at 10:00 AM Counselor <\n"
            "soudan@example.jp> wrote:\n\n> When are you free?\n> Regards\n",
            "Thanks, see you then.",
            "On Fri, Nov 20, 2026 at 10:00 AM Counselor <\nsoudan@example.jp> wrote:\n\n"
            "> When are you free?\n> Regards",
        ),
        (
            "ありがとうございます。\n明日伺います。\n\n"
            "2026年11月20日(金) 10:00 山田 <yamada@example.jp>:\n"
            "> ご都合はいかがですか。\n>\n> 山田\n",
            "ありがとうございます。\n明日伺います。",
            "2026年11月20日(金) 10:00 山田 <yamada@example.jp>:\n"
            "> ご都合はいかがですか。\n>\n> 山田",
        ),
        (
            "承知しました。\n\n2026/11/20 10:00、相談窓口 さんは書きました:\n＞ 全角の引用記号\n",
            "承知しました。",
            "2026/11/20 10:00、相談窓口 さんは書きました:\n＞ 全角の引用記号",
        ),
        (
            "了解です。\n\n-----Original Message-----\nFrom: Soudan\nSent: Friday\n\nold text\n",
            "了解です。",
            "-----Original Message-----\nFrom: Soudan\nSent: Friday\n\nold text",
        ),
        (
            "よろしくお願いします\n----- 元のメッセージ -----\n差出人: 相談窓口\n\n以前の本文",
            "よろしくお願いします",
            "----- 元のメッセージ -----\n差出人: 相談窓口\n\n以前の本文",
        ),
        (
            "返信です\n\n________________________________\n差出人: 相談窓口 <s@x.jp>\n"
            "送信日時: 2026年11月20日 10:00\n宛先: me\n件名: ご相談\n\n前回の本文",
            "返信です",
            "________________________________\n差出人: 相談窓口 <s@x.jp>\n"
            "送信日時: 2026年11月20日 10:00\n宛先: me\n件名: ご相談\n\n前回の本文",
        ),
        (
            "返信です\n\nFrom: Soudan <s@x.jp>\nSent: Friday, November 20, 2026 10:00\n\nbody",
            "返信です",
            "From: Soudan <s@x.jp>\nSent: Friday, November 20, 2026 10:00\n\nbody",
        ),
        # an inline answer stays new text: nothing trails it that could be cut off
        ("> 質問1\n回答1\n> 質問2\n回答2", "> 質問1\n回答1\n> 質問2\n回答2", ""),
        ("> only a quote\n> nothing new", "", "> only a quote\n> nothing new"),
        ("no quote at all\n\n", "no quote at all", ""),
    ],
)
def test_quoted_reply_is_split_off(text: str, body: str, quoted: str) -> None:
    parsed = parse(text_mail(text))
    assert (parsed.body, parsed.quoted) == (body, quoted)


def test_html_reply_blockquote_is_quoted() -> None:
    msg = EmailMessage()
    msg.set_content(
        "<div>はい、大丈夫です。</div><div class=gmail_quote>"
        "<div>2026年11月20日(金) 10:00 相談窓口 &lt;s@example.jp&gt;:</div>"
        "<blockquote><div>明日はいかがですか？</div></blockquote></div>",
        subtype="html",
    )
    parsed = parse(msg.as_bytes())
    assert parsed.body == "はい、大丈夫です。"
    assert (
        parsed.quoted
        == "2026年11月20日(金) 10:00 相談窓口 <s@example.jp>:\n\n> 明日はいかがですか？"
    )


# --- headers ------------------------------------------------------------------------------------


def test_threading_headers() -> None:
    parsed = parse(
        raw(
            "Message-ID:\r\n <folded.id@example.jp>",
            "In-Reply-To: <parent@example.jp> (Yamada's message)",
            "References: <root@example.jp>\r\n\t<mid@example.jp> <root@example.jp>\r\n"
            " <parent@example.jp>",
            body="x",
        )
    )
    assert parsed.message_id == "folded.id@example.jp"
    assert parsed.in_reply_to == "parent@example.jp"
    assert parsed.references == ("root@example.jp", "mid@example.jp", "parent@example.jp")


def test_ids_without_brackets() -> None:
    parsed = parse(raw("Message-ID: bare@example.jp", "In-Reply-To: parent@x", body="x"))
    assert (parsed.message_id, parsed.in_reply_to, parsed.references) == (
        "bare@example.jp",
        "parent@x",
        (),
    )


def test_missing_message_id_gets_a_stable_synthetic_one() -> None:
    data = raw("From: a@example.jp", "Subject: no id", body="hello")
    first, second = parse(data), parse(data)
    assert first.message_id == f"sha256-{hashlib.sha256(data).hexdigest()}@tsunagu.invalid"
    assert second.message_id == first.message_id
    assert parse(data + b"!").message_id != first.message_id
    assert "no Message-ID; using a synthetic id" in first.warnings


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Date: Fri, 20 Nov 2026 10:00:00 +0900", datetime(2026, 11, 20, 1, 0, tzinfo=UTC)),
        ("Date: Fri, 20 Nov 2026 10:00:00 -0000", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("Date: 20 Nov 2026 10:00 JST", datetime(2026, 11, 20, 1, 0, tzinfo=UTC)),
        ("Date: Fri, 20 Nov 2026 10:00:00 +0900 (JST)", datetime(2026, 11, 20, 1, 0, tzinfo=UTC)),
        ("Date: yesterday-ish", None),
        ("X-No-Date: 1", None),
    ],
)
def test_date(header: str, expected: datetime | None) -> None:
    parsed = parse(raw(header, "Message-ID: <d@x>", body="x"))
    assert parsed.date == expected
    if parsed.date is not None:
        assert parsed.date.utcoffset() is not None
    assert (parsed.warnings != ()) == (header == "Date: yesterday-ish")


def test_ideographic_space_in_subject_is_kept() -> None:
    subject = "Subject: " + b_word("utf-8", "ご相談\u3000の件  です".encode())
    assert parse(raw(subject, body="x")).subject == "ご相談\u3000の件 です"


def test_sender_name_with_comma_is_not_split() -> None:
    parsed = parse(raw("From: " + b_word("utf-8", "山田, 太郎".encode()) + " <T@Ex.jp>", body="x"))
    assert (parsed.sender_name, parsed.sender) == ("山田, 太郎", "t@ex.jp")


def test_no_sender() -> None:
    parsed = parse(raw("Subject: anonymous", body="x"))
    assert (parsed.sender, parsed.sender_name) == ("", "")


# --- broken input -------------------------------------------------------------------------------


def test_multipart_without_boundary_is_kept_as_text() -> None:
    parsed = parse(
        raw(
            "Message-ID: <nb@x>",
            "Content-Type: multipart/mixed",
            body="--lost\nContent-Type: text/plain\n\n助けてください\n--lost--\n".encode(),
        )
    )
    assert "助けてください" in parsed.body
    assert "multipart/mixed without a usable boundary; kept as plain text" in parsed.warnings
    assert "MIME defect: NoBoundaryInMultipartDefect" in parsed.warnings


def test_bad_base64_is_decoded_as_far_as_possible() -> None:
    good = base64.b64encode("相談があります".encode()).decode()
    parsed = parse(
        raw(
            "Message-ID: <b64@x>",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            body=good[:12] + "!!*" + good[12:] + "A",
        )
    )
    assert parsed.body.startswith("相談があります")
    assert any(w.startswith("MIME defect: InvalidBase64") for w in parsed.warnings)


def test_truncated_multipart_keeps_what_arrived() -> None:
    parsed = parse(
        raw(
            "Message-ID: <tr@x>",
            'Content-Type: multipart/mixed; boundary="zz"',
            body=(
                "--zz\nContent-Type: text/plain; charset=utf-8\n\n途中まで届いた本文\n"
                "--zz\nContent-Type: application/pdf; name=a.pdf\n"
                "Content-Transfer-Encoding: base64\n\nJVBERi0xLjcK"
            ),
        )
    )
    assert parsed.body == "途中まで届いた本文"
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]
    assert "MIME defect: CloseBoundaryNotFoundDefect" in parsed.warnings


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\xff\xfe garbage \x80\x81",
        b"no headers at all, just text\r\n",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
        b"Content-Type: text/plain; charset=\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=E3=8",
        b"Subject: =?utf-8?B?!!!?= =?bogus?Q?=ZZ?=\r\nFrom: <<<>>>\r\nDate: 99 Foo 99999\r\n\r\nx",
        b"Content-Type: message/rfc822\r\n\r\nnot really a message",
    ],
)
def test_garbage_never_raises(data: bytes) -> None:
    parsed = parse_mail(data, max_attachment_bytes=LIMIT)
    assert parsed.message_id


def test_text_cut_inside_a_character() -> None:
    parsed = parse(
        raw(
            "Message-ID: <cut@x>",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            body="助けて".encode()[:-1],
        )
    )
    assert parsed.body == "助け"
    assert parsed.warnings == ("part ends in the middle of a utf-8 character (truncated?)",)


def test_undecodable_encoded_word_is_left_as_is() -> None:
    assert parse(raw("Subject: a =?utf-8?B?***?= b", body="x")).subject == "a =?utf-8?B?***?= b"


def test_a_parser_crash_still_keeps_the_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(raw: bytes, limit: int) -> ParsedMail:
        raise RuntimeError("boom")

    monkeypatch.setattr(channels.mail_parse, "_parse", crash)
    data = raw("X-Tsunagu-Loop: t1", "Subject: s", body="本文は残る")
    parsed = parse_mail(data, max_attachment_bytes=LIMIT)
    assert "本文は残る" in parsed.body
    assert parsed.message_id.startswith("sha256-")
    assert parsed.auto is AutoKind.LOOP
    assert parsed.warnings == ("could not parse the message (RuntimeError); kept as raw text",)


def test_parsed_mail_is_frozen() -> None:
    parsed = parse(text_mail("x"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.body = "changed"  # type: ignore[misc]


# --- machines: bounces, auto-replies, loops -----------------------------------------------------

RETURNED = (
    "From: =?utf-8?b?55u46KuH56qT5Y+j?= <soudan@example.jp>\r\n"
    "To: gone@example.com\r\n"
    "Subject: =?utf-8?b?UmU6IOOBlOebuOirhw==?=\r\n"
    "Message-ID: <tsunagu.conv-1.m42@example.jp>\r\n"
    f"{LOOP_HEADER}: loop-token\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "returned body\r\n"
)


def dsn(*, action: str = "failed", returned: str = "message/rfc822") -> bytes:
    returned_part = RETURNED if returned == "message/rfc822" else RETURNED.split("\r\n\r\n")[0]
    return raw(
        "Return-Path: <>",
        "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)",
        "To: soudan@example.jp",
        "Subject: Undelivered Mail Returned to Sender",
        "Date: Fri, 20 Nov 2026 10:05:00 +0900 (JST)",
        "Message-ID: <20261120010500.4A1B2@mx.example.com>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status;",
        '\tboundary="4A1B2.1763600700/mx.example.com"',
        body=(
            "This is a MIME-encapsulated message.\n\n"
            "--4A1B2.1763600700/mx.example.com\n"
            "Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
            "This is the mail system at host mx.example.com.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients.\n\n"
            "<gone@example.com>: host mx.example.com said: 550 5.1.1 User unknown\n\n"
            "--4A1B2.1763600700/mx.example.com\n"
            "Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; mx.example.com\nX-Postfix-Queue-ID: 4A1B2\n"
            "Arrival-Date: Fri, 20 Nov 2026 10:04:59 +0900 (JST)\n\n"
            "Final-Recipient: rfc822; gone@example.com\n"
            "Original-Recipient: rfc822;gone@example.com\n"
            f"Action: {action}\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
            "--4A1B2.1763600700/mx.example.com\n"
            f"Content-Description: Undelivered Message\nContent-Type: {returned}\n\n"
            f"{returned_part}\n"
            "--4A1B2.1763600700/mx.example.com--\n"
        ),
    )


@pytest.mark.parametrize("returned", ["message/rfc822", "text/rfc822-headers"])
def test_dsn_bounce(returned: str) -> None:
    parsed = parse(dsn(returned=returned))
    assert parsed.auto is AutoKind.BOUNCE  # not LOOP: our loop header is only in the returned mail
    assert parsed.bounced_message_id == "tsunagu.conv-1.m42@example.jp"
    assert parsed.sender == "mailer-daemon@mx.example.com"
    assert parsed.body.startswith("This is the mail system at host mx.example.com.")
    assert "550 5.1.1 User unknown" in parsed.body
    assert "returned body" not in parsed.body
    assert parsed.attachments == ()
    assert parsed.warnings == ()


def test_delay_notice_is_not_a_bounce() -> None:
    parsed = parse(dsn(action="delayed"))
    assert parsed.auto is AutoKind.AUTO_REPLY
    assert parsed.bounced_message_id is None


def test_read_receipt_is_a_machine_mail() -> None:
    parsed = parse(
        raw(
            "From: yamada@example.jp",
            "Message-ID: <mdn@example.jp>",
            'Content-Type: multipart/report; report-type=disposition-notification; boundary="m"',
            body=(
                "--m\nContent-Type: text/plain; charset=utf-8\n\n開封されました\n"
                "--m\nContent-Type: message/disposition-notification\n\n"
                "Final-Recipient: rfc822; yamada@example.jp\n"
                "Original-Message-ID: <tsunagu.c.1@example.jp>\n"
                "Disposition: manual-action/MDN-sent-manually; displayed\n"
                "--m--\n"
            ).encode(),
        )
    )
    assert parsed.auto is AutoKind.AUTO_REPLY
    assert (parsed.body, parsed.attachments) == ("開封されました", ())


def test_mailer_daemon_without_report_type() -> None:
    msg = EmailMessage()
    msg["From"] = "postmaster@old-mta.example.com"
    msg["Subject"] = "failure notice"
    msg.set_content("Sorry, I couldn't deliver your message.")
    returned = EmailMessage()
    returned["Message-ID"] = "<orig@example.jp>"
    returned.set_content("ours")
    msg.add_attachment(returned)
    parsed = parse(msg.as_bytes())
    assert (parsed.auto, parsed.bounced_message_id) == (AutoKind.BOUNCE, "orig@example.jp")


def oof(*headers: str, subject: str = "ご相談の件") -> bytes:
    return raw(
        "From: yamada@example.jp",
        "Subject: " + Header(subject, "utf-8").encode(),
        "Message-ID: <oof@example.jp>",
        *headers,
        body="ただいま不在にしております。11月25日に戻ります。",
    )


@pytest.mark.parametrize(
    ("headers", "subject", "expected"),
    [
        (("Auto-Submitted: auto-replied",), "自動応答: ご相談の件", AutoKind.AUTO_REPLY),
        (("Auto-Submitted: auto-generated; owner-email=x@y",), "ご相談の件", AutoKind.AUTO_REPLY),
        (("Auto-Submitted: no",), "ご相談の件", AutoKind.NONE),
        (("X-Autoreply: yes",), "ご相談の件", AutoKind.AUTO_REPLY),
        (("X-Autorespond: ご相談の件",), "ご相談の件", AutoKind.AUTO_REPLY),
        (("Precedence: bulk",), "ご相談の件", AutoKind.AUTO_REPLY),
        (("Precedence: auto_reply",), "ご相談の件", AutoKind.AUTO_REPLY),
        (("Precedence: first-class",), "ご相談の件", AutoKind.NONE),
        ((), "Automatic reply: ご相談の件", AutoKind.AUTO_REPLY),
        ((), "Auto: ご相談の件", AutoKind.AUTO_REPLY),
        ((), "Out of Office: ご相談の件", AutoKind.AUTO_REPLY),
        ((), "不在：ご相談の件", AutoKind.AUTO_REPLY),
        ((), "自動返信：ご相談の件", AutoKind.AUTO_REPLY),
        # a human's subject that merely mentions absence
        ((), "不在票が届いたのですが", AutoKind.NONE),
        ((), "Out of office next week?", AutoKind.NONE),
        # Outlook puts X-Auto-Response-Suppress on ordinary mail: never enough alone
        (("X-Auto-Response-Suppress: All",), "ご相談の件", AutoKind.NONE),
        (("X-Auto-Response-Suppress: DR, OOF, AutoReply",), "ご相談の件", AutoKind.NONE),
        (("X-Auto-Response-Suppress: All",), "不在のお知らせ", AutoKind.AUTO_REPLY),
        ((f"{LOOP_HEADER}: abc", "Auto-Submitted: auto-replied"), "ご相談の件", AutoKind.LOOP),
    ],
)
def test_auto_detection(headers: tuple[str, ...], subject: str, expected: AutoKind) -> None:
    parsed = parse(oof(*headers, subject=subject))
    assert parsed.auto is expected
    assert parsed.bounced_message_id is None
    assert parsed.subject == subject


def test_exchange_out_of_office() -> None:
    msg = EmailMessage()
    msg["From"] = "佐藤 <sato@example.co.jp>"
    msg["Subject"] = "自動応答: Re: ご相談"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-MS-Exchange-Inbox-Rules-Loop"] = "sato@example.co.jp"
    msg.set_content("11月25日まで不在にしております。")
    parsed = parse(msg.as_bytes())
    assert parsed.auto is AutoKind.AUTO_REPLY
    assert parsed.body == "11月25日まで不在にしております。"


def test_loop_header() -> None:
    msg = EmailMessage()
    msg[LOOP_HEADER] = "tok"
    msg["Subject"] = "Re: ご相談"
    msg.set_content("our own reply")
    assert parse(msg.as_bytes()).auto is AutoKind.LOOP
    assert LOOP_HEADER == "X-Tsunagu-Loop"


def test_every_text_of_a_mail_is_storable() -> None:
    """A NUL from an encoded word, 8-bit bytes left surrogate-escaped in ids: nothing that
    either database refuses comes out of the parser."""
    filename = b_word("utf-8", "f\x00é.pdf".encode()).encode()
    part = b'Content-Disposition: attachment; filename="' + filename + b'"'
    name = b_word("utf-8", "名\x00前".encode())
    parsed = parse_mail(
        raw(
            f"From: {name} <a@example.jp>",
            "Subject: =?utf-8?b?YQBi?=",
            b"Message-ID: <\xff\xfe@example.jp>",
            b"In-Reply-To: <\xe9@example.jp>",
            b"References: <r\xe9f@example.jp>",
            'Content-Type: multipart/mixed; boundary="b"',
            body=b"--b\nContent-Type: text/plain; charset=utf-8\n\nbody a\x00b\n"
            + b"--b\nContent-Type: application/pdf\n"
            + part
            + b"\n\nxx\n--b--\n",
        ),
        max_attachment_bytes=1000,
    )
    texts = [
        parsed.message_id,
        parsed.in_reply_to or "",
        *parsed.references,
        parsed.sender,
        parsed.sender_name,
        parsed.subject,
        parsed.body,
        parsed.quoted,
        *parsed.warnings,
        *(a.filename for a in parsed.attachments),
    ]
    for text in texts:
        text.encode("utf-8")  # raises on a surrogate
        assert "\x00" not in text
    assert (parsed.subject, parsed.sender_name, parsed.body) == ("ab", "名前", "body ab")
    assert parsed.message_id == "\ufffd\ufffd@example.jp"
    assert [a.filename for a in parsed.attachments] == ["fé.pdf"]
