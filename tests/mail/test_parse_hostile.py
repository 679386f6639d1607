"""parse_mail on hostile bytes: random data, random headers and MIME trees. It documents that it
never raises; these hold it to that, to the shape ParsedMail promises, and to reading a mail
the stdlib built without falling back to "kept as raw text"."""

from __future__ import annotations

import base64
from datetime import UTC, timedelta
from email.headerregistry import Address
from email.message import EmailMessage

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from channels.mail_parse import ParsedMail, parse_mail

LIMIT = 64
FALLBACK = "could not parse the message"
HEADER_NAMES = st.sampled_from(
    [
        "From",
        "Sender",
        "Reply-To",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "MIME-Version",
        "Auto-Submitted",
        "X-Loop",
        "Precedence",
    ]
) | st.text("ABCXYZ-abc", min_size=1, max_size=8)
NASTY = st.sampled_from(
    [
        "=?utf-8?b?44GC?=",
        "=?iso-2022-jp?b?GyRCJCIbKEI=?=",
        "=?x-unknown?q?a?=",
        "=?utf-8?q?=FF=FE?=",
        "=?utf-8?b?!!!?=",
        '"quoted \\" name"',
        "<a@b>",
        "<<>>",
        "\x00",
        "\udcff",  # a byte that was not UTF-8, as surrogateescape reads it
        "\r\n ",
        ";",
        "boundary=",
        'charset="shift_jis"',
        "multipart/mixed; boundary=b",
        "base64",
        "quoted-printable",
        "Mon, 32 Foo 99999 25:61:61 +9999",
        "あいう",
        "\u202e",
    ]
)
HEADER_VALUES = st.lists(NASTY | st.text(max_size=20), max_size=6).map("".join)


@st.composite
def header_block(draw: st.DrawFn) -> bytes:
    lines = [
        f"{draw(HEADER_NAMES)}: {draw(HEADER_VALUES)}".encode("utf-8", "surrogateescape")
        for _ in range(draw(st.integers(0, 8)))
    ]
    body = draw(st.binary(max_size=300) | HEADER_VALUES.map(lambda s: s.encode("utf-8", "replace")))
    separator = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    return separator.join(lines) + separator * 2 + body


@st.composite
def mime_tree(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A multipart mail with a boundary, charsets and encodings that may lie about the parts."""
    boundary = draw(st.sampled_from(["b", "==x==", "", "a b", "x" * 80]))
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 3 and draw(st.booleans()):
            parts.append(draw(mime_tree(depth + 1)))
            continue
        content_type = draw(
            st.sampled_from(["text/plain", "text/html", "application/pdf", "message/rfc822"])
        )
        charset = draw(st.sampled_from(["utf-8", "iso-2022-jp", "shift_jis", "bogus", ""]))
        encoding = draw(st.sampled_from(["base64", "quoted-printable", "8bit", "x-uuencode"]))
        payload = draw(st.binary(max_size=120))
        if encoding == "base64" and draw(st.booleans()):
            payload = base64.b64encode(payload)
        parts.append(
            f"Content-Type: {content_type}; charset={charset}; name=a.pdf\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode()
            + payload
        )
    head = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode()
    closing = draw(st.sampled_from([f"\r\n--{boundary}--\r\n", "", f"--{boundary}"]))
    return (
        head
        + b"".join(f"--{boundary}\r\n".encode() + p + b"\r\n" for p in parts)
        + (closing.encode())
    )


def check_shape(parsed: ParsedMail) -> None:
    assert isinstance(parsed, ParsedMail)
    # "<" can remain: a bare token is kept when a mailer forgot the angle brackets
    assert parsed.message_id and not any(c.isspace() for c in parsed.message_id)
    for text in (parsed.body, parsed.quoted, parsed.subject, parsed.sender_name):
        assert "\r" not in text
    assert parsed.sender == parsed.sender.lower()
    assert parsed.date is None or parsed.date.utcoffset() == timedelta(0)
    for attachment in parsed.attachments:
        if attachment.content is not None:
            assert len(attachment.content) <= LIMIT and not attachment.refused


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600) | header_block() | mime_tree())
@example(raw=b"Message-ID: <\x00>\r\n\r\nhi")  # nothing storable in it: a synthetic id
def test_parse_mail_returns_a_parsed_mail_for_any_bytes(raw: bytes) -> None:
    check_shape(parse_mail(raw, max_attachment_bytes=LIMIT))
    check_shape(parse_mail(b"From: a@b\r\nSubject: x\r\n" + raw, max_attachment_bytes=LIMIT))


TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=TEXT,
    name=TEXT,
    body=st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
    charset=st.sampled_from(["utf-8", "iso-2022-jp", "shift_jis"]),
    attachment=st.binary(max_size=2 * LIMIT),
)
def test_a_mail_the_stdlib_built_is_read_without_the_fallback(
    subject: str, name: str, body: str, charset: str, attachment: bytes
) -> None:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = Address(display_name=name, addr_spec="Sender@Example.JP")
    msg["Date"] = "Sun, 06 Dec 2026 08:00:00 +0900"
    try:
        msg.set_content(body, charset=charset)
    except UnicodeEncodeError:
        msg.set_content(body, charset="utf-8")  # not every character exists in Shift_JIS
    msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="a.pdf")
    parsed = parse_mail(msg.as_bytes(), max_attachment_bytes=LIMIT)
    check_shape(parsed)
    assert not any(w.startswith(FALLBACK) for w in parsed.warnings), parsed.warnings
    assert parsed.sender == "sender@example.jp"
    assert parsed.date is not None and parsed.date.astimezone(UTC).hour == 23
    (listed,) = parsed.attachments
    assert listed.size_bytes == len(attachment)
    assert listed.refused == (len(attachment) > LIMIT)
