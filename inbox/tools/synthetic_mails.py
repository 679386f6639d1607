"""Synthetic consultation mails for `tsunagu bench email`, as Japanese mailers send them.

Three mailer styles: ISO-2022-JP in 7 bit with B-encoded ISO-2022-JP headers (carrier phones,
Yahoo, older Outlook), UTF-8 in base64 (Gmail, Outlook.com) and UTF-8 in 8 bit (iPhone). Most
senders write once, some two or three times; a follow-up is a reply to her previous mail (Re:,
In-Reply-To, References) that quotes our answer. About 1-2 KB each, two Received lines and all.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr
from typing import Literal

from routing.hours import TOKYO

Style = Literal["jis", "base64", "8bit"]
TO = "soudan@city.example.jp"
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村",
          "小林", "加藤", "吉田", "山田", "佐々木", "山口", "松本", "井上")  # fmt: skip
GIVEN = ("花子", "陽子", "美咲", "さくら", "由美", "恵", "翔太", "大輔",
         "健", "直子", "愛", "優子", "真由美", "拓也", "彩", "ゆり")  # fmt: skip
DOMAINS: tuple[tuple[str, Style], ...] = (
    ("docomo.ne.jp", "jis"),
    ("ezweb.ne.jp", "jis"),
    ("softbank.ne.jp", "jis"),
    ("yahoo.co.jp", "jis"),
    ("gmail.com", "base64"),
    ("outlook.jp", "base64"),
    ("icloud.com", "8bit"),
)
MAILERS = {"jis": "Mobile Mail 3.1", "base64": "Webmail", "8bit": "iPhone Mail (22B91)"}
SUBJECTS = ("相談したいことがあります", "眠れない日が続いています", "家族のことで悩んでいます",
            "仕事のことで相談です", "話を聞いてください", "学校に行けません",
            "お金のことで困っています", "どうしたらいいか分かりません")  # fmt: skip
SENTENCES = (
    "最近よく眠れなくて、仕事のことでずっと悩んでいます。",
    "誰かに話を聞いてほしくて、思い切ってメールしました。",
    "家族とうまくいかず、家にいるのがつらいです。",
    "学校に行こうとすると、朝になるとお腹が痛くなります。",
    "どうしたらいいのか分からなくて、毎日が不安です。",
    "夜になると不安が強くなり、なかなか眠れません。",
    "友達にも言えなくて、一人で抱えこんでしまっています。",
    "上司から毎日のように強い言葉で責められています。",
    "夫の言葉がこわくて、言い返すことができません。",
    "借金の返済が重なり、生活費が足りなくなってきました。",
    "母の介護と仕事の両立に疲れてしまいました。",
    "食事がのどを通らない日が二週間ほど続いています。",
    "病院に行くべきか迷っていますが、行くのもこわいです。",
    "こんなことで相談していいのか分かりませんが、聞いてください。",
    "少し前までは普通に過ごせていたのに、急に何もできなくなりました。",
    "子どものことを考えると、このままではいけないと思っています。",
)
OUR_ANSWER = (
    "ご相談ありがとうございます。相談員の者です。",
    "眠れない日が続くのは、とてもおつらいことと思います。",
    "よろしければ、いつごろからそのような状態か教えていただけますか。",
)


@dataclass(frozen=True, slots=True)
class SyntheticMail:
    raw: bytes
    message_id: str  # without angle brackets
    sender: str
    charset: str
    subject: str
    excerpt: str  # a line of the new text, to look for in what was stored


@dataclass(frozen=True, slots=True)
class Sender:
    name: str
    address: str
    style: Style


def _header(text: str, style: Style) -> str:
    charset = "iso-2022-jp" if style == "jis" else "utf-8"
    return Header(text, charset).encode().replace("\n", "\r\n")


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


def _body(rng: random.Random, sender: Sender, follow_up: bool) -> tuple[list[str], str]:
    """The lines of the text, and one line of the new text to find in the stored body."""
    opening = "お返事ありがとうございます。" if follow_up else "はじめてメールします。"
    text = "".join(rng.sample(SENTENCES, rng.randrange(4, 9)))
    lines = [opening, *_wrap(text, rng.choice((24, 30, 36)))]
    excerpt = lines[1]
    lines += ["", "よろしくお願いします。", sender.name.split(" ")[-1], ""]
    if follow_up:
        lines += ["", f"{TO} wrote:", *(f"> {line}" for line in OUR_ANSWER)]
    return lines, excerpt


def _encode_body(lines: list[str], style: Style) -> tuple[str, str, bytes]:
    """Content-Type, Content-Transfer-Encoding, and the body bytes with CRLF line ends."""
    text = "\r\n".join(lines) + "\r\n"
    if style == "jis":
        return "text/plain; charset=ISO-2022-JP", "7bit", text.encode("iso-2022-jp")
    if style == "base64":
        encoded = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
        return 'text/plain; charset="UTF-8"', "base64", encoded
    return "text/plain; charset=utf-8", "8bit", text.encode()


def make_mail(
    rng: random.Random,
    serial: int,
    sender: Sender,
    at: datetime,
    previous: SyntheticMail | None,
) -> SyntheticMail:
    """One mail of `sender`, in reply to her `previous` one when given."""
    domain = sender.address.rpartition("@")[2]
    message_id = f"{at:%Y%m%d%H%M%S}.{rng.getrandbits(48):012x}.{serial}@mail.{domain}"
    subject = f"Re: {previous.subject}" if previous else rng.choice(SUBJECTS)
    lines, excerpt = _body(rng, sender, previous is not None)
    content_type, cte, body = _encode_body(lines, sender.style)
    charset = "iso-2022-jp" if sender.style == "jis" else "utf-8"
    relay = f"203.0.113.{rng.randrange(1, 255)}"
    stamp = format_datetime(at)
    headers = [
        f"Return-Path: <{sender.address}>",
        f"Received: from mx{rng.randrange(1, 9)}.city.example.jp (mx.city.example.jp "
        f"[192.0.2.{rng.randrange(1, 255)}])\r\n\tby imap.city.example.jp with LMTP id "
        f"{rng.getrandbits(64):016x}\r\n\tfor <{TO}>; {stamp}",
        f"Received: from smtp.{domain} (smtp.{domain} [{relay}])\r\n"
        f"\tby mx.city.example.jp (Postfix) with ESMTPS id {rng.getrandbits(40):010X}\r\n"
        f"\tfor <{TO}>; {stamp}",
        f"From: {formataddr((sender.name, sender.address), charset=charset)}",
        f"To: {TO}",
        f"Subject: {_header(subject, sender.style)}",
        f"Date: {stamp}",
        f"Message-ID: <{message_id}>",
    ]
    if previous is not None:
        headers += [f"In-Reply-To: <{previous.message_id}>", f"References: <{previous.message_id}>"]
    headers += [
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        f"Content-Transfer-Encoding: {cte}",
        f"X-Mailer: {MAILERS[sender.style]}",
    ]
    raw = ("\r\n".join(headers) + "\r\n\r\n").encode("ascii") + body
    return SyntheticMail(raw, message_id, sender.address, charset, subject, excerpt)


def build_mails(n: int, seed: int = 3) -> list[SyntheticMail]:
    """`n` mails from senders who mostly write once, some two or three times, in time order."""
    rng = random.Random(seed)
    order: list[int] = []
    while len(order) < n:
        order += [len(order)] * rng.choices((1, 2, 3), (80, 15, 5))[0]
    order = order[:n]
    rng.shuffle(order)
    senders: dict[int, Sender] = {}
    last: dict[int, SyntheticMail] = {}
    start = datetime.now(TOKYO).replace(microsecond=0) - timedelta(hours=12)
    mails = []
    for serial, s in enumerate(order):
        if s not in senders:
            domain, style = DOMAINS[rng.randrange(len(DOMAINS))]
            name = f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"
            senders[s] = Sender(name, f"user{s:05d}.{rng.getrandbits(20):05x}@{domain}", style)
        at = start + timedelta(seconds=serial * 20)
        mail = make_mail(rng, serial, senders[s], at, last.get(s))
        last[s] = mail
        mails.append(mail)
    return mails
