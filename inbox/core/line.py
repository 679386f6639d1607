"""LINE's webhook, read without I/O: the events of a request body (already signature-checked)
as typed values, the text a message is stored with, and friends counted by day.

What is not a one-on-one conversation with a user (groups, rooms, a module channel in standby)
is left out: the desk answers people, one by one. A message's text is what she wrote; other
kinds are stored as a readable placeholder (a sticker as "[スタンプ]"), with the file listed
as an attachment, and a location as text only where the program allows it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from inbox.core.errors import ValidationError
from inbox.core.survey import SurveyAnswer

MAX_EVENTS = 100  # LINE sends far fewer per request; a bigger body is not LINE's
MAX_ID_CHARS = 64  # LINE's user ids are 33 characters, message ids ~18 digits
MAX_TOKEN_CHARS = 256

STICKER = "[スタンプ]"
PLACEHOLDERS = {
    "image": "[画像]",
    "video": "[動画]",
    "audio": "[音声]",
    "file": "[ファイル]",
    "location": "[位置情報]",
}
CONTENT_KINDS = frozenset({"image", "video", "audio", "file"})  # fetched from the content API
DEFAULT_NAMES = {"image": "image.jpg", "video": "video.mp4", "audio": "audio.m4a"}
DEFAULT_TYPES = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/m4a"}


class LocationPolicy(StrEnum):
    PLACEHOLDER = "placeholder"  # where she is may put her in danger: not kept
    TEXT = "text"  # the place's name, address and coordinates, as text


class Follow(StrEnum):
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    POSTBACK = "postback"


@dataclass(frozen=True, slots=True, kw_only=True)
class LineMessage:
    """A message event from a user. `kind`: text, sticker, image, video, audio, file, location,
    or another LINE may add (stored as a placeholder naming it)."""

    event_id: str
    message_id: str
    user_id: str
    at: datetime  # LINE's timestamp, aware UTC
    kind: str
    reply_token: str | None
    redelivery: bool
    position: int = 0  # its place among the body's events
    text: str = ""  # a text message's words
    file_name: str | None = None
    file_size: int | None = None
    external_content: bool = False  # contentProvider "external": LINE holds no content
    location: tuple[str, str, float, float] | None = None  # title, address, lat, lon


@dataclass(frozen=True, slots=True, kw_only=True)
class LineOther:
    """A follow, an unfollow or a postback from a user."""

    event_id: str
    kind: Follow
    user_id: str
    at: datetime
    reply_token: str | None
    data: str | None = None  # a postback's
    position: int = 0  # its place among the body's events


@dataclass(frozen=True, slots=True)
class Webhook:
    messages: tuple[LineMessage, ...]
    others: tuple[LineOther, ...]
    ignored: int  # events of groups, rooms, standby mode, or of kinds the desk has no use for

    def runs(self) -> list[tuple[LineMessage, ...] | tuple[LineOther, ...]]:
        """The events in body order, consecutive ones of a sort together: stored run by run,
        a follow before her message is applied before the message's auto-reply is queued."""
        ordered: list[LineMessage | LineOther] = sorted(
            (*self.messages, *self.others), key=lambda e: e.position
        )
        runs: list[list[LineMessage | LineOther]] = []
        for e in ordered:
            if runs and isinstance(runs[-1][0], LineMessage) == isinstance(e, LineMessage):
                runs[-1].append(e)
            else:
                runs.append([e])
        return [tuple(run) for run in runs]  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """A webhook event that is not a message, as stored (storage.line): by her keyed hash, never
    her id. `data`: a postback's (made by the program, not her words); None otherwise."""

    event_id: str
    kind: Follow
    at: datetime
    identity_hash: str
    data: str | None = None
    # A postback of the satisfaction survey: her answer, recorded once with the event (its data
    # and her identity are then not kept: the answer stays apart from her).
    survey: SurveyAnswer | None = None


@dataclass(frozen=True, slots=True)
class FriendsDay:
    day: date
    added: int
    lost: int


def parse_webhook(body: bytes) -> Webhook:
    """The events of a webhook body. ValidationError names what is wrong in it; an empty list
    of events (the LINE console's verification request) is a Webhook with none."""
    try:
        doc = json.loads(body)
    # ValueError covers JSONDecodeError, UnicodeDecodeError and an integer too long to read;
    # RecursionError, arrays nested past the interpreter's limit: all are a bad body, a 400.
    except (ValueError, RecursionError) as exc:
        raise ValidationError("not JSON", field="body") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise ValidationError("expected an object with a list of events", field="events")
    raw_events: list[Any] = doc["events"]
    if len(raw_events) > MAX_EVENTS:
        raise ValidationError(f"at most {MAX_EVENTS} events", field="events")
    messages: list[LineMessage] = []
    others: list[LineOther] = []
    ignored = 0
    for i, raw in enumerate(raw_events):
        where = f"events[{i}]"
        if not isinstance(raw, dict):
            raise ValidationError("expected an object", field=where)
        source = raw.get("source")
        kind = raw.get("type")
        if (
            raw.get("mode", "active") != "active"
            or not isinstance(source, dict)
            or source.get("type") != "user"
            or kind not in ("message", "follow", "unfollow", "postback")
        ):
            ignored += 1
            continue
        user_id = _text(source, "userId", f"{where}.source", MAX_ID_CHARS)
        event_id = _text(raw, "webhookEventId", where, MAX_ID_CHARS)
        at = _timestamp(raw, where)
        token = raw.get("replyToken")
        reply_token = (
            token if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS else None
        )
        if kind == "message":
            found = _message(raw, where, event_id, user_id, at, reply_token)
            messages.append(dataclasses.replace(found, position=i))
            continue
        data = None
        if kind == "postback":
            postback = raw.get("postback")
            if not isinstance(postback, dict):
                raise ValidationError("expected an object", field=f"{where}.postback")
            data = _text(postback, "data", f"{where}.postback", 300, empty=True)
        others.append(
            LineOther(
                event_id=event_id,
                kind=Follow(kind),
                user_id=user_id,
                at=at,
                reply_token=reply_token,
                data=data,
                position=i,
            )
        )
    return Webhook(tuple(messages), tuple(others), ignored)


def _message(
    raw: dict[str, Any],
    where: str,
    event_id: str,
    user_id: str,
    at: datetime,
    reply_token: str | None,
) -> LineMessage:
    msg = raw.get("message")
    if not isinstance(msg, dict):
        raise ValidationError("expected an object", field=f"{where}.message")
    at_msg = f"{where}.message"
    kind = _text(msg, "type", at_msg, 10_000)[:32]  # a type LINE adds later: named, not refused
    context = raw.get("deliveryContext")
    common: dict[str, Any] = {
        "event_id": event_id,
        "message_id": _text(msg, "id", at_msg, MAX_ID_CHARS),
        "user_id": user_id,
        "at": at,
        "kind": kind,
        "reply_token": reply_token,
        "redelivery": isinstance(context, dict) and context.get("isRedelivery") is True,
    }
    if kind == "text":
        return LineMessage(**common, text=_text(msg, "text", at_msg, 10_000))
    if kind == "file":
        size = msg.get("fileSize")
        return LineMessage(
            **common,
            # a long name is cut, not refused: the other events of the body would go with it
            file_name=_text(msg, "fileName", at_msg, 10_000, empty=True)[:255] or "file",
            file_size=(
                size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
            ),
        )
    if kind in ("image", "video", "audio"):
        provider = msg.get("contentProvider")
        external = isinstance(provider, dict) and provider.get("type") == "external"
        return LineMessage(**common, external_content=external)
    if kind == "location":
        lat, lon = _coordinate(msg, "latitude", at_msg), _coordinate(msg, "longitude", at_msg)
        title = msg.get("title")
        address = msg.get("address")
        return LineMessage(
            **common,
            location=(
                title if isinstance(title, str) else "",
                address if isinstance(address, str) else "",
                lat,
                lon,
            ),
        )
    return LineMessage(**common)


def message_text(msg: LineMessage, location: LocationPolicy) -> str:
    """What the message is stored as: her words, or a readable placeholder."""
    if msg.kind == "text":
        return msg.text
    if msg.kind == "sticker":
        return STICKER
    if msg.kind == "file":
        return f"{PLACEHOLDERS['file']} {msg.file_name}"
    if msg.kind == "location" and msg.location is not None:
        if location is LocationPolicy.PLACEHOLDER:
            return PLACEHOLDERS["location"]
        title, address, lat, lon = msg.location
        place = " ".join(p for p in (title, address) if p)
        return f"{PLACEHOLDERS['location']} {place} ({lat:.6f}, {lon:.6f})".replace("  ", " ")
    return PLACEHOLDERS.get(msg.kind, f"[{msg.kind}]")


def attachment_name(msg: LineMessage) -> str:
    return msg.file_name or DEFAULT_NAMES.get(msg.kind, "content")


def friends_by_day(rows: Sequence[tuple[str, datetime]], tz: ZoneInfo) -> list[FriendsDay]:
    """Follows and unfollows counted per local day, in day order; days with neither left out."""
    days: dict[date, list[int]] = {}
    for kind, at in rows:
        counts = days.setdefault(at.astimezone(tz).date(), [0, 0])
        counts[0 if kind == Follow.FOLLOW else 1] += 1
    return [FriendsDay(day, added, lost) for day, (added, lost) in sorted(days.items())]


def _text(obj: dict[str, Any], name: str, where: str, limit: int, *, empty: bool = False) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or (not empty and not value):
        raise ValidationError("required text", field=f"{where}.{name}")
    if len(value) > limit:
        raise ValidationError(f"at most {limit} characters", field=f"{where}.{name}")
    return value


def _timestamp(raw: dict[str, Any], where: str) -> datetime:
    ms = raw.get("timestamp")
    if not isinstance(ms, int) or isinstance(ms, bool) or not 0 < ms < 10**14:
        raise ValidationError("expected milliseconds since the epoch", field=f"{where}.timestamp")
    return datetime.fromtimestamp(ms / 1000, UTC)


def _coordinate(obj: dict[str, Any], name: str, where: str) -> float:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("expected a number", field=f"{where}.{name}")
    try:
        found = float(value)  # an int of 400 digits overflows
    except OverflowError:
        found = math.inf
    if not math.isfinite(found):
        raise ValidationError("expected a finite number", field=f"{where}.{name}")
    return found
