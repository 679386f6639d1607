"""Is an inbound mail from a machine? Auto-replies, bounces and our own mail coming back.

The inbox must never answer a machine (mail loops between two auto-responders can send
thousands of mails to a consulter), and a bounce means our reply did not arrive, which a
counselor has to see on the conversation rather than as a new message from MAILER-DAEMON.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from enum import StrEnum

LOOP_HEADER = "X-Tsunagu-Loop"  # every mail we send carries it


class AutoKind(StrEnum):
    NONE = "none"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LOOP = "loop"


_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# Subject prefixes auto-responders use; they carry a colon, so "不在票について" is a human's mail.
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?(?:[ -]?(?:reply|response|antwort))?|autoreply|"
    r"out of (?:the )?office(?: auto ?reply| reply)?|自動応答|自動返信|自動送信|不在(?:通知|連絡)?|"
    r"休暇中?|abwesenheitsnotiz|absence)\s*[:：]",
    re.IGNORECASE,
)
# Weaker hints that only count together with X-Auto-Response-Suppress.
_AUTO_SUBJECT_HINT = re.compile(r"out of (?:the )?office|不在|休暇|留守|absence", re.IGNORECASE)
_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_MSG_ID = re.compile(r"<([^<>]+)>")


_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n\Z")


def raw_header(msg: Message, name: str) -> str | None:
    """The first raw value of a header, unfolded, read without the header registry: what we
    extract must not depend on the registry accepting (and re-decoding) whatever a broken
    mailer put there. 8-bit bytes stay surrogate-escaped, encoded-words stay encoded."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return _FOLD.sub("", str(value)).strip()
    return None


def _is_auto_reply(msg: Message, subject: str) -> bool:
    submitted = (raw_header(msg, "Auto-Submitted") or "no").split(";")[0].strip().lower()
    if submitted not in ("", "no"):
        return True
    if raw_header(msg, "X-Autoreply") is not None or raw_header(msg, "X-Autorespond") is not None:
        return True
    if (raw_header(msg, "Precedence") or "").lower() in _AUTO_PRECEDENCE:
        return True
    if _AUTO_SUBJECT.match(subject):
        return True
    # Outlook puts X-Auto-Response-Suppress on ordinary mail too: only a hint, never enough alone.
    suppress = {
        v.strip().lower() for v in (raw_header(msg, "X-Auto-Response-Suppress") or "").split(",")
    }
    return bool(suppress & _SUPPRESS_VALUES) and bool(_AUTO_SUBJECT_HINT.search(subject))


def _returned_parts(msg: Message) -> list[Message]:
    """The parts of a DSN that carry the returned message or its headers."""
    return [
        part
        for part in msg.walk()
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers")
    ]


def _is_bounce(msg: Message, sender: str) -> bool:
    if msg.get_content_type() == "multipart/report":
        report_type = str(msg.get_param("report-type", "") or "").lower()
        if report_type == "delivery-status":
            return True
    local = sender.partition("@")[0].lower()
    return local in _DAEMONS and bool(_returned_parts(msg))


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSG_ID.search(value)
    token = match[1] if match else value.split()[0] if value.split() else ""
    return "".join(token.split()) or None


def bounced_message_id(msg: Message) -> str | None:
    """The Message-ID of the mail a DSN returns: from the returned message or its headers, else
    an Original-Message-ID field in the delivery-status part."""
    for part in _returned_parts(msg):
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            headers = inner[0] if isinstance(inner, list) and inner else None
        else:
            data = part.get_payload(decode=True)
            raw = data if isinstance(data, bytes) else b""
            headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        if isinstance(headers, Message):
            found = _first_id(raw_header(headers, "Message-ID"))
            if found:
                return found
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            found = _first_id(raw_header(part, "Original-Message-ID"))
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                if found is None and isinstance(block, Message):
                    found = _first_id(raw_header(block, "Original-Message-ID"))
            if found:
                return found
    return None


def _dsn_actions(msg: Message) -> set[str]:
    """The Action fields of a DSN's per-recipient blocks (failed, delayed, delivered, ...)."""
    actions: set[str] = set()
    for part in msg.walk():
        blocks = part.get_payload() if part.get_content_type() == "message/delivery-status" else []
        for block in blocks if isinstance(blocks, list) else []:
            action = raw_header(block, "Action") if isinstance(block, Message) else None
            if action:
                actions.add(action.split()[0].lower())
    return actions


def classify(msg: Message, *, subject: str, sender: str) -> AutoKind:
    """LOOP before BOUNCE before AUTO_REPLY: a DSN also says Auto-Submitted, and our own mail
    coming back must be recognized whatever else it looks like."""
    if raw_header(msg, LOOP_HEADER) is not None:
        return AutoKind.LOOP
    if _is_bounce(msg, sender):
        actions = _dsn_actions(msg)
        # "delayed, still trying" is a machine's mail but not a failed delivery
        return AutoKind.AUTO_REPLY if actions and "failed" not in actions else AutoKind.BOUNCE
    if msg.get_content_type() == "multipart/report":
        return AutoKind.AUTO_REPLY  # read receipts (MDN) and other machine reports
    if _is_auto_reply(msg, subject):
        return AutoKind.AUTO_REPLY
    return AutoKind.NONE
