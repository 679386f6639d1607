"""The MIME tree of a mail, read as email.policy.default reads it, without its cost.

policy.default parses a structured header again on every access (and a mail is asked for its
Content-Type a dozen times); parsing the mail took most of the intake's time. compat32 hands back
the raw text instead, which is cheap but differs where a value needs decoding: encoded-words and
RFC 2231 in parameters, comments, backslashes, 8-bit bytes. A Content-Type, Content-Disposition
or Content-Transfer-Encoding value made of tokens and plain quoted strings means the same under
both policies (tests/guards/test_parse_speed_equivalence.py checks every method we use on
generated values), and so does the tree the parser builds from such values. A mail whose MIME
headers are all plain is therefore parsed with compat32; any other is parsed with policy.default
as before, and each of its headers is parsed once per part instead of at every access.
"""

from __future__ import annotations

import contextlib
import email
import re
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any, TypeVar, cast, overload

__all__ = ["MimeTree", "RawHeaders", "is_plain", "raw_header", "read_tree"]

_T = TypeVar("_T")

_WS = r"[ \t\r\n]*"  # line breaks only ever occur folded, before a blank
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"  # RFC 2045 token
_ATTRIBUTE = r"[!#$&+\-.0-9A-Z^_`a-z{|}~]+"  # no * ' %: nothing of RFC 2231
# a token without * ' (which end a value for the default policy), or a quoted string without
# backslashes or encoded-words ("=?")
_VALUE = r'(?:[!#$%&+\-.0-9A-Z^_`a-z{|}~]+|"(?:[ !#-<>@-\[\]-~]|=(?!\?)|\?)*")'
_PARAMS = rf"(?:;{_WS}{_ATTRIBUTE}{_WS}={_WS}{_VALUE}{_WS})*(?:;{_WS})?"
PLAIN = {
    "content-type": re.compile(rf"{_WS}{_TOKEN}/{_TOKEN}{_WS}{_PARAMS}"),
    "content-disposition": re.compile(rf"{_WS}{_TOKEN}{_WS}{_PARAMS}"),
    "content-transfer-encoding": re.compile(_TOKEN),
}
_COMPAT32 = BytesParser(policy=compat32)
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n\Z")


def raw_header(msg: Message, name: str) -> str | None:
    """The first raw value of a header, unfolded, read without the header registry: what we
    extract must not depend on the registry accepting (and re-decoding) whatever a broken
    mailer put there. 8-bit bytes stay surrogate-escaped, encoded-words stay encoded."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return _FOLD.sub("", str(value)).strip()
    return None


class RawHeaders:
    """raw_header() of one message for many names, its header list read once."""

    __slots__ = ("_first",)

    def __init__(self, msg: Message) -> None:
        self._first: dict[str, Any] = {}
        for key, value in msg.raw_items():
            self._first.setdefault(key.lower(), value)

    def get(self, name: str) -> str | None:
        value = self._first.get(name.lower())
        return None if value is None else _FOLD.sub("", str(value)).strip()


def is_plain(part: Message) -> bool:
    """Every MIME header of the part has a value that reads the same under both policies."""
    for key, value in part.raw_items():
        pattern = PLAIN.get(key.lower())  # the comparison Message.get() makes
        if pattern is not None and not pattern.fullmatch(value):
            return False
    return True


_REGISTRY = cast(HeaderRegistry, policy.default.header_factory)
_HEADER_CLASSES: dict[str, type[BaseHeader]] = {}
_LINESEP = re.compile(r"\n|\r")


def _default_text(part: Message, key: str) -> str | None:
    """str(part.get(key)) as policy.default answers it (EmailPolicy.header_fetch_parse), from
    the raw value, whichever policy parsed the part. The header class is made once: the
    registry makes a new one at every call."""
    for name, value in part.raw_items():
        if name.lower() == key:
            cls = _HEADER_CLASSES.get(key)
            if cls is None:
                cls = _HEADER_CLASSES[key] = _REGISTRY[name]
            return str(cls(name, "".join(_LINESEP.split(value))))
    return None


class _View(Message):
    """A part's headers as the strings policy.default makes of them, for the Message methods
    (which only ask `in` and str() what get() returns). Each header is parsed once, when first
    asked for: the registry raises on some garbage, so what was never read is never parsed."""

    def __init__(self, part: Message) -> None:
        super().__init__(policy=compat32)
        self._part = part
        self._texts: dict[str, str | None] = {}
        self.set_default_type(part.get_default_type())

    def __contains__(self, name: str) -> bool:  # get_param() asks first
        return name in self._part

    @overload
    def get(self, name: str, failobj: None = None) -> str | None: ...
    @overload
    def get(self, name: str, failobj: _T) -> str | _T: ...
    def get(self, name: str, failobj: object = None) -> object:
        key = name.lower()
        if key not in self._texts:
            self._texts[key] = _default_text(self._part, key)
        text = self._texts[key]
        return failobj if text is None else text


def _transfer_encoding(part: Message) -> str:
    return str(part.get("content-transfer-encoding", "8bit")).lower()  # as the parser reads it


class MimeTree:
    """The parsed mail; header questions about a part go to view(part), answered as under
    policy.default: by the part itself when its MIME headers are plain, else by a view."""

    def __init__(self, root: Message, *, compat32: bool) -> None:
        self.root = root
        self.compat32 = compat32
        self._views: dict[int, Message] = {}
        self._types: dict[int, str] = {}
        self._parts: list[Message] | None = None

    def view(self, part: Message) -> Message:
        view = self._views.get(id(part))
        if view is None:
            plain = self.compat32 and is_plain(part)
            view = self._views[id(part)] = part if plain else _View(part)
        return view

    def content_type(self, part: Message) -> str:
        ctype = self._types.get(id(part))
        if ctype is None:
            ctype = self._types[id(part)] = self.view(part).get_content_type()
        return ctype

    def parts(self) -> list[Message]:
        """All parts, depth first (Message.walk()), walked once."""
        if self._parts is None:
            self._parts = list(self.root.walk())
        return self._parts

    def built_as_default(self) -> bool:
        """Whether the parser made the tree policy.default would have made: the parser only
        looks at each part's type, boundary and transfer encoding."""
        for part in self.parts():
            view = self.view(part)
            if view is not part and (
                self.content_type(part) != part.get_content_type()
                or view.get_boundary() != part.get_boundary()
                or _transfer_encoding(view) != _transfer_encoding(part)
            ):
                return False
        return True


def read_tree(raw: bytes) -> MimeTree:
    with contextlib.suppress(Exception):  # where compat32 or a header fails, ask the default
        tree = MimeTree(_COMPAT32.parsebytes(raw), compat32=True)
        if tree.built_as_default():
            return tree
    return MimeTree(email.message_from_bytes(raw, policy=policy.default), compat32=False)
