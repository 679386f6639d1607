"""parse_mail reads the MIME tree with compat32 where that cannot change what a header means
(channels/mail_mime.py). These tests hold that reading to email.policy.default, which the
parser used before: the plain values mean the same under both policies, a view answers like
the default policy (raising where it raises), and the tree and every part's answers are the
same for real mails, broken mails and mutations of them."""

from __future__ import annotations

import email
import random
from collections.abc import Callable
from email import policy
from email.message import EmailMessage, Message

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from channels.mail_mime import PLAIN, MimeTree, read_tree
from inbox.tools.synthetic_mails import build_mails

# parse_mail's behaviour is tested in tests/mail/; these hold its compat32 fast path to the
# email.policy.default reading it replaced, and check that the benchmark's mails take it.
pytestmark = pytest.mark.perf_guard

PARAMS = ("charset", "boundary", "name", "filename", "report-type", "NAME", "x")
HEADERS = ("Content-Type", "Content-Disposition", "Content-Transfer-Encoding")


def answers(msg: Message) -> list[object]:
    """What parse_mail asks a part about its headers, each answer or the error it raised."""
    asks: list[Callable[[], object]] = [
        msg.get_content_type,
        msg.get_content_charset,
        msg.get_content_disposition,
        msg.get_filename,
        msg.get_boundary,
        *(lambda p=p, h=h: msg.get_param(p, "-", h) for p in PARAMS for h in HEADERS[:2]),
    ]
    out: list[object] = []
    for ask in asks:
        try:
            out.append(ask())
        except Exception as error:  # noqa: BLE001 - the error is the answer to compare
            out.append(type(error))
    return out


def both(name: str, value: str) -> tuple[Message, EmailMessage]:
    old, new = Message(), EmailMessage(policy.default)
    old.set_raw(name, value)
    new.set_raw(name, value)
    return old, new


def _from_regex(name: str) -> st.SearchStrategy[tuple[str, str]]:
    return st.tuples(st.just(name), st.from_regex(PLAIN[name.lower()], fullmatch=True))


TOKEN = "!#$%&'*+-.0123456789AZaz^_`{|}~"
WS = st.sampled_from(["", "", " ", "\t", "  ", "\r\n ", "\r\n\t", "\n "])
PARAM = st.tuples(
    st.just(";"),
    WS,
    st.sampled_from(PARAMS) | st.text("aZ09-_.!#$&+", min_size=1, max_size=5),
    st.sampled_from(["", "", "", "", "*", "*0", "*1", "*0*", "*2"]),  # RFC 2231 is not plain
    WS,
    st.just("="),
    WS,
    st.text(TOKEN, min_size=1, max_size=8)
    | st.sampled_from(["utf-8''%E3%81%82", "iso-2022-jp''x", "''", '"=?utf-8?q?x?="', '"a=?b"'])
    | st.text(" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~", max_size=10).map(lambda q: f'"{q}"'),
    WS,
).map("".join)
# real-looking values: the types and parameters we ask for, folded and quoted
built_values = st.tuples(
    st.sampled_from(HEADERS),
    st.sampled_from(["text/plain", "TEXT/HTML", "multipart/mixed", "message/rfc822", "a/b"])
    | st.text(TOKEN, min_size=1, max_size=6),
    WS,
    st.lists(PARAM, max_size=4).map("".join),
).map(lambda t: (t[0], t[1] + t[2] + t[3] if t[0] != HEADERS[2] else t[1]))


# 150: drawing from the PLAIN regexes costs up to ~0.2 s an example (data generation, not the
# test); 300 took 28 s of a CI worker.
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(*(_from_regex(name) for name in HEADERS)) | built_values)
def test_a_plain_value_means_the_same_under_both_policies(header: tuple[str, str]) -> None:
    name, value = header
    assume(PLAIN[name.lower()].fullmatch(value) is not None)
    compat, default = both(name, value)
    assert answers(compat) == answers(default)
    encoding = "content-transfer-encoding"
    assert str(compat.get(encoding, "8bit")).lower() == str(default.get(encoding, "8bit")).lower()


NASTY = st.sampled_from(
    ["text/plain", "multipart/mixed", "attachment", ";", "=", '"', "\\", "(", ")", " ", "\t",
     "\r\n ", "charset", "boundary", "name", "filename", "*", "*0*", "*1", "'", "%E3%81%82",
     "utf-8''", "=?utf-8?B?44GC?=", "=?iso-2022-jp?B?GyRCJCIbKEI=?=", "=?", "?=", "<", "@",
     ",", "\udc82", "あ", "\x00", "base64", "E3", "/"]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(HEADERS), st.lists(NASTY, max_size=12).map("".join))
def test_a_view_answers_like_the_default_policy(name: str, value: str) -> None:
    compat, default = both(name, value)
    view = MimeTree(compat, compat32=False).view(compat)
    assert answers(view) == answers(default)


def odd_mail(boundary: bytes) -> bytes:
    """Parts with an encoded-word, RFC 2231 and a comment in their headers."""
    return (
        b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--b1\r\n"
        b'Content-Type: application/pdf; name="=?UTF-8?B?6LOH5paZLnBkZg==?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1\r\n"
        b"Content-Type: text/html; charset*=utf-8''utf-8\r\n\r\n<p>x</p>\r\n--b1\r\n"
        b'Content-Type: text/plain (note); charset="a=?b"\r\n\r\nx\r\n--b1--\r\n'
    )


def mails() -> list[bytes]:
    """Mails whose headers are plain and mails whose headers are not."""
    out = [m.raw for m in build_mails(40, seed=11)]
    msg = EmailMessage()
    msg["Message-ID"] = "<a@example.jp>"
    msg.set_content("資料を添付します。")
    msg.add_attachment("メモ".encode(), maintype="text", subtype="plain", filename="相談メモ.txt")
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="a b.pdf")
    inner = EmailMessage()
    inner.set_content("元のメール")
    msg.add_attachment(inner)
    out.append(msg.as_bytes())
    out += [odd_mail(b'"b1"'), odd_mail(b'"b1" (comment)')]
    out.append(  # the default policy decodes the encoded-word: this part is base64 to it
        b'Content-Type: multipart/mixed; boundary="b2"\r\n\r\n--b2\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: =?utf-8?q?base64?=\r\n\r\n5Yqp44GR44Gm\r\n--b2--\r\n"
    )
    out.append(
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        b"--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--r\r\n"
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
        b"Action: failed\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <m@x>\r\n--r--\r\n"
    )
    return out


def mutate(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(data) + 1)
        insert = rng.choice(
            [b"=?utf-8?B?", b"?=", b";", b'"', b"\\", b"(", b"\r\n ", b"*", b"'", b"\x80", b"--",
             b"\r\n\r\n", b"boundary=", b"name*=utf-8''%E3", b"multipart/", b"message/rfc822"]
        )  # fmt: skip
        if rng.random() < 0.5:
            data[pos:pos] = insert
        else:
            del data[pos : pos + rng.randint(1, 20)]
    return bytes(data)


def describe(tree: Callable[[Message], Message], root: Message) -> list[object]:
    """Everything parse_mail takes from the tree, part by part."""
    out: list[object] = []
    for part in root.walk():
        payload = None if part.is_multipart() else part.get_payload(decode=True)
        view = tree(part)
        out += [part.get_default_type(), part.is_multipart(), payload, *answers(view)]
        out += [[type(d).__name__ for d in part.defects], list(part.raw_items())]
    return out


def corpus() -> list[bytes]:
    rng = random.Random(5)
    base = mails()
    return base + [mutate(rng, rng.choice(base)) for _ in range(600)]


@pytest.mark.parametrize("raw", corpus())
def test_the_tree_is_the_one_the_default_policy_builds(raw: bytes) -> None:
    try:
        expected = describe(lambda part: part, email.message_from_bytes(raw, policy=policy.default))
    except Exception as error:  # noqa: BLE001 - parse_mail must fail the same way
        with pytest.raises(type(error)):
            tree = read_tree(raw)
            describe(tree.view, tree.root)
        return
    tree = read_tree(raw)
    assert describe(tree.view, tree.root) == expected
    assert [tree.content_type(part) for part in tree.parts()] == [
        part.get_content_type()
        for part in email.message_from_bytes(raw, policy=policy.default).walk()
    ]


def test_only_parts_with_odd_headers_are_read_through_views() -> None:
    mixed = read_tree(odd_mail(b'"b1"'))
    assert mixed.compat32
    assert [mixed.view(part) is part for part in mixed.parts()] == [True, False, False, False]
    assert [mixed.view(part).get_filename() for part in mixed.parts()][1] == "資料.pdf"
    # the comment changes what compat32 takes for the boundary: the default policy parses it
    assert not read_tree(odd_mail(b'"b1" (comment)')).compat32


def test_the_benchmark_mails_take_the_fast_path() -> None:
    for mail in build_mails(50, seed=2):
        tree = read_tree(mail.raw)
        assert tree.compat32
        assert all(tree.view(part) is part for part in tree.parts())
