"""Row-to-model conversion shared by both stores; each passes how its driver gives times."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from inbox.core.model import (
    Anonymity,
    Attachment,
    ChannelKind,
    ContactFacts,
    Conversation,
    ConversationId,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Event,
    EventId,
    Message,
    MessageId,
    OutboundMessage,
    OutboxId,
    OutboxItem,
    Presence,
    Role,
    SurveyAsk,
    User,
    UserId,
    contact_alias,
)
from inbox.core.shifts import parse_shift

Row = Sequence[Any]
TimeParser = Callable[[Any], datetime]


def parse_text_time(value: Any) -> datetime:
    """SQLite keeps times as ISO-8601 UTC text (format_text_time): read with UTC as it is,
    without a conversion, since this runs for every time of every row read."""
    found = datetime.fromisoformat(value)
    return found if found.tzinfo is UTC else found.astimezone(UTC)


def format_text_time(value: datetime) -> str:
    """The text SQLite keeps a time as; fixed width, so text order is time order."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_native_time(value: Any) -> datetime:
    """asyncpg returns aware datetimes for timestamptz, in UTC: taken as they are, since this
    runs for every time of every row read (the deadline pass reads thousands)."""
    assert isinstance(value, datetime)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _opt_time(value: Any, parse: TimeParser) -> datetime | None:
    return None if value is None else parse(value)


def json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _tags(value: Any) -> tuple[str, ...]:
    """A conversation's tags, as text (both drivers give JSON as text) parsed once per distinct
    text: the queue reads 200 rows a page, and their tags are a few combinations."""
    return _parsed_tags(value) if isinstance(value, str) else tuple(value)


@lru_cache(maxsize=1024)
def _parsed_tags(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def conversation(row: Row, parse: TimeParser) -> Conversation:
    """Columns: storage.desk CONVERSATION_COLUMNS."""
    return Conversation(
        id=ConversationId(row[0]),
        contact_id=row[1],
        contact_alias=contact_alias(row[1]),
        channel=ChannelKind(row[2]),
        status=ConversationStatus(row[3]),
        priority=row[4],
        assignee_id=None if row[5] is None else UserId(row[5]),
        tags=_tags(row[6]),
        created_at=parse(row[7]),
        updated_at=parse(row[8]),
        last_inbound_at=_opt_time(row[9], parse),
        first_response_due=_opt_time(row[10], parse),
        next_response_due=_opt_time(row[11], parse),
        skill=row[12],
        team=row[13],
        offered_at=_opt_time(row[14], parse),
        opened_at=_opt_time(row[15], parse),
        closed_at=_opt_time(row[16], parse),
        outcome=row[17],
        outcome_note=row[18],
        consulter_read_message_id=None if row[19] is None else MessageId(row[19]),
    )


class ConversationRows:
    """Conversations made from rows, kept by the row's whole content: the queue reads the same
    200 rows for every console after every event, and a row that did not change is the same
    Conversation again (the same object, which the web layer's JSON of each row is keyed by).
    Content-keyed, so nothing kept is ever stale; the least recently read go past `size`."""

    def __init__(self, parse: TimeParser, *, size: int = 10_000) -> None:
        self._parse = parse
        self._size = size
        self._kept: OrderedDict[Row, Conversation] = OrderedDict()
        self._lists = False  # the rows hold lists (PostgreSQL)

    def __call__(self, row: Row) -> Conversation:
        if self._lists:  # a list in it (asyncpg gives the tags, jsonb, as one): as a tuple
            row = tuple(tuple(v) if isinstance(v, list) else v for v in row)
        try:
            found = self._kept.get(row)
        except TypeError:  # the first such row: convert every row from now on, not raise
            self._lists = True
            return self(row)
        if found is not None:
            self._kept.move_to_end(row)
            return found
        found = self._kept[row] = conversation(row, self._parse)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return found


def message(row: Row, parse: TimeParser) -> Message:
    """Columns: storage.desk MESSAGE_COLUMNS, then optionally the failure reason
    (storage.desk LIST_MESSAGES)."""
    return Message(
        id=MessageId(row[0]),
        conversation_id=ConversationId(row[1]),
        direction=Direction(row[2]),
        body=row[3],
        author_id=None if row[4] is None else UserId(row[4]),
        external_id=row[5],
        created_at=parse(row[6]),
        delivery_status=DeliveryStatus(row[7]),
        attachments=tuple(
            Attachment(
                filename=a["filename"],
                content_type=a["content_type"],
                size_bytes=a["size_bytes"],
                stored=a.get("stored", False),  # absent before schema 4: nothing was stored
            )
            for a in json_value(row[8])
        ),
        failure_reason=row[9] if len(row) > 9 else None,
    )


# Ids and positions come from URLs: one beyond the columns' range names nothing, and must not
# reach a driver, which fails on it (SQLite: OverflowError, asyncpg: DataError).
_BIGINT_MAX = 2**63 - 1
_INTEGER_MAX = 2**31 - 1


def id_fits(value: int) -> bool:
    """Whether an id can name a row at all (the id columns are 64-bit)."""
    return 0 <= value <= _BIGINT_MAX


def attachment_key_fits(message_id: int, position: int) -> bool:
    """Whether (messages.id, attachments.position) can name a row at all."""
    return id_fits(message_id) and 0 <= position <= _INTEGER_MAX


def attachment(row: Row) -> tuple[Attachment, bytes]:
    """Columns: storage.attachments GET_ATTACHMENT."""
    listed = Attachment(filename=row[0], content_type=row[1], size_bytes=int(row[2]), stored=True)
    return listed, bytes(row[3])


def user(row: Row, parse: TimeParser) -> User:
    """Columns: storage.*_sql USER_COLUMNS."""
    return User(
        id=UserId(row[0]),
        username=row[1],
        display_name=row[2],
        roles=frozenset(Role(r) for r in json_value(row[3])),
        skills=frozenset(json_value(row[4])),
        languages=frozenset(json_value(row[5])),
        capacity=row[6],
        disabled=bool(row[7]),
        created_at=_opt_time(row[8], parse),
        presence=Presence(row[9]),
        teams=frozenset(json_value(row[10])),
        channel_capacity=channel_capacity(row[11]),
        shift=None if row[12] is None else parse_shift(json_value(row[12]), "users.shift"),
        must_change_password=bool(row[13]),
    )


def channel_capacity(value: Any) -> tuple[tuple[ChannelKind, int], ...]:
    """The users.channel_capacity JSON object as sorted pairs."""
    return tuple(sorted((ChannelKind(k), int(v)) for k, v in json_value(value).items()))


def outbox_item(row: Row, parse: TimeParser) -> OutboxItem:
    """Columns: storage.outbox OUTBOX_ITEMS."""
    return OutboxItem(
        outbox_id=OutboxId(row[0]),
        attempts=int(row[1]),
        message=OutboundMessage(
            message_id=MessageId(row[2]),
            conversation_id=ConversationId(row[3]),
            channel=ChannelKind(row[4]),
            recipient=row[5],
            body=row[6],
            discreet=bool(row[7]),
            automatic=bool(row[8]),
            created_at=parse(row[9]),
            outbox_id=OutboxId(row[0]),
            survey=None if row[11] is None else SurveyAsk(str(row[11])),
        ),
        opted_out=bool(row[10]),
    )


def event(row: Row, parse: TimeParser) -> Event:
    return Event(
        id=EventId(row[0]),
        at=parse(row[1]),
        kind=row[2],
        actor_id=None if row[3] is None else UserId(row[3]),
        conversation_id=None if row[4] is None else ConversationId(row[4]),
        message_id=None if row[5] is None else MessageId(row[5]),
        data=dict(json_value(row[6])),
    )


def facts_from_row(anonymity: str | None, discretion: object, returning: object) -> ContactFacts:
    """A contact_facts row (SQLite gives 0/1 where PostgreSQL gives booleans)."""
    return ContactFacts(
        returning=bool(returning),
        discretion=bool(discretion),
        anonymity=None if anonymity is None else Anonymity(anonymity),
    )
