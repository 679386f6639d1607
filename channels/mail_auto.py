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

from channels.mail_mime import MimeTree, RawHeaders, raw_header

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


def _is_auto_reply(headers: RawHeaders, subject: str) -> bool:
    submitted = (headers.get("Auto-Submitted") or "no").split(";")[0].strip().lower()
    if submitted not in ("", "no"):
        return True
    if headers.get("X-Autoreply") is not None or headers.get("X-Autorespond") is not None:
        return True
    if (headers.get("Precedence") or "").lower() in _AUTO_PRECEDENCE:
        return True
    if _AUTO_SUBJECT.match(subject):
        return True
    # Outlook puts X-Auto-Response-Suppress on ordinary mail too: only a hint, never enough alone.
    suppress = {
        v.strip().lower() for v in (headers.get("X-Auto-Response-Suppress") or "").split(",")
    }
    return bool(suppress & _SUPPRESS_VALUES) and bool(_AUTO_SUBJECT_HINT.search(subject))


def _returned_parts(tree: MimeTree) -> list[Message]:
    """The parts of a DSN that carry the returned message or its headers."""
    return [
        part
        for part in tree.parts()
        if tree.content_type(part) in ("message/rfc822", "text/rfc822-headers")
    ]


def _is_bounce(tree: MimeTree, sender: str) -> bool:
    if tree.content_type(tree.root) == "multipart/report":
        report_type = str(tree.view(tree.root).get_param("report-type", "") or "").lower()
        if report_type == "delivery-status":
            return True
    local = sender.partition("@")[0].lower()
    return local in _DAEMONS and bool(_returned_parts(tree))


def _first_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSG_ID.search(value)
    token = match[1] if match else value.split()[0] if value.split() else ""
    return "".join(token.split()) or None


def bounced_message_id(tree: MimeTree) -> str | None:
    """The Message-ID of the mail a DSN returns: from the returned message or its headers, else
    an Original-Message-ID field in the delivery-status part."""
    for part in _returned_parts(tree):
        if tree.content_type(part) == "message/rfc822":
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
    for part in tree.parts():
        if tree.content_type(part) == "message/delivery-status":
            found = _first_id(raw_header(part, "Original-Message-ID"))
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                if found is None and isinstance(block, Message):
                    found = _first_id(raw_header(block, "Original-Message-ID"))
            if found:
                return found
    return None


def _dsn_actions(tree: MimeTree) -> set[str]:
    """The Action fields of a DSN's per-recipient blocks (failed, delayed, delivered, ...)."""
    actions: set[str] = set()
    for part in tree.parts():
        delivery_status = tree.content_type(part) == "message/delivery-status"
        blocks = part.get_payload() if delivery_status else []
        for block in blocks if isinstance(blocks, list) else []:
            action = raw_header(block, "Action") if isinstance(block, Message) else None
            if action:
                actions.add(action.split()[0].lower())
    return actions


def classify(tree: MimeTree, headers: RawHeaders, *, subject: str, sender: str) -> AutoKind:
    """LOOP before BOUNCE before AUTO_REPLY: a DSN also says Auto-Submitted, and our own mail
    coming back must be recognized whatever else it looks like."""
    if headers.get(LOOP_HEADER) is not None:
        return AutoKind.LOOP
    if _is_bounce(tree, sender):
        actions = _dsn_actions(tree)
        # "delayed, still trying" is a machine's mail but not a failed delivery
        return AutoKind.AUTO_REPLY if actions and "failed" not in actions else AutoKind.BOUNCE
    if tree.content_type(tree.root) == "multipart/report":
        return AutoKind.AUTO_REPLY  # read receipts (MDN) and other machine reports
    if _is_auto_reply(headers, subject):
        return AutoKind.AUTO_REPLY
    return AutoKind.NONE
